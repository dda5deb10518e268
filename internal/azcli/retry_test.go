package azcli_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
)

// sleeps records the waits a RetryPolicy asks for, instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(d time.Duration) { s.mu.Lock(); s.d = append(s.d, d); s.mu.Unlock() }

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func repeat(c aztest.Call, n int) []aztest.Call {
	out := make([]aztest.Call, n)
	for i := range out {
		out[i] = c
	}
	return out
}

func sample(t *testing.T, file string, i int) aztest.Call {
	return fixtureCalls(t, "testdata/errors/"+file+".json")[i]
}

func TestTransientFailureIsRetriedUpToTheBoundWithBackoff(t *testing.T) {
	throttled := sample(t, "throttled", 0)
	fake := aztest.New(t, repeat(throttled, 5)...)
	var s sleeps
	client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 6 * time.Second, Sleep: s.sleep}})

	err := client.Read(context.Background(), nil, throttled.Argv...)

	assert.ErrorIs(t, err, azcli.ErrThrottled)
	assert.Contains(t, err.Error(), "az vm list failed (tried 5 times): (TooManyRequests)")
	assert.Len(t, fake.Calls(), 5, "az is run MaxAttempts times")
	got := s.all()
	require.Len(t, got, 4, "one wait between each two tries")
	// Exponential (1s, 2s, 4s, then capped at 6s) with jitter in the upper half.
	for i, ceiling := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 6 * time.Second} {
		assert.GreaterOrEqual(t, got[i], ceiling/2, "wait %d", i+1)
		assert.LessOrEqual(t, got[i], ceiling, "wait %d", i+1)
	}
}

func TestEveryTransientClassIsRetriedUntilItSucceeds(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail aztest.Call
	}{
		{"throttled 429", sample(t, "throttled", 0)},
		{"ARM throttling", sample(t, "throttled", 1)},
		{"server 500", sample(t, "server", 0)},
		{"service unavailable", sample(t, "server", 1)},
		{"another operation in progress", sample(t, "conflict", 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok := tc.fail
			ok.Exit, ok.Stderr, ok.Stdout = 0, "", `{"name":"x"}`
			fake := aztest.New(t, tc.fail, tc.fail, ok)
			var s sleeps
			client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 4, Sleep: s.sleep}})
			var out struct{ Name string }
			// Mutate: changes are retried too.
			require.NoError(t, client.Mutate(context.Background(), &out, tc.fail.Argv...))
			assert.Equal(t, "x", out.Name)
			assert.Len(t, fake.Calls(), 3)
			assert.Len(t, s.all(), 2)
		})
	}
}

func TestNonTransientFailureIsNotRetried(t *testing.T) {
	for _, tc := range []struct {
		file  string
		index int
	}{
		{"not-found", 0}, {"resource-group-not-found", 0}, {"authorization", 0}, {"not-logged-in", 0},
		{"invalid-argument", 0}, {"already-exists", 0}, {"quota-exceeded", 0},
		{"conflict", 1}, // a Conflict that is not "in progress"
		{"generic", 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c := sample(t, tc.file, tc.index)
			fake := aztest.New(t, c) // a second call would fail the test as unexpected
			var s sleeps
			client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 4, Sleep: s.sleep}})
			err := client.Mutate(context.Background(), nil, c.Argv...)
			var azErr *azcli.Error
			require.ErrorAs(t, err, &azErr)
			assert.Equal(t, 1, azErr.Attempts)
			assert.NotContains(t, err.Error(), "tried")
			assert.Len(t, fake.Calls(), 1)
			assert.Empty(t, s.all())
			assert.False(t, azcli.IsTransient(err))
		})
	}
}

func TestRetryWaitStopsWhenTheContextIsCancelled(t *testing.T) {
	throttled := sample(t, "throttled", 0)
	fake := aztest.New(t, throttled)
	client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Hour, MaxDelay: time.Hour}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := client.Read(ctx, nil, throttled.Argv...)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, azcli.ErrThrottled, "the error still says what az said")
	assert.Len(t, fake.Calls(), 1)
}

func TestDefaultRetryPolicyRetries(t *testing.T) {
	server := sample(t, "server", 0)
	fake := aztest.New(t, repeat(server, azcli.DefaultRetry.MaxAttempts)...)
	var s sleeps
	client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{Sleep: s.sleep}}) // only Sleep set: defaults for the rest
	err := client.Read(context.Background(), nil, server.Argv...)
	assert.True(t, errors.Is(err, azcli.ErrServer))
	assert.Len(t, fake.Calls(), azcli.DefaultRetry.MaxAttempts)
	assert.Len(t, s.all(), azcli.DefaultRetry.MaxAttempts-1)
}

// A context can carry a longer retry and timeout for its calls (run-command's
// Conflicts last longer than other calls' retries); the Client's own Sleep
// still does the waiting, and calls with other contexts keep the defaults.
func TestCallOptionsOverrideRetryAndTimeoutForOneContext(t *testing.T) {
	throttled := sample(t, "throttled", 0)
	fake := aztest.New(t, repeat(throttled, 12)...)
	var s sleeps
	client := azcli.New(fake, azcli.Options{Retry: azcli.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: time.Second, Sleep: s.sleep}})

	long := azcli.WithCallOptions(context.Background(), azcli.CallOptions{Retry: azcli.RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Second, MaxDelay: 30 * time.Second}})
	err := client.Read(long, nil, throttled.Argv...)
	assert.ErrorIs(t, err, azcli.ErrThrottled)
	assert.Len(t, fake.Calls(), 10)
	got := s.all()
	require.Len(t, got, 9)
	assert.GreaterOrEqual(t, got[0], 2500*time.Millisecond, "the context's base delay")
	assert.LessOrEqual(t, got[8], 30*time.Second, "the context's cap")

	err = client.Read(context.Background(), nil, throttled.Argv...)
	assert.ErrorIs(t, err, azcli.ErrThrottled)
	assert.Len(t, fake.Calls(), 12, "another context keeps the Client's 2 tries")
}

// A context's timeout bounds each of its az calls.
func TestCallOptionsTimeoutBoundsTheCall(t *testing.T) {
	client := azcli.New(blockingRunner{}, azcli.Options{Timeout: time.Hour})
	ctx := azcli.WithCallOptions(context.Background(), azcli.CallOptions{Timeout: 50 * time.Millisecond})
	err := client.Read(ctx, nil, "vm", "list")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "gave no answer within 50ms")
}

// blockingRunner is an az that never answers before its context ends.
type blockingRunner struct{}

func (blockingRunner) Run(ctx context.Context, _ []string) (azcli.Result, error) {
	<-ctx.Done()
	return azcli.Result{}, ctx.Err()
}
