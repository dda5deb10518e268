package storage

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/tags"
	"github.com/azlin-dev/azlin/internal/testjson"
)

// SetLayout on recorded az output: it reads the account, then writes all its
// tags back with the layout's, since `az storage account update --tags`
// replaces the whole set.

// layoutStorage is the Storage that Find gives for premiumAccount.
func layoutStorage() *Storage {
	return &Storage{Name: testName, Account: testAcct, ResourceGroup: testRG, Layout: DefaultLayout}
}

// withTags adds tags to the account's (a value nil removes the tag).
func withTags(t *testing.T, kv map[string]any) func(map[string]any) {
	return func(m map[string]any) {
		tags := testjson.Obj(t, m, "tags")
		for k, v := range kv {
			if v == nil {
				delete(tags, k)
			} else {
				tags[k] = v
			}
		}
	}
}

// tagUpdate is the update SetLayout sends for premiumAccount's azlin tags,
// sorted, with the given other tags (already sorted in among them) and the
// layout last.
func tagUpdate(tags ...string) []string {
	return append([]string{"storage", "account", "update", "-g", "rg", "-n", testAcct, "--tags"}, tags...)
}

func TestSetLayoutWritesEveryTagBackWithTheNewLayout(t *testing.T) {
	// The user's own tags (one with a space, one with an empty value) and
	// the old layout: every other tag is kept, the layout replaced.
	acct := premiumAccount(t, withTags(t, map[string]any{"cost-center": "team a", "owner": "", tags.Layout: "developer"}))
	f := aztest.New(t,
		ok(argvAcctShow, js(t, acct)),
		mutation(tagUpdate(
			"azlin-created=2026-01-02T03:04:05Z", "azlin-managed=true", "azlin-network=private-endpoint",
			"azlin-size-gib=100", "azlin-storage=shared-dev", "azlin-tier=Premium",
			"cost-center=team a", "owner=",
			"azlin-layout=minimal")...),
	)
	st := layoutStorage()
	require.NoError(t, newManager(t, f, nil).SetLayout(context.Background(), st, "minimal"))
	assert.Equal(t, "minimal", st.Layout, "the Storage says what was recorded")
	assert.Len(t, f.Calls(), 2)
}

func TestSetLayoutRecordsTheDefaultWhenNoTagSaysIt(t *testing.T) {
	// No tag means "developer"; asking for it records it, so the tag says it.
	f := aztest.New(t,
		ok(argvAcctShow, js(t, premiumAccount(t))),
		mutation(tagUpdate(
			"azlin-created=2026-01-02T03:04:05Z", "azlin-managed=true", "azlin-network=private-endpoint",
			"azlin-size-gib=100", "azlin-storage=shared-dev", "azlin-tier=Premium",
			"azlin-layout=developer")...),
	)
	require.NoError(t, newManager(t, f, nil).SetLayout(context.Background(), layoutStorage(), "developer"))
}

func TestSetLayoutUnchangedWritesNothing(t *testing.T) {
	f := aztest.New(t, ok(argvAcctShow, js(t, premiumAccount(t, withTags(t, map[string]any{tags.Layout: "minimal"})))))
	st := layoutStorage()
	st.Layout = "minimal"
	require.NoError(t, newManager(t, f, nil).SetLayout(context.Background(), st, "minimal"))
	assert.Equal(t, [][]string{argvAcctShow}, f.Calls(), "a read, no update")
}

func TestSetLayoutUpdateFailureIsAnErrorAndChangesNothing(t *testing.T) {
	msg := "The client 'dev@example.com' with object id '0b9a4f7e-1c2d-4e3f-9a8b-7c6d5e4f3a2b' does not have authorization to perform action " +
		"'Microsoft.Storage/storageAccounts/write' over scope '/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct +
		"' or the scope is invalid. If access was recently granted, please refresh your credentials."
	f := aztest.New(t,
		ok(argvAcctShow, js(t, premiumAccount(t))),
		azErr(tagUpdate(
			"azlin-created=2026-01-02T03:04:05Z", "azlin-managed=true", "azlin-network=private-endpoint",
			"azlin-size-gib=100", "azlin-storage=shared-dev", "azlin-tier=Premium",
			"azlin-layout=minimal"), 1, "AuthorizationFailed", msg),
	)
	st := layoutStorage()
	err := newManager(t, f, nil).SetLayout(context.Background(), st, "minimal")
	require.Error(t, err)
	assert.ErrorIs(t, err, azcli.ErrAuthorization)
	assert.Equal(t, "recording layout minimal on storage shared-dev (account "+testAcct+"): az storage account update failed: (AuthorizationFailed) "+msg,
		err.Error())
	assert.Equal(t, DefaultLayout, st.Layout, "the Storage keeps the layout it had")
}

func TestSetLayoutReadFailures(t *testing.T) {
	t.Run("account gone", func(t *testing.T) {
		f := aztest.New(t, notFound(t, argvAcctShow, "Microsoft.Storage/storageAccounts/"+testAcct))
		err := newManager(t, f, nil).SetLayout(context.Background(), layoutStorage(), "minimal")
		var nf *NotFoundError
		require.ErrorAs(t, err, &nf)
		assert.Equal(t, "no storage named shared-dev in resource group rg (it has none). Create it with: azlin storage create shared-dev -g rg", err.Error())
		assert.Len(t, f.Calls(), 1, "no update")
	})
	t.Run("read refused", func(t *testing.T) {
		f := aztest.New(t, azErr(argvAcctShow, 1, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.Storage/storageAccounts/read'."))
		err := newManager(t, f, nil).SetLayout(context.Background(), layoutStorage(), "minimal")
		require.Error(t, err)
		assert.ErrorIs(t, err, azcli.ErrAuthorization)
		assert.Contains(t, err.Error(), "reading storage account "+testAcct+": az storage account show")
		assert.Len(t, f.Calls(), 1, "no update")
	})
}

func TestSetLayoutDryRunPrintsTheUpdate(t *testing.T) {
	var out bytes.Buffer
	f := aztest.New(t, ok(argvAcctShow, js(t, premiumAccount(t)))) // the update must not reach az
	require.NoError(t, newManager(t, f, &out).SetLayout(context.Background(), layoutStorage(), "minimal"))
	assert.Contains(t, out.String(), "az storage account update -g rg -n "+testAcct+" --tags azlin-created=2026-01-02T03:04:05Z azlin-managed=true")
	assert.Contains(t, out.String(), "azlin-tier=Premium azlin-layout=minimal")
}
