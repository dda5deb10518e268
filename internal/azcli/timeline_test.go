package azcli_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// sleepyRunner answers every call after d, counting the calls alive at once.
type sleepyRunner struct {
	d          time.Duration
	live, peak atomic.Int32
}

func (r *sleepyRunner) Run(ctx context.Context, args []string) (azcli.Result, error) {
	n := r.live.Add(1)
	defer r.live.Add(-1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	select {
	case <-time.After(r.d):
	case <-ctx.Done():
		return azcli.Result{ExitCode: -1}, ctx.Err()
	}
	return azcli.Result{Stdout: []byte("{}")}, nil
}

func TestDebugTimelineShowsWhichCallsOverlapped(t *testing.T) {
	var debug bytes.Buffer
	c := azcli.New(&sleepyRunner{d: 50 * time.Millisecond}, azcli.Options{Debug: &debug})
	var wg sync.WaitGroup
	for _, vm := range []string{"vm1", "vm2"} {
		wg.Go(func() { require.NoError(t, c.Read(context.Background(), nil, "vm", "show", "-n", vm)) })
	}
	wg.Wait()
	require.NoError(t, c.Read(context.Background(), nil, "storage", "account", "list"))
	var out bytes.Buffer
	c.WriteTimeline(&out)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	assert.Regexp(t, `^# az timeline: 3 calls in 2 rounds, at most 2 at once; `, lines[0])
	// Both VM reads ran at once; the list came after them, alone.
	assert.Regexp(t, `^#\s+\+0\.0\d\ds\s+0\.0\d\ds\s+[12]\s+\|=+ +\|  az vm show -n vm[12]$`, lines[2])
	assert.Regexp(t, `^#\s+\+0\.0\d\ds\s+0\.0\d\ds\s+2\s+\|=+ +\|  az vm show -n vm[12]$`, lines[3])
	assert.Regexp(t, `^#\s+\+0\.\d+s\s+0\.0\d\ds\s+1\s+\| +=+\|  az storage account list$`, lines[4])
}

func TestNoTimelineWithoutDebug(t *testing.T) {
	c := azcli.New(&sleepyRunner{}, azcli.Options{})
	require.NoError(t, c.Read(context.Background(), nil, "vm", "list"))
	var out bytes.Buffer
	c.WriteTimeline(&out)
	assert.Empty(t, out.String())
}

func TestAzProcessesAliveAtOnceAreBounded(t *testing.T) {
	r := &sleepyRunner{d: 10 * time.Millisecond}
	c := azcli.New(r, azcli.Options{MaxProcs: 4})
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() { assert.NoError(t, c.Read(context.Background(), nil, "vm", "list")) })
	}
	wg.Wait()
	assert.Equal(t, int32(4), r.peak.Load(), "never more than MaxProcs, and the bound is used")
}

func TestACallWaitingForAProcessSlotStopsWithItsContext(t *testing.T) {
	r := &sleepyRunner{d: time.Hour}
	c := azcli.New(r, azcli.Options{MaxProcs: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = c.Read(ctx, nil, "vm", "list") }() // holds the only slot
	for r.live.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	waiting, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	err := c.Read(waiting, nil, "vm", "show", "-n", "x")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "az vm show not started")
	cancel()
}

func TestRoundsCountsCallsOneAfterTheOther(t *testing.T) {
	t0 := time.Now()
	at := func(from, to int) azcli.Span {
		return azcli.Span{Start: t0.Add(time.Duration(from) * time.Second), End: t0.Add(time.Duration(to) * time.Second)}
	}
	assert.Equal(t, 0, azcli.Rounds(nil))
	assert.Equal(t, 1, azcli.Rounds([]azcli.Span{at(0, 1), at(0, 1), at(0, 2)}))
	assert.Equal(t, 2, azcli.Rounds([]azcli.Span{at(0, 1), at(0, 2), at(1, 2)}))
	assert.Equal(t, 3, azcli.Rounds([]azcli.Span{at(0, 1), at(1, 2), at(2, 3), at(0, 3)}))
	assert.Equal(t, []int{1, 2, 2}, azcli.AtOnce([]azcli.Span{at(0, 2), at(1, 3), at(2, 4)}))
}
