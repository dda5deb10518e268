package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/azlin-dev/azlin/internal/azcli"
	"github.com/azlin-dev/azlin/internal/azcli/aztest"
	"github.com/azlin-dev/azlin/internal/namecache"
)

// hostSSH is a stand-in for ssh that keeps ssh's host key rules: the file
// at/IP names the VM that answers at IP (no file: nothing answers, the
// connection times out), each VM has its own host key, and a key is looked
// up by HostKeyAlias in UserKnownHostsFile: accepted and written when none
// is known and checking is accept-new, refused when another is known or
// none is and checking is yes. Once through, it runs LocalCommand (ssh's
// "connected" mark), says which VM it reached and exits with the status in
// the file exit (default 0). Every run's arguments are a line in calls.
type hostSSH struct{ dir string }

const fakeSSHScript = `#!/bin/sh
d=%DIR%
printf '%s\n' "$*" >>"$d/calls"
host= strict= kh= alias= lc=
for a; do
  case $a in
    azureuser@*) host=${a#azureuser@} ;;
    StrictHostKeyChecking=*) strict=${a#*=} ;;
    UserKnownHostsFile=*) kh=${a#*=} ;;
    HostKeyAlias=*) alias=${a#*=} ;;
    LocalCommand=*) lc=${a#*=} ;;
  esac
done
name=${alias:-$host}
if [ ! -f "$d/at/$host" ]; then
  echo "ssh: connect to host $host port 22: Connection timed out" >&2
  exit 255
fi
vm=$(cat "$d/at/$host")
line="$name ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf/$vm"
if grep -q "^$name " "$kh" 2>/dev/null; then
  if ! grep -qxF "$line" "$kh"; then
    echo "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@" >&2
    echo "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @" >&2
    echo "Host key verification failed." >&2
    exit 255
  fi
elif [ "$strict" = yes ]; then
  echo "No ED25519 host key is known for $name and you have requested strict checking." >&2
  echo "Host key verification failed." >&2
  exit 255
else
  echo "$line" >>"$kh"
  echo "Warning: Permanently added '$name' (ED25519) to the list of known hosts." >&2
fi
[ -n "$lc" ] && [ ! -e "$d/nolc" ] && sh -c "$lc"
echo "motd of $vm" >&2
echo "on $vm"
exit "$(cat "$d/exit" 2>/dev/null || echo 0)"
`

func newHostSSH(t *testing.T) hostSSH {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "at"), 0o755))
	bin := filepath.Join(dir, "ssh")
	require.NoError(t, os.WriteFile(bin, []byte(strings.ReplaceAll(fakeSSHScript, "%DIR%", dir)), 0o755))
	t.Setenv(envSSHPath, bin)
	return hostSSH{dir}
}

// at makes vm answer at ip ("" = nothing answers there).
func (h hostSSH) at(t *testing.T, ip, vm string) {
	t.Helper()
	p := filepath.Join(h.dir, "at", ip)
	if vm == "" {
		require.NoError(t, os.Remove(p))
		return
	}
	require.NoError(t, os.WriteFile(p, []byte(vm), 0o644))
}

func (h hostSSH) exit(t *testing.T, code string) {
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "exit"), []byte(code), 0o644))
}

// calls are the runs of ssh so far, one line of arguments each.
func (h hostSSH) calls(t *testing.T) []string {
	raw, err := os.ReadFile(filepath.Join(h.dir, "calls"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
}

// showDAt is `az vm show -d` of vm (recorded output) with its public IP
// replaced by ip.
func showDAt(t *testing.T, ip string) aztest.Call {
	raw, err := os.ReadFile(vmTestdata + "vm-show-d.json")
	require.NoError(t, err)
	return aztest.Call{Argv: callShowD.Argv, Stdout: strings.ReplaceAll(string(raw), "20.80.105.65", ip)}
}

var vmScope = namecache.Scope{Group: "rg"}

func TestSSHSecondTimeMakesNoAzCall(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")

	stdout, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "on vm\n", stdout)
	got, found := namecache.In(cfgDir).Host(vmScope, "vm")
	require.True(t, found)
	assert.Equal(t, "20.80.105.65", got.Address)

	fake := aztest.New(t) // any az call fails the test
	stdout, stderr, code = runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "on vm\n", stdout)
	assert.Equal(t, "motd of vm\n", stderr, "what ssh says once through is passed on")
	assert.Empty(t, fake.Calls())
	calls := h.calls(t)
	require.Len(t, calls, 2)
	assert.Contains(t, calls[0], "StrictHostKeyChecking=accept-new", "first time: the key is learnt")
	assert.Contains(t, calls[1], "StrictHostKeyChecking=yes", "then: pinned")
	assert.Contains(t, calls[1], "HostKeyAlias="+namecache.HostKeyAlias(vmScope, "vm"))
	assert.Contains(t, calls[0], "ConnectTimeout=20")
	assert.Contains(t, calls[1], "ConnectTimeout=8", "a short wait at a remembered address")
}

