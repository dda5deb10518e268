package vmprov

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/azcli"
)

// Bounds of WaitReady when WaitOptions leaves them zero.
const (
	DefaultWaitTimeout  = 10 * time.Minute
	DefaultWaitInterval = 3 * time.Second
)

// WaitOptions tune WaitReady.
type WaitOptions struct {
	Timeout  time.Duration                              // the whole wait
	Interval time.Duration                              // between polls
	Probe    func(ctx context.Context, ip string) error // nil = ProbeSSH
	Progress func(step string)                          // told when the state changes; may be nil
}

// WaitReady waits until Azure reports the VM running with a public IP and
// something answers SSH there, polling `az vm show -d` and then the IP
// (without further az calls). It gives up after the timeout with an error
// that says what state the VM was last seen in.
func (m *Manager) WaitReady(ctx context.Context, rg, name string, o WaitOptions) (VM, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultWaitTimeout
	}
	if o.Interval <= 0 {
		o.Interval = DefaultWaitInterval
	}
	if o.Probe == nil {
		o.Probe = ProbeSSH
	}
	last := ""
	progress := func(s string) {
		if s != last && o.Progress != nil {
			o.Progress(s)
		}
		last = s
	}
	wctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	timedOut := func(lastErr error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		msg := fmt.Sprintf("VM %s did not become reachable within %s (last seen: %s)", name, o.Timeout, last)
		if lastErr != nil {
			msg += ": " + lastErr.Error()
		}
		return errors.New(msg)
	}

	var vm VM
	for {
		v, err := m.Show(wctx, rg, name, true)
		switch {
		case err == nil:
			vm = v
		case wctx.Err() != nil:
			return vm, timedOut(nil)
		case errors.Is(err, azcli.ErrNotFound) && !errors.Is(err, azcli.ErrResourceGroupNotFound):
			// Just after an accepted create, reads may not see the VM yet.
			progress("waiting for Azure to list the VM")
		default:
			return vm, err
		}
		if err == nil {
			if strings.EqualFold(vm.ProvisioningState, "Failed") {
				return vm, fmt.Errorf("Azure reports that provisioning VM %s failed (power state %q)", name, vm.PowerState)
			}
			if vm.Running() && vm.PublicIP != "" {
				break
			}
			if vm.Running() {
				progress("VM running; waiting for its public IP")
			} else {
				progress("VM " + vm.State())
			}
		}
		if !sleep(wctx, o.Interval) {
			return vm, timedOut(nil)
		}
	}

	progress("VM running at " + vm.PublicIP + "; waiting for SSH")
	for {
		err := o.Probe(wctx, vm.PublicIP)
		if err == nil {
			return vm, nil
		}
		if !sleep(wctx, o.Interval) {
			return vm, timedOut(err)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// ProbeSSH succeeds when an SSH server answers on ip port 22: it connects
// and reads the server's "SSH-" greeting, without logging in.
func ProbeSSH(ctx context.Context, ip string) error {
	return probeSSHAddr(ctx, net.JoinHostPort(ip, "22"))
}

func probeSSHAddr(ctx context.Context, addr string) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReaderSize(conn, 256).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("no SSH greeting from %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "SSH-") {
		return fmt.Errorf("%s answered, but not as an SSH server: %q", addr, strings.TrimSpace(line))
	}
	return nil
}
