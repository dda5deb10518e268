package azcli_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// gatedRunner holds `az account show` until release is closed and answers
// every other call at once, logging the order calls started and ended in.
type gatedRunner struct {
	release  chan struct{}
	loggedIn bool

	mu  sync.Mutex
	log []string
}

func (g *gatedRunner) note(s string) { g.mu.Lock(); g.log = append(g.log, s); g.mu.Unlock() }

func (g *gatedRunner) events() []string { g.mu.Lock(); defer g.mu.Unlock(); return slices.Clone(g.log) }

func (g *gatedRunner) Run(ctx context.Context, args []string) (azcli.Result, error) {
	cmd := args[0] + " " + args[1]
	g.note("start " + cmd)
	defer g.note("end " + cmd)
	if cmd == "account show" {
		select {
		case <-g.release:
		case <-ctx.Done():
			return azcli.Result{ExitCode: -1}, ctx.Err()
		}
		if !g.loggedIn {
			return azcli.Result{ExitCode: 1, Stderr: []byte("ERROR: Please run 'az login' to setup account.\n")}, nil
		}
		return azcli.Result{Stdout: []byte(`{"id":"sub-1","name":"Dev"}`)}, nil
	}
	if !g.loggedIn {
		return azcli.Result{ExitCode: 1, Stderr: []byte("ERROR: Please run 'az login' to setup account.\n")}, nil
	}
	return azcli.Result{Stdout: []byte(`[]`)}, nil
}

func TestReadRunsBesideTheLoginCheck(t *testing.T) {
	g := &gatedRunner{release: make(chan struct{}), loggedIn: true}
	c := azcli.New(g, azcli.Options{})
	c.StartLoginCheck(context.Background())
	var out []any
	// The login check is held: the read finishing proves it did not wait.
	require.NoError(t, c.Read(context.Background(), &out, "vm", "list"))
	close(g.release)
	acct, err := c.EnsureLoggedIn(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "sub-1", acct.ID)
	ev := g.events()
	assert.Less(t, slices.Index(ev, "end vm list"), slices.Index(ev, "end account show"), "events: %v", ev)
}

func TestMutateWaitsForTheLoginCheck(t *testing.T) {
	g := &gatedRunner{release: make(chan struct{}), loggedIn: true}
	c := azcli.New(g, azcli.Options{})
	c.StartLoginCheck(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Mutate(context.Background(), nil, "group", "create", "-n", "rg") }()
	select {
	case err := <-done:
		t.Fatalf("the mutation ran before the login check answered: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(g.release)
	require.NoError(t, <-done)
	assert.Equal(t, []string{"start account show", "end account show", "start group create", "end group create"}, g.events())
}

func TestFailedReadReportsTheLoginCheckFailure(t *testing.T) {
	g := &gatedRunner{release: make(chan struct{})}
	close(g.release)
	c := azcli.New(g, azcli.Options{})
	c.StartLoginCheck(context.Background())
	err := c.Read(context.Background(), nil, "vm", "list")
	assert.ErrorIs(t, err, azcli.ErrNotLoggedIn)
	assert.EqualError(t, err, "az account show failed: Please run 'az login' to setup account.")
	// Nothing is changed when the login check failed.
	err = c.Mutate(context.Background(), nil, "group", "create", "-n", "rg")
	assert.ErrorIs(t, err, azcli.ErrNotLoggedIn)
	c.WaitLoginCheck()
	assert.NotContains(t, g.events(), "start group create")
}
