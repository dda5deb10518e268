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
// at once, it does not fail it after a VM create's minute.

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
// docs/local-cloud.md ("Azure's clock") lists them with their sources.
// "Recording" means azure-cli's own test recordings: the date headers of a
// command's first request and of the poll that saw its long-running
// operation succeed. "Estimate" means no measurement is at hand: the figure
// follows the nearest measured operation of the same provider.
var azureProfile = profile{
	// Every az process: Python start and command-module loading (the
	// azure-cli team measured ~0.8 s for loading alone while working on
	// start-up; users report "seconds" per command), then the token from the
	// cache and the first TLS connection to ARM.
	start: 1500 * time.Millisecond,
	// Reads and small synchronous writes: one ARM round trip. Consecutive
	// show/list/check-name calls in the recordings are 1-2 s apart.
	other: 1 * time.Second,
	ops: map[string]time.Duration{
		// Recording (storage, test_create_storage_account): PUT answered
		// 202, the poll saw Succeeded 17 s later, the account was created
		// 2 s before the PUT returned.
		"storage account create": 20 * time.Second,
		// Synchronous PATCH/DELETE on the storage provider: a round trip
		// and a little more (estimate).
		"storage account update":              2 * time.Second,
		"storage account delete":              2 * time.Second,
		"storage account network-rule add":    2 * time.Second,
		"storage account network-rule remove": 2 * time.Second,
		// share-rm and container-rm create/delete are one synchronous PUT or
		// DELETE: a read's time (no row needed).

		// Recording (storage, test_storage_account_private_endpoint): vnet
		// PUT 201 "Updating", Succeeded 11 s later (network polls every
		// 10 s). Other network writes poll the same way (estimate).
		"network vnet create":                            12 * time.Second,
		"network vnet subnet create":                     12 * time.Second,
		"network vnet subnet update":                     12 * time.Second,
		"network nsg create":                             12 * time.Second,
		"network nsg rule create":                        12 * time.Second,
		"network nsg rule update":                        12 * time.Second,
		"network private-endpoint dns-zone-group create": 12 * time.Second,
		"network private-endpoint dns-zone-group delete": 12 * time.Second,
		"network nic delete":                             12 * time.Second,
		"network public-ip delete":                       12 * time.Second,
		"disk delete":                                    12 * time.Second,
		// Same recording: private endpoint PUT, Succeeded 30 s later, the
		// endpoint read 2 s after that. Delete: estimate, as create.
		"network private-endpoint create": 32 * time.Second,
		"network private-endpoint delete": 32 * time.Second,
		// Recordings (privatedns, test_PutZone_ZoneNotExists_ExpectZoneCreated
		// and test_PutLink_LinkNotExistsWithoutRegistration_...): zone
		// Succeeded 21 s after its PUT, the VNet link 65 s after its PUT
		// (polled every 30 s).
		"network private-dns zone create":      20 * time.Second,
		"network private-dns link vnet create": 60 * time.Second,

		// Recording (vm, test_vm_create_ubuntu): the deployment of VNet,
		// NSG, public IP, NIC and VM took 36 s, az saw it at its 30-s poll,
		// 61 s after the PUT, after a few seconds of image and network
		// lookups.
		"vm create": 65 * time.Second,
		// Power operations and deletes wait for the guest or the fabric
		// (estimates, below a VM create).
		"vm delete":     45 * time.Second,
		"vm start":      30 * time.Second,
		"vm restart":    30 * time.Second,
		"vm stop":       30 * time.Second,
		"vm deallocate": 45 * time.Second,
		"vm update":     10 * time.Second,
		"group delete":  60 * time.Second,
		// "The minimum time to run a script is about 20 seconds"
		// (run-command doc, Restrictions): the run holds the VM this long.
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
