package vmscript

import (
	"strings"
)

// microsoftKey is the public key that signs Microsoft's Linux package
// repository (packages.microsoft.com), where the AZNFS mount helper comes
// from: "Microsoft (Release signing) <gpgsecurity@microsoft.com>",
// fingerprint BC52 8686 B50D 79E3 39D3 721C EB3E 94AD BE12 29CF, as Microsoft
// publishes it (https://packages.microsoft.com/keys/microsoft.asc). The
// attach script installs it where Microsoft's packages-microsoft-prod package
// does (/usr/share/keyrings/microsoft-prod.gpg), so that no download is
// needed to trust the repository; TestMicrosoftKeyFingerprint checks it.
const microsoftKey = `-----BEGIN PGP PUBLIC KEY BLOCK-----
Version: BSN Pgp v1.1.0.0

mQENBFYxWIwBCADAKoZhZlJxGNGWzqV+1OG1xiQeoowKhssGAKvd+buXCGISZJwT
LXZqIcIiLP7pqdcZWtE9bSc7yBY2MalDp9Liu0KekywQ6VVX1T72NPf5Ev6x6DLV
7aVWsCzUAF+eb7DC9fPuFLEdxmOEYoPjzrQ7cCnSV4JQxAqhU4T6OjbvRazGl3ag
OeizPXmRljMtUUttHQZnRhtlzkmwIrUivbfFPD+fEoHJ1+uIdfOzZX8/oKHKLe2j
H632kvsNzJFlROVvGLYAk2WRcLu+RjjggixhwiB+Mu/A8Tf4V6b+YppS44q8EvVr
M+QvY7LNSOffSO6Slsy9oisGTdfE39nC7pVRABEBAAG0N01pY3Jvc29mdCAoUmVs
ZWFzZSBzaWduaW5nKSA8Z3Bnc2VjdXJpdHlAbWljcm9zb2Z0LmNvbT6JATQEEwEI
AB4FAlYxWIwCGwMGCwkIBwMCAxUIAwMWAgECHgECF4AACgkQ6z6Urb4SKc+P9gf/
diY2900wvWEgV7iMgrtGzx79W/PbwWiOkKoD9sdzhARXWiP8Q5teL/t5TUH6TZ3B
ENboDjwr705jLLPwuEDtPI9jz4kvdT86JwwG6N8gnWM8Ldi56SdJEtXrzwtlB/Fe
6tyfMT1E/PrJfgALUG9MWTIJkc0GhRJoyPpGZ6YWSLGXnk4c0HltYKDFR7q4wtI8
4cBu4mjZHZbxIO6r8Cci+xxuJkpOTIpr4pdpQKpECM6x5SaT2gVnscbN0PE19KK9
nPsBxyK4wW0AvAhed2qldBPTipgzPhqB2gu0jSryil95bKrSmlYJd1Y1XfNHno5D
xfn5JwgySBIdWWvtOI05gw==
=zPfd
-----END PGP PUBLIC KEY BLOCK-----
`

// microsoftKeyBinary is microsoftKey without its ASCII armor, in base64: the
// body of the armor, which the script decodes with base64 -d into the binary
// keyring apt reads (gpg --dearmor does the same).
func microsoftKeyBinary() string {
	var body strings.Builder
	inBody := false
	for _, line := range strings.Split(microsoftKey, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "-----"):
		case !inBody:
			inBody = line == "" // the armor headers end at the first blank line
		case strings.HasPrefix(line, "="): // the checksum
		default:
			body.WriteString(line)
		}
	}
	return body.String()
}
