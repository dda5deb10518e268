package azemu

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// Azure's clock. AZEMU_PROFILE picks how long each call takes: "fast" (the
// default, no latency, so the tests stay quick) or "azure" (each call lasts
// at least as long as it typically does on Azure). AZEMU_TIME_SCALE
// multiplies every figure of the profile, and run-command's 90-minute limit,
// so a test can run a whole scenario on Azure's clock in seconds.
//
// A call's figure is a floor, not an added sleep: the emulator does the work
// (booting a host, running a script) and then waits out what is left of the
// figure, outside the state lock, so concurrent calls overlap as they do on
// Azure. A call that fails takes only a read's time: ARM rejects a request
// at once, it does not fail it after a VM create's minute and a half.

// profile is how long calls take: every call pays start (the az process
// starting, loading its command modules and token), then its command's
// figure, or other for a command the table does not list.
type profile struct {
	start time.Duration
	ops   map[string]time.Duration
	other time.Duration
}

// profiles are the names AZEMU_PROFILE accepts; "" is "fast".
var profiles = map[string]profile{
	"fast":  {},
	"azure": azureProfile,
}

// azureProfile: typical durations on Azure, one place for all of them;
// docs/local-cloud.md ("Azure's clock") lists them with their sources. The
// recordings are azure-cli's own test recordings (the date headers of the
// first request and of the last poll of a command's long-running operation).
var azureProfile = profile{
	// Every az process: Python start and command-module loading (~0.8 s
	// measured by the azure-cli team when they worked on start-up), the
	// token from the cache and the first TLS connection to ARM.
	start: 1500 * time.Millisecond,
	// Reads and small synchronous updates: one ARM round trip (a GET or a
	// PUT that answers 200/201 at once) in the recordings, under a second.
	other: 1 * time.Second,
	ops: map[string]time.Duration{
		// Storage: account create is a long-running operation polled until
		// Succeeded (~20-30 s in the recordings); a share or a container is
		// one synchronous PUT.
		"storage account create":              25 * time.Second,
		"storage account update":              3 * time.Second,
		"storage account delete":              3 * time.Second,
		"storage account network-rule add":    3 * time.Second,
		"storage account network-rule remove": 3 * time.Second,
		"storage share-rm create":             1 * time.Second,
		"storage share-rm delete":             1 * time.Second,
		"storage container-rm create":         1 * time.Second,
		"storage container-rm delete":         1 * time.Second,

		// Network: vnet and subnet PUTs poll an Azure-AsyncOperation for a
		// few seconds; a private endpoint provisions a NIC in the subnet
		// and takes about a minute; private DNS zones and links are
		// global resources and take about half a minute each.
		"network vnet create":                            5 * time.Second,
		"network vnet subnet create":                     5 * time.Second,
		"network vnet subnet update":                     5 * time.Second,
		"network nsg create":                             5 * time.Second,
		"network nsg rule create":                        3 * time.Second,
		"network private-endpoint create":                60 * time.Second,
		"network private-endpoint delete":                30 * time.Second,
		"network private-endpoint dns-zone-group create": 10 * time.Second,
		"network private-endpoint dns-zone-group delete": 10 * time.Second,
		"network private-dns zone create":                30 * time.Second,
		"network private-dns link vnet create":           30 * time.Second,
		"network nic delete":                             10 * time.Second,
		"network public-ip delete":                       10 * time.Second,
		"group delete":                                   60 * time.Second,
		"disk delete":                                    10 * time.Second,

		// Compute: a VM create (NIC, public IP, NSG, then the VM until the
		// agent reports ready) takes one to two minutes; power operations
		// wait for the guest.
		"vm create":     90 * time.Second,
		"vm delete":     60 * time.Second,
		"vm start":      30 * time.Second,
		"vm restart":    30 * time.Second,
		"vm stop":       30 * time.Second,
		"vm deallocate": 60 * time.Second,
		"vm update":     10 * time.Second,
		// run-command: "The minimum time to run a script is about 20
		// seconds" (run-command doc, Restrictions); the run holds the VM
		// for at least this long.
		"vm run-command invoke": 20 * time.Second,
	},
}

// clock is one call's view of the profile.
type clock struct {
	profile
	scale float64
}

// loadClock reads AZEMU_PROFILE and AZEMU_TIME_SCALE; a name or a scale it
// does not know fails the call, so a typo cannot silently run fast.
func loadClock(env Env) (clock, error) {
	name := env("AZEMU_PROFILE")
	if name == "" {
		name = "fast"
	}
	p, ok := profiles[name]
	if !ok {
		names := make([]string, 0, len(profiles))
		for n := range profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return clock{}, cliError("azemu: unknown AZEMU_PROFILE %q (known: %s)", name, strings.Join(names, ", "))
	}
	scale := 1.0
	if s := env("AZEMU_TIME_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			return clock{}, cliError("azemu: AZEMU_TIME_SCALE must be a number above 0, not %q", s)
		}
		scale = v
	}
	return clock{p, scale}, nil
}

// scaled is d on this call's clock.
func (k clock) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * k.scale)
}

// op is how long a successful call of cmd takes after az has started.
// --no-wait returns once Azure accepted the request: a read's time.
func (k clock) op(inv *invocation) time.Duration {
	if d, ok := k.ops[inv.cmd]; ok && !(inv.find("--no-wait") != nil && inv.has("--no-wait")) {
		return k.scaled(d)
	}
	return k.scaled(k.other)
}

// sleepUntil waits until t (at once when t has passed).
func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}