// ssh's own 255 after it connected (the session broke, or the command
// exited 255) is not taken as "not there": the command may have run, so
// it is never run again.
func TestSSHFailureAfterConnectingIsNotTriedAgain(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	h.exit(t, "255")
	_, stderr, code = runVMCmd(t, aztest.New(t), "ssh", "vm", "-g", "rg", "--", "make", "deploy")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ssh could not connect to VM vm at 20.80.105.65, or the connection broke")
	assert.Len(t, h.calls(t), 2, "one run of the command")

	h.exit(t, "3")
	_, _, code = runVMCmd(t, aztest.New(t), "ssh", "vm", "-g", "rg", "--", "exit", "3")
	assert.Equal(t, 3, code, "the remote status, from the remembered address")
}

// ssh fails at the remembered address without the mark of a connection
// (its LocalCommand did not run) and Azure says the VM is at that same
// address: azlin cannot tell this from a session that ran, so it never
// runs the command a second time.
func TestSSHUnexplainedFailureAtTheSameAddressIsNotRunAgain(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	h.exit(t, "255")
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "nolc"), nil, 0o644))
	_, stderr, code = runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "make", "deploy")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ssh could not connect to VM vm at 20.80.105.65, or the connection broke")
	assert.Len(t, h.calls(t), 2, "the first ssh and one run of make deploy, never a second")
}

// The remembered address answers with another VM's key: azlin never logs
// in there, asks Azure, and connects to the VM named at its new address.
func TestSSHRememberedAddressWithAnotherKeyLooksUpAgain(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	// The VM was deallocated and started again elsewhere; another VM has
	// its old address.
	h.at(t, "20.80.105.65", "other")
	h.at(t, "20.80.105.99", "vm")
	fake := aztest.New(t, callAccountShow, showDAt(t, "20.80.105.99"))
	stdout, stderr, code := runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "on vm\n", stdout, "the VM named, and only it")
	assert.Contains(t, stderr, "VM vm did not answer at 20.80.105.65, where azlin last reached it (the host there has another host key); asking Azure where it is now.")
	assert.NotContains(t, stderr, "IDENTIFICATION HAS CHANGED", "ssh's alarm about the address azlin left is held back")
	assert.Len(t, fake.Calls(), 2)
	got, _ := namecache.In(cfgDir).Host(vmScope, "vm")
	assert.Equal(t, "20.80.105.99", got.Address)

	// And the next time, no az call again.
	_, stderr, code = runVMCmd(t, aztest.New(t), "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 0, code, stderr)
}

// Azure reports the address ssh found with another key: the VM's key
// changed (made again outside azlin): azlin does not connect, and says how
// to forget the old key.
func TestSSHRefusesAVMWhoseKeyChanged(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	h.at(t, "20.80.105.65", "impostor")
	stdout, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.NotContains(t, stdout, "on impostor")
	assert.Contains(t, stderr, "REMOTE HOST IDENTIFICATION HAS CHANGED", "ssh's own alarm, about the address Azure reports")
	assert.Contains(t, stderr, "VM vm at 20.80.105.65 did not show the host key azlin pinned for it, so azlin did not connect")
	assert.Contains(t, stderr, "ssh-keygen -R "+namecache.HostKeyAlias(vmScope, "vm")+" -f "+filepath.Join(cfgDir, "known_hosts"))
}

var callRuleShow = aztest.Call{Argv: []string{"network", "nsg", "rule", "show", "-g", "rg", "--nsg-name", "azlin-vnet-nsg", "-n", "azlin-ssh"}}

func ruleFrom(sources string) aztest.Call {
	c := callRuleShow
	c.Stdout = `{"name": "azlin-ssh", "access": "Allow", "direction": "Inbound", "protocol": "Tcp", "priority": 900,
 "destinationPortRange": "22", "sourceAddressPrefix": "` + sources + `", "sourceAddressPrefixes": [],
 "type": "Microsoft.Network/networkSecurityGroups/securityRules"}`
	return c
}

// No answer at all: azlin reads the NSG rule (one az call, only now) and
// says plainly that the caller's address (203.0.113.7, vmEnv's IP service)
// is not let in, with the command that lets it in.
func TestSSHNoAnswerSaysTheAddressIsNotLetIn(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	h.at(t, "20.80.105.65", "") // the NSG drops the caller now
	fake := aztest.New(t, callAccountShow, callShowD, ruleFrom("198.51.100.4/32"))
	stdout, stderr, code := runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "Error: VM vm did not answer on SSH at 20.80.105.65 (no answer on port 22): your address 203.0.113.7/32 is not let in. "+
		"Its network security group azlin-vnet-nsg lets SSH in only from 198.51.100.4/32 (rule azlin-ssh)")
	assert.Contains(t, stderr, "Let it in: azlin allow-ssh vm -g rg\n")
	assert.Len(t, h.calls(t), 2, "Azure reports the address that did not answer: no second wait")

	// Let in, but still no answer: said too, and the rule read only then.
	fake = aztest.New(t, callAccountShow, callShowD, ruleFrom("203.0.113.0/24"))
	_, stderr, code = runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "does let your address 203.0.113.7/32 in (rule azlin-ssh)")
	assert.NotContains(t, stderr, "allow-ssh")

	// No rule at all, in a subscription named by --subscription: the
	// command names it too.
	sub := func(c aztest.Call) aztest.Call {
		c.Argv = append(append([]string{}, c.Argv...), "--subscription", "dev")
		return c
	}
	gone := sub(callRuleShow)
	gone.Exit, gone.Stderr = 3, stderrNotFound
	fake = aztest.New(t, sub(callAccountShow), sub(callShowD), gone)
	_, stderr, code = runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--subscription", "dev", "--", "true")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "has no rule azlin-ssh, so SSH is let in from nowhere. Let your address in: azlin allow-ssh vm -g rg --subscription dev\n")
}

