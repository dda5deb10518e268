#!/usr/bin/env bash
# make demo: the requirements' demo scenario on the local cloud, narrated.
# Three VMs share one home directory: a file written on worker-1 is read on
# worker-2, appended to on worker-3 and read back on worker-1. Everything is
# torn down at the end, also when a step fails; the exit status is non-zero
# if any step's result is wrong.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ "$(id -u)" -ne 0 ]; then
  echo "make demo needs root: the local cloud boots each VM as a small Linux host (namespaces, mounts, sshd)." >&2
  echo "Run it as root, e.g.: sudo make demo" >&2
  exit 1
fi

work=$(mktemp -d /tmp/azlin-demo-XXXXXX)
export AZEMU_STATE_DIR=$work/state AZLIN_CONFIG_DIR=$work/config AZEMU_HOSTS=1 NO_COLOR=1
export AZLIN_AZ_PATH=$repo/build/local-cloud/az
export PATH=$repo/build/local-cloud:$PATH
# The demo cannot reach the internet, so azlin cannot ask a public-IP service
# for the caller's address: it is given instead, the same one the emulator
# takes as the caller's (AZEMU_CALLER_IP), so SSH is allowed from it.
export AZEMU_CALLER_IP=203.0.113.7
# Nor the Retail Prices API: the demo's region (eastus) is in azlin's built-in
# price table, and should a price be missing, this refused local address makes
# the estimate say "not priced" at once instead of waiting on the internet.
export AZLIN_PRICES_URL=http://127.0.0.1:9/api/retail/prices
mkdir -p "$AZEMU_STATE_DIR" "$AZLIN_CONFIG_DIR"
azlin=$repo/bin/azlin
"$azlin" config set ssh_from "$AZEMU_CALLER_IP/32" >/dev/null

cleanup() {
  "$AZLIN_AZ_PATH" __azemu-down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m## %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*" >&2; "$@"; }
fail() { echo "DEMO FAILED: $*" >&2; exit 1; }

step "A resource group for the demo (in Azure you would already have one)"
show az group create -n demo-rg -l eastus -o none
show "$azlin" config init -g demo-rg --region eastus

step "Create shared storage: Azure Files NFS, Premium, reachable only from the VNet"
show "$azlin" storage create dev-shared --tier Premium --size 500GB

step "Provision 3 VMs with the shared home"
for w in worker-1 worker-2 worker-3; do
  show "$azlin" new --shared-home dev-shared --name "$w"
done

step "On worker-1: create a file"
show "$azlin" ssh worker-1 -- "echo 'Hello from worker-1' > ~/shared-test.txt"

step "On worker-2: the file is there"
out=$(show "$azlin" ssh worker-2 -- "cat ~/shared-test.txt"); echo "$out"
[ "$out" = "Hello from worker-1" ] || fail "worker-2 read '$out'"

step "On worker-3: append to it"
show "$azlin" ssh worker-3 -- "echo 'Hello from worker-3' >> ~/shared-test.txt"

step "On worker-1: both lines"
out=$(show "$azlin" ssh worker-1 -- "cat ~/shared-test.txt"); echo "$out"
[ "$out" = $'Hello from worker-1\nHello from worker-3' ] || fail "worker-1 read '$out'"

step "Storage status: 3 connected VMs"
out=$(show "$azlin" storage status dev-shared); echo "$out"
n=$(grep -c 'mounted at /home/azureuser' <<<"$out" || true)
[ "$n" = 3 ] || fail "status shows $n connected VMs, want 3"

step "Detach every VM (each keeps a local copy of the home)"
for w in worker-1 worker-2 worker-3; do
  show "$azlin" storage detach --vm "$w"
done
out=$(show "$azlin" ssh worker-2 -- "cat ~/shared-test.txt"); echo "$out"
[ "$out" = $'Hello from worker-1\nHello from worker-3' ] || fail "worker-2's local home lacks the file after detach"

step "Delete the storage"
show "$azlin" storage delete dev-shared --yes

step "Delete the VMs"
for w in worker-1 worker-2 worker-3; do
  show "$azlin" delete "$w" --yes
done

printf '\n\033[1mDemo passed.\033[0m\n'
