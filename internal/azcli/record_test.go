package azcli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// Record mode writes each call as a line a fixture can be made of, with no
// secret, GUID or user name of the caller's in it, and ids still matching
// between calls.
func TestRecorderWritesScrubbedCalls(t *testing.T) {
	const sub = "9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203"
	fake := aztest.New(t,
		aztest.Call{Argv: []string{"account", "show"}, Stdout: `{"id": "` + sub + `", "user": {"name": "dev@contoso.com"}}`},
		aztest.Call{Argv: []string{"storage", "account", "keys", "list", "--ids", "/subscriptions/" + sub + "/x"}, Stdout: `[{"keyName": "key1", "value": "c2VjcmV0"}]`},
	)
	dir := t.TempDir()
	c := azcli.New(&azcli.Recorder{Runner: fake, Dir: dir}, azcli.Options{})
	require.NoError(t, c.Read(context.Background(), nil, "account", "show"))
	require.NoError(t, c.Read(context.Background(), nil, "storage", "account", "keys", "list", "--ids", "/subscriptions/"+sub+"/x"))

	f, err := os.Open(filepath.Join(dir, azcli.RecordFile))
	require.NoError(t, err)
	defer f.Close()
	var calls []azcli.RecordedCall
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rc azcli.RecordedCall
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rc))
		calls = append(calls, rc)
	}
	require.Len(t, calls, 2)
	all := calls[0].Stdout + strings.Join(calls[1].Argv, " ") + calls[1].Stdout
	assert.NotContains(t, all, sub)
	assert.NotContains(t, all, "dev@contoso.com")
	assert.NotContains(t, all, "c2VjcmV0")
	assert.Contains(t, calls[0].Stdout, "user@example.com")
	var acct struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(calls[0].Stdout), &acct))
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, acct.ID)
	assert.Contains(t, calls[1].Argv[5], "/subscriptions/"+acct.ID+"/", "the same id scrubs the same way everywhere")
	assert.Equal(t, []string{"account", "show", "--output", "json", "--only-show-errors"}, calls[0].Argv)
	assert.NotEmpty(t, calls[0].Start)
}
