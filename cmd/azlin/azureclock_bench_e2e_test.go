//go:build localcloud

package main

import (
	"fmt"
	"testing"
	"time"
)

// benchScale compresses Azure's clock for BenchmarkDemoOnAzureClock: a VM
// create's 65 s take 1.3 s.
const benchScale = 0.02

// BenchmarkDemoOnAzureClock runs the demo's main steps with every az call on
// the emulator's azure profile (AZEMU_PROFILE=azure, each call lasting what
// it typically lasts on Azure; docs/local-cloud.md, "Azure's clock"),
// compressed by AZEMU_TIME_SCALE. It reports each step's wall time, that
// time divided by the scale (what the step would take on Azure if azlin's
// own waits, which are not scaled, were negligible) and its number of az
// calls. It asserts no timing: the figures are for reading.
func BenchmarkDemoOnAzureClock(b *testing.B) {
	workers := []string{"worker-1", "worker-2", "worker-3"}
	steps := []struct {
		name string
		args [][]string
	}{
		{"storage-create", [][]string{{"storage", "create", "dev-shared", "--tier", "Premium", "--size", "500GB"}}},
		{"new-shared-home", perWorker(workers, "new", "--shared-home", "dev-shared", "--name")},
		{"storage-status", [][]string{{"storage", "status", "dev-shared"}}},
		{"storage-detach", perWorker(workers, "storage", "detach", "--vm")},
		{"storage-delete", [][]string{{"storage", "delete", "dev-shared", "--yes"}}},
		{"delete-vms", perWorker(workers, "delete", "--yes")},
	}
	wall := make([]time.Duration, len(steps))
	calls := make([]int, len(steps))
	for range b.N {
		b.StopTimer()
		c := sharedCloud(b)
		c.Env = append(c.Env, "AZEMU_PROFILE=azure", fmt.Sprintf("AZEMU_TIME_SCALE=%g", benchScale))
		b.StartTimer()
		for i, s := range steps {
			before := len(c.Calls())
			began := time.Now()
			for _, args := range s.args {
				azlinRun(b, c, args...)
			}
			wall[i] += time.Since(began)
			calls[i] += len(c.Calls()) - before
		}
	}
	n := float64(b.N)
	for i, s := range steps {
		b.ReportMetric(wall[i].Seconds()/n, "s/"+s.name)
		b.ReportMetric(wall[i].Seconds()/n/benchScale, "azure-s/"+s.name)
		b.ReportMetric(float64(calls[i])/n, "az-calls/"+s.name)
	}
}

// perWorker is one azlin command line per worker, the worker's name last.
func perWorker(workers []string, args ...string) [][]string {
	var out [][]string
	for _, w := range workers {
		out = append(out, append(append([]string{}, args...), w))
	}
	return out
}
