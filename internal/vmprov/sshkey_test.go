package vmprov

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnsureKeyPairCreatesOnceAndNeverOverwrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "azlin_ed25519")

	k, created, err := EnsureKeyPair(ctx, path)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, KeyPair{Private: path, Public: path + ".pub"}, k)
	assertMode(t, k.Private, 0o600)
	assertMode(t, k.Public, 0o644)
	pub, err := os.ReadFile(k.Public)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(pub), "ssh-ed25519 "), "an ed25519 key: %s", pub)
	priv, err := os.ReadFile(k.Private)
	require.NoError(t, err)

	_, created, err = EnsureKeyPair(ctx, path)
	require.NoError(t, err)
	assert.False(t, created)
	again, _ := os.ReadFile(k.Private)
	assert.Equal(t, priv, again, "an existing key is never replaced")

	// A lost .pub is derived from the private key, which stays as it was.
	require.NoError(t, os.Remove(k.Public))
	_, created, err = EnsureKeyPair(ctx, path)
	require.NoError(t, err)
	assert.False(t, created)
	derived, err := os.ReadFile(k.Public)
	require.NoError(t, err)
	assert.Equal(t, strings.Fields(string(pub))[1], strings.Fields(string(derived))[1])
	again, _ = os.ReadFile(k.Private)
	assert.Equal(t, priv, again)
}

func TestEnsureKeyPairRefusesPublicKeyWithoutPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(path+".pub", []byte("ssh-ed25519 AAAA someone\n"), 0o644))
	_, _, err := EnsureKeyPair(context.Background(), path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "private key")
	_, statErr := os.Stat(path)
	assert.True(t, os.IsNotExist(statErr), "no new private key may be made next to a foreign .pub")
	pub, _ := os.ReadFile(path + ".pub")
	assert.Equal(t, "ssh-ed25519 AAAA someone\n", string(pub))
}

func assertMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, want, fi.Mode().Perm(), path)
}
