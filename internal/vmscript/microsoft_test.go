package vmscript

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The key the script installs is Microsoft's: its OpenPGP v4 fingerprint (the
// SHA-1 of 0x99, the public-key packet's 2-byte length and its body, RFC 4880
// section 12.2) is the one Microsoft publishes.
func TestMicrosoftKeyFingerprint(t *testing.T) {
	bin, err := base64.StdEncoding.DecodeString(microsoftKeyBinary())
	require.NoError(t, err)
	require.Equal(t, byte(0x99), bin[0], "an old-format public-key packet with a 2-byte length")
	n := int(bin[1])<<8 | int(bin[2])
	h := sha1.New()
	h.Write([]byte{0x99, bin[1], bin[2]})
	h.Write(bin[3 : 3+n])
	assert.Equal(t, "bc528686b50d79e339d3721ceb3e94adbe1229cf", hex.EncodeToString(h.Sum(nil)))
	assert.Len(t, bin, 640, "the key packet, its user id and Microsoft's self-signature")
}