// The first connection (nothing remembered) that times out is explained
// the same way, after one lookup and one ssh.
func TestSSHFirstTimeNoAnswerReadsTheRule(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	fake := aztest.New(t, callAccountShow, callShowD, ruleFrom("198.51.100.4/32"))
	_, stderr, code := runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ssh: connect to host 20.80.105.65 port 22: Connection timed out", "ssh's own words stay")
	assert.Contains(t, stderr, "your address 203.0.113.7/32 is not let in")
	assert.Len(t, h.calls(t), 1)
	_, found := namecache.In(cfgDir).Host(vmScope, "vm")
	assert.False(t, found, "an address azlin never reached is not remembered")
}

// A VM gone from Azure is forgotten: its address and its key.
func TestSSHForgetsAVMThatIsGone(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	h.at(t, "20.80.105.65", "")
	gone := aztest.Call{Argv: callShowD.Argv, Exit: 3, Stderr: stderrNotFound}
	_, stderr, code = runVMCmd(t, aztest.New(t, callAccountShow, gone), "ssh", "vm", "-g", "rg", "--", "true")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "there is no VM vm in resource group rg")
	_, found := namecache.In(cfgDir).Host(vmScope, "vm")
	assert.False(t, found)
	kh, _ := os.ReadFile(filepath.Join(cfgDir, "known_hosts"))
	assert.NotContains(t, string(kh), namecache.HostKeyAlias(vmScope, "vm"))
}

func TestDeleteForgetsTheVMsAddressAndKey(t *testing.T) {
	cfgDir := vmEnv(t)
	alias := namecache.HostKeyAlias(vmScope, "vm")
	require.NoError(t, namecache.In(cfgDir).SetHost(vmScope, "vm", "20.80.105.65", time.Now()))
	require.NoError(t, namecache.In(cfgDir).SetHost(vmScope, "vm2", "20.80.105.66", time.Now()))
	kh := filepath.Join(cfgDir, "known_hosts")
	require.NoError(t, os.WriteFile(kh, []byte(alias+" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyOf/vm\n"), 0o600))
	calls := append(append([]aztest.Call{callAccountShow, callShowManaged}, deleteCalls...), homeLeftCalls(t, "[]")...)
	fake := aztest.New(t, append(calls, callMarkUnused)...)
	_, stderr, code := runVMCmd(t, fake, "delete", "vm", "-g", "rg", "--yes")
	require.Equal(t, 0, code, stderr)
	_, found := namecache.In(cfgDir).Host(vmScope, "vm")
	assert.False(t, found)
	_, found = namecache.In(cfgDir).Host(vmScope, "vm2")
	assert.True(t, found, "other VMs stay")
	raw, _ := os.ReadFile(kh)
	assert.NotContains(t, string(raw), alias)
}

// az's current subscription (az account set) keys the remembered address:
// a VM of the same group and name in another subscription is another VM.
func TestSSHRemembersPerCurrentSubscription(t *testing.T) {
	cfgDir := vmEnv(t)
	withKey(t, cfgDir)
	h := newHostSSH(t)
	h.at(t, "20.80.105.65", "vm")
	azDir := t.TempDir()
	t.Setenv(azcli.EnvAzureConfigDir, azDir)
	current := func(id string) {
		require.NoError(t, os.WriteFile(filepath.Join(azDir, "azureProfile.json"),
			[]byte(`{"subscriptions": [{"id": "`+id+`", "isDefault": true}]}`), 0o600))
	}
	current("sub-a")
	_, stderr, code := runVMCmd(t, aztest.New(t, callAccountShow, callShowD), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)
	_, stderr, code = runVMCmd(t, aztest.New(t), "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)

	current("sub-b")
	fake := aztest.New(t, callAccountShow, callShowD)
	_, stderr, code = runVMCmd(t, fake, "ssh", "vm", "-g", "rg", "--", "true")
	require.Equal(t, 0, code, stderr)
	assert.Len(t, fake.Calls(), 2, "another subscription: asked Azure")
	_, found := namecache.In(cfgDir).Host(namecache.Scope{Subscription: "sub-a", Group: "rg"}, "vm")
	assert.True(t, found)
	_, found = namecache.In(cfgDir).Host(namecache.Scope{Subscription: "sub-b", Group: "rg"}, "vm")
	assert.True(t, found)
}
