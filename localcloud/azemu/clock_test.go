package azemu_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// figure is a call's floor on the azure profile: az's start (1.5 s) plus the
// command's figure, times the scale (localcloud/azemu/clock.go).
func figure(seconds, scale float64) time.Duration {
	return time.Duration((1.5 + seconds) * scale * float64(time.Second))
}

// timed runs a call that must succeed and returns how long it took.
func (c *cloud) timed(args ...string) time.Duration {
	c.t.Helper()
	began := time.Now()
	c.ok(args...)
	return time.Since(began)
}

func vmCreate(name string) []string {
	return []string{"vm", "create", "-g", "rg", "-n", name, "--image", "Ubuntu2204", "--ssh-key-values", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFAKE me", "-o", "none"}
}

// On the azure profile a VM create takes what it takes on Azure (about a
// minute; 65 s here), times AZEMU_TIME_SCALE. Only lower bounds: a busy
// machine may be slower, never faster.
func TestAzureClockVMCreateTakesItsFigure(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_PROFILE"] = "azure"
	c.env["AZEMU_TIME_SCALE"] = "0.02"
	assert.GreaterOrEqual(t, c.timed("group", "create", "-n", "rg", "-l", "eastus", "-o", "none"), figure(1, 0.02), "a small synchronous PUT: a read's time")
	assert.GreaterOrEqual(t, c.timed(vmCreate("vm1")...), figure(65, 0.02))
	assert.GreaterOrEqual(t, c.timed("vm", "show", "-g", "rg", "-n", "vm1", "-o", "none"), figure(1, 0.02))
}

// Calls that run at once overlap, as on Azure: the wait is not taken under
// the state lock, so two VM creates together take about one VM create (the
// bound leaves half a create's margin; back to back they take two).
func TestAzureClockConcurrentCallsOverlap(t *testing.T) {
	c := newCloud(t)
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.env["AZEMU_PROFILE"] = "azure"
	c.env["AZEMU_TIME_SCALE"] = "0.06"
	one := figure(65, 0.06)
	began := time.Now()
	var wg sync.WaitGroup
	took := make([]time.Duration, 2)
	for i, name := range []string{"vm1", "vm2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			took[i] = c.timed(vmCreate(name)...)
		}()
	}
	wg.Wait()
	total := time.Since(began)
	for _, d := range took {
		assert.GreaterOrEqual(t, d, one)
	}
	assert.Less(t, total, one+one/2, "the two creates overlapped")
}

// ARM rejects a request at once: a create that fails takes a read's time,
// not the create's.
func TestAzureClockFailedCallTakesARead(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_PROFILE"] = "azure"
	c.env["AZEMU_TIME_SCALE"] = "0.2"
	began := time.Now()
	r := c.run(vmCreate("vm1")...)
	took := time.Since(began)
	assert.Equal(t, 3, r.code, "no group: %s", r.stderr)
	assert.GreaterOrEqual(t, took, figure(1, 0.2))
	assert.Less(t, took, figure(65, 0.2)/2, "a failed create does not wait out the create's 65 s")
}

// A profile or scale the emulator does not know fails every call, so a typo
// cannot leave a test on the fast clock while it believes it on Azure's.
func TestClockSettingsAreChecked(t *testing.T) {
	c := newCloud(t)
	c.env["AZEMU_PROFILE"] = "azur"
	r := c.run("group", "list")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "ERROR: azemu: unknown AZEMU_PROFILE \"azur\" (known: azure, fast)\n", r.stderr)

	c.env["AZEMU_PROFILE"] = "azure"
	for _, bad := range []string{"0", "-1", "fast"} {
		c.env["AZEMU_TIME_SCALE"] = bad
		r = c.run("group", "list")
		assert.Equal(t, 1, r.code)
		assert.Equal(t, "ERROR: azemu: AZEMU_TIME_SCALE must be a number above 0, not \""+bad+"\"\n", r.stderr)
	}
}
