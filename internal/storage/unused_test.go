package storage

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/clierr"
	"github.com/azlin-dev/azlin/internal/tags"
)

func TestUnusedSinceIsTheTagElseTheCreationTime(t *testing.T) {
	a := account{CreationTime: "2025-11-05T04:15:55.572302+00:00", Tags: map[string]string{tags.Created: "2025-11-05T04:20:00Z"}}
	assert.Nil(t, a.unused([]string{"vm"}), "in use")
	assert.Equal(t, &Unused{Since: "2025-11-05T04:15:55Z", SinceCreated: true}, a.unused(nil), "no record: the account's creationTime")

	a.Tags[tags.UnusedSince] = "2025-12-01T10:00:00Z"
	assert.Equal(t, &Unused{Since: "2025-12-01T10:00:00Z"}, a.unused(nil), "the record")

	b := account{Tags: map[string]string{tags.Created: "2025-11-05T04:20:00Z", tags.UnusedSince: "not a time"}}
	assert.Equal(t, &Unused{Since: "2025-11-05T04:20:00Z", SinceCreated: true}, b.unused(nil), "no creationTime: azlin's own creation tag")

	none := account{}
	u := none.unused(nil)
	_, known := u.For(time.Now())
	assert.False(t, known, "no time at all: unknown, never listed")
	assert.Equal(t, "since created an unknown time", u.Text())
}

func TestUnusedForAndText(t *testing.T) {
	u := &Unused{Since: "2025-12-01T10:00:00Z"}
	d, ok := u.For(time.Date(2025, 12, 15, 10, 0, 0, 0, time.UTC))
	require.True(t, ok)
	assert.Equal(t, 14*24*time.Hour, d)
	d, _ = u.For(time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC))
	assert.Zero(t, d, "a clock behind Azure's counts as now")
	assert.Equal(t, "since 2025-12-01 10:00 UTC", u.Text())
	assert.Equal(t, "since created 2025-12-01 10:00 UTC", (&Unused{Since: u.Since, SinceCreated: true}).Text())
	var inUse *Unused
	_, ok = inUse.For(time.Now())
	assert.False(t, ok)
}

func TestParseUnusedForRefusesWhatIsNotADuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "0": 0, "36h": 36 * time.Hour, "1h30m": 90 * time.Minute} {
		d, err := ParseUnusedFor(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d, in)
	}
	for _, in := range []string{"", "d", "2w", "-1d", "-3h", "1.5d", "14 d", "fortnight", "999999999d"} {
		_, err := ParseUnusedFor(in)
		assert.True(t, clierr.IsUsage(err), "%q: %v", in, err)
	}
}

func TestNoteVMArrivedWithoutARecordCallsNothing(t *testing.T) {
	f := aztest.New(t)
	require.NoError(t, newManager(t, f, nil).NoteVMArrived(context.Background(), &Storage{Name: testName}))
	assert.Empty(t, f.Calls())
}

func TestNoteVMLeftOnAStorageThatIsGoneDoesNothing(t *testing.T) {
	f := aztest.New(t,
		ok([]string{"storage", "account", "list", "-g", "rg"}, "[]"),
		ok([]string{"vm", "list", "-g", "rg"}, "[]"))
	require.NoError(t, newManager(t, f, nil).NoteVMLeft(context.Background(), "rg", testName, "vm"))
	assert.Len(t, f.Calls(), 2, "the reads only")
}

func TestNoteVMLeftTagsTheAccountWithTheTime(t *testing.T) {
	id := "/subscriptions/" + testSub + "/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + testAcct
	f := aztest.New(t,
		ok([]string{"storage", "account", "list", "-g", "rg"}, js(t, []any{premiumAccount(t)})),
		ok([]string{"vm", "list", "-g", "rg"}, "[]"),
		mutation("tag", "update", "--resource-id", id, "--operation", "Merge", "--tags", "azlin-unused-since=2026-01-02T03:04:05Z"))
	require.NoError(t, newManager(t, f, nil).NoteVMLeft(context.Background(), "rg", testName, "vm"))
}
