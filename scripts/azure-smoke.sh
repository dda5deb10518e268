#!/usr/bin/env bash
# make azure-smoke: the requirements' demo scenario against whatever az is on
# PATH and logged in -- real Azure for a maintainer with a subscription -- in
# a resource group of its own, always cleaned up (also after a failure or
# Ctrl+C), with the wall time of each step, and every az call azlin makes
# recorded (record mode, scrubbed of secrets and ids) for fixtures and the
# local cloud's latencies.
#
#   AZLIN_SMOKE_SUBSCRIPTION=ID  required: the subscription to use; the script
#                                refuses any other (az account show)
#   AZLIN_SMOKE_REGION=REGION    default eastus
#   AZLIN_SMOKE_OUT=DIR          default build/azure-smoke: DIR/<group>/calls.jsonl
#   AZLIN_SMOKE_LOCAL=1          run against the local cloud instead (as CI
#                                does), so the script itself is tested
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
azlin=$repo/bin/azlin
region=${AZLIN_SMOKE_REGION:-eastus}

work=$(mktemp -d /tmp/azlin-smoke-XXXXXX)
export AZLIN_CONFIG_DIR=$work/config NO_COLOR=1
if [ "${AZLIN_SMOKE_LOCAL:-}" = 1 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "the local cloud needs root (its VMs are Linux hosts in namespaces): run as root" >&2
    exit 1
  fi
  export AZEMU_STATE_DIR=$work/state AZEMU_HOSTS=1
  # No internet here, so no public-IP service: the caller's address is the
  # one the emulator takes as the caller's, given to azlin (ssh_from, below).
  export AZEMU_CALLER_IP=203.0.113.7
  export AZLIN_AZ_PATH=$repo/build/local-cloud/az PATH=$repo/build/local-cloud:$PATH
  mkdir -p "$AZEMU_STATE_DIR"
  # The local cloud's one subscription.
  AZLIN_SMOKE_SUBSCRIPTION=$(az account show --query id -o tsv)
fi
az=$(command -v az) || { echo "az is not on PATH" >&2; exit 1; }

if [ -z "${AZLIN_SMOKE_SUBSCRIPTION:-}" ]; then
  echo "Set AZLIN_SMOKE_SUBSCRIPTION to the id of the subscription the smoke test may create resources in." >&2
  exit 2
fi
current=$(az account show --query id -o tsv) || { echo "az is not logged in: az login" >&2; exit 1; }
if [ "$current" != "$AZLIN_SMOKE_SUBSCRIPTION" ]; then
  echo "az is on subscription $current, not AZLIN_SMOKE_SUBSCRIPTION ($AZLIN_SMOKE_SUBSCRIPTION): az account set -s $AZLIN_SMOKE_SUBSCRIPTION" >&2
  exit 2
fi

rg=azlin-smoke-$(date -u +%Y%m%d-%H%M%S)-$RANDOM
out=${AZLIN_SMOKE_OUT:-$repo/build/azure-smoke}/$rg
mkdir -p "$out"
export AZLIN_RECORD_DIR=$out
mkdir -p "$AZLIN_CONFIG_DIR"

cleaned=0
cleanup() {
  [ "$cleaned" = 1 ] && return 0
  cleaned=1
  echo
  echo "== cleaning up: deleting resource group $rg (everything the smoke test made) ..."
  if az group show -n "$rg" -o none 2>/dev/null; then
    az group delete -n "$rg" --yes -o none || echo "!! could not delete $rg: delete it by hand: az group delete -n $rg --yes" >&2
  fi
}
finish() {
  cleanup
  if [ "${AZLIN_SMOKE_LOCAL:-}" = 1 ]; then
    az __azemu-down >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap finish EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

timings=()
step() {
  local what=$1 t0=$SECONDS
  shift
  printf '\n== %s\n$ %s\n' "$what" "$*"
  "$@"
  timings+=("$(printf '%4ds  %s' $((SECONDS - t0)) "$what")")
}
fail() { echo "SMOKE FAILED: $*" >&2; exit 1; }

echo "azure-smoke on subscription $current, region $region, with $az ($(az version --query '"azure-cli"' -o tsv 2>/dev/null || echo '?'))"
echo "It creates, in a new resource group $rg (deleted at the end, also after a failure or Ctrl+C):"
echo "  a Premium NFS storage of 100 GiB with its private endpoint, VNet and DNS zone, and 3 VMs."
echo "What azlin estimates they cost per month (a month is 730 hours; they are billed by the hour while they"
echo "exist, and a run takes about 15 minutes):"
az group create -n "$rg" -l "$region" -o none
"$azlin" config init -g "$rg" --region "$region" >/dev/null
if [ "${AZLIN_SMOKE_LOCAL:-}" = 1 ]; then
  "$azlin" config set ssh_from "$AZEMU_CALLER_IP/32" >/dev/null
fi
"$azlin" storage create smoke --size 100GB --dry-run 2>/dev/null | grep -E '^Est\. cost' | sed 's/^/  storage: /' || true
"$azlin" new --name worker-1 --dry-run 2>&1 | grep -iE 'cost|/month' | sed 's/^/  each VM: /' || true
echo "Records of every az call: $out/calls.jsonl"

step "storage create" "$azlin" storage create smoke --size 100GB
for w in worker-1 worker-2 worker-3; do
  step "new --shared-home ($w)" "$azlin" new --shared-home smoke --name "$w"
done
step "write on worker-1" "$azlin" ssh worker-1 -- "echo 'Hello from worker-1' > ~/shared-test.txt"
for w in worker-2 worker-3; do
  got=$("$azlin" ssh "$w" -- "cat ~/shared-test.txt")
  [ "$got" = "Hello from worker-1" ] || fail "$w read '$got'"
done
step "storage check (worker-1)" "$azlin" storage check smoke --vm worker-1
status=$("$azlin" storage status smoke)
grep -q "In transit: encrypted" <<<"$status" || fail "the storage is not encrypted in transit"
[ "$(grep -c "mounted at /home/azureuser" <<<"$status")" = 3 ] || fail "status does not show 3 connected VMs"
for w in worker-1 worker-2 worker-3; do
  step "storage detach ($w)" "$azlin" storage detach --vm "$w"
done
step "storage delete" "$azlin" storage delete smoke --yes
for w in worker-1 worker-2 worker-3; do
  step "delete ($w)" "$azlin" delete "$w" --yes
done

cleanup
calls=$(wc -l <"$out/calls.jsonl")
printf '\nWall time per step:\n'
printf '%s\n' "${timings[@]}"
echo "$calls az calls recorded in $out/calls.jsonl"
if az group show -n "$rg" -o none 2>/dev/null; then
  fail "resource group $rg is still there"
fi
echo "azure-smoke passed; nothing is left behind."
