//go:build localcloud

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/localcloud/testenv"
)

// callsByCommand indexes the logged calls by their command words
// ("network vnet create"); each must have been made exactly once.
func callsByCommand(t *testing.T, c *testenv.Cloud, want ...string) map[string]testenv.Call {
	t.Helper()
	got := map[string]testenv.Call{}
	seen := map[string]int{}
	for _, call := range c.Calls() {
		var words []string
		for _, a := range call.Argv {
			if strings.HasPrefix(a, "-") {
				break
			}
			words = append(words, a)
		}
		k := strings.Join(words, " ")
		got[k] = call
		seen[k]++
	}
	for _, w := range want {
		require.Equal(t, 1, seen[w], "az %s: calls made %v", w, seen)
	}
	return got
}

// A storage create on Azure's clock (compressed) runs its independent steps
// at once, as the emulator's call log shows with each call's start and end:
// the VNet beside the account, the DNS zone's read beside the share, the
// private endpoint beside the DNS zone and its link; what needs another step
// starts after it has ended.
func TestE2EStorageCreateRunsIndependentStepsAtOnce(t *testing.T) {
	c := newStorageCloud(t, testenv.WithEnv("AZEMU_PROFILE=azure", "AZEMU_TIME_SCALE=0.02"))
	c.ResetLog()
	azlinRun(t, c, "storage", "create", "overlap", "-g", "rg", "--region", "eastus")
	const (
		login, acctShow, checkName = "account show", "storage account show", "storage account check-name"
		vnetShow, vnet, account    = "network vnet show", "network vnet create", "storage account create"
		share, pe                  = "storage share-rm create", "network private-endpoint create"
		zoneShow, zone, link       = "network private-dns zone show", "network private-dns zone create", "network private-dns link vnet create"
		zoneGroup                  = "network private-endpoint dns-zone-group create"
	)
	calls := callsByCommand(t, c, login, acctShow, checkName, vnetShow, vnet, account, share, pe, zoneShow, zone, link, zoneGroup)
	overlap := func(a, b string) {
		t.Helper()
		assert.True(t, calls[a].Overlaps(calls[b]), "az %s (%s + %dms) and az %s (%s + %dms) should overlap",
			a, calls[a].Began().Format("15:04:05.000"), calls[a].MS, b, calls[b].Began().Format("15:04:05.000"), calls[b].MS)
	}
	after := func(later, earlier string) {
		t.Helper()
		assert.False(t, calls[later].Began().Before(calls[earlier].Ended()), "az %s (%s) should start after az %s ended (%s)",
			later, calls[later].Began().Format("15:04:05.000"), earlier, calls[earlier].Ended().Format("15:04:05.000"))
	}
	overlap(vnet, account)
	overlap(vnetShow, account)
	overlap(pe, zone)
	overlap(pe, link)
	// What depends on another step waits for it.
	after(acctShow, login) // the account's name comes from the subscription
	after(account, checkName)
	after(share, account)
	for _, net := range []string{pe, zone} {
		after(net, share) // nothing network-side for a storage whose share Azure refused
		after(net, vnet)
	}
	after(zoneShow, account) // a read, beside the share
	after(link, zone)
	after(zoneGroup, pe)
	after(zoneGroup, zone)
}

// storage list and status: the login check runs beside the first reads.
func TestE2EStorageListChecksTheLoginBesideItsReads(t *testing.T) {
	c := newStorageCloud(t)
	azlinRun(t, c, "storage", "create", "one", "-g", "rg", "--network", "service-endpoint")
	c.Env = append(c.Env, "AZEMU_LATENCY_MS=300")
	for _, args := range [][]string{{"storage", "list", "-g", "rg"}, {"storage", "status", "one", "-g", "rg"}} {
		c.ResetLog()
		r := azlinRun(t, c, append(args, "--debug")...)
		calls := callsByCommand(t, c, "account show", "storage account list", "vm list")
		assert.True(t, calls["account show"].Overlaps(calls["storage account list"]), "azlin %s: the login check and the first read overlap", args)
		assert.True(t, calls["account show"].Overlaps(calls["vm list"]), "azlin %s", args)
		// --debug ends with the timeline of those calls.
		assert.Regexp(t, `(?m)^# az timeline: \d calls in 2 rounds, at most 3 at once; `, r.Stderr)
		assert.Regexp(t, `(?m)^#\s+\+0\.\d{3}s\s+0\.\d{3}s\s+\d\s+\|[ =]{40}\|  az account show$`, r.Stderr)
	}
}
