#!/usr/bin/env bash
# A Debian 13 root filesystem with its azure-cli (2.74), for checking az
# command lines against a current az parser (Debian 12's own az is 2.45).
#
# Usage: scripts/az-rootfs.sh   prints the root filesystem's path, building it
#                               first when the cache has none for this recipe.
#
# The cache lives outside the checkout, so fresh clones (CI) reuse it: one
# folder per recipe under $AZLIN_ROOTFS_CACHE (default /var/cache/azlin/rootfs),
# named by a hash of the recipe lines below, so changing the recipe builds a
# new one. A build goes into a temporary folder that is renamed only when
# mmdebstrap has finished: a folder named az-<hash> is always complete.
set -euo pipefail

# The machine's own Debian mirror (its apt sources), used for trixie too.
debian_mirror() {
  local url
  url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '/^URIs:/ {print $2} /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
    grep -v -e security -e '^$' | grep '/debian/\?$' | head -n1 || true)
  echo "${url:-http://deb.debian.org/debian}"
}

# The recipe: everything that decides what the root filesystem holds.
suite=trixie
variant=minbase
packages=azure-cli,ca-certificates
mirror=$(debian_mirror)
recipe="suite=$suite variant=$variant packages=$packages mirror=$mirror"

cache=${AZLIN_ROOTFS_CACHE:-/var/cache/azlin/rootfs}
root=$cache/az-$(printf '%s\n' "$recipe" | sha256sum | cut -c1-16)
if [ -d "$root" ]; then
  echo "$root"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "building the az root filesystem needs root (mmdebstrap, chroot)" >&2
  exit 1
fi
if ! command -v mmdebstrap >/dev/null; then
  echo "installing mmdebstrap ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

mkdir -p "$cache"
# A build killed outright (no trap runs) leaves its temporary folder behind.
find "$cache" -mindepth 1 -maxdepth 1 -name '.building-az-*' -mmin +1440 -exec rm -rf {} +
tmp=$(mktemp -d "$cache/.building-az-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "building $root ($recipe), a few minutes ..." >&2
start=$SECONDS
mmdebstrap --quiet --variant="$variant" --include="$packages" "$suite" "$tmp/root" "$mirror" >&2
printf '%s\n' "$recipe" >"$tmp/root/.azlin-recipe"
# Another build may have finished first: then keep its folder and drop ours.
if ! mv -T "$tmp/root" "$root" 2>/dev/null && [ ! -d "$root" ]; then
  echo "could not move the new root filesystem to $root" >&2
  exit 1
fi
echo "built $root in $((SECONDS - start))s" >&2
echo "$root"
