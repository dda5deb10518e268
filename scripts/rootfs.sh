#!/usr/bin/env bash
# Debian 13 (trixie) root filesystems the local cloud and its checks use,
# built with mmdebstrap and cached machine-wide.
#
# Usage: scripts/rootfs.sh az   azure-cli 2.74, for checking az command lines
#                               against a current az parser (make conformance)
#        scripts/rootfs.sh vm   the VM image every local-cloud VM host boots:
#                               sshd, cloud-init and the tools azlin's on-VM
#                               scripts call
# Prints the root filesystem's path, building it first when the cache has none
# for this recipe.
#
# The cache lives outside the checkout, so fresh clones (CI) reuse it: one
# folder per recipe under $AZLIN_ROOTFS_CACHE (default /var/cache/azlin/rootfs),
# named by a hash of the recipe lines below, so changing a recipe builds a
# new one. A build goes into a temporary folder that is renamed only when
# mmdebstrap has finished: a folder named NAME-<hash> is always complete.
set -euo pipefail

# The machine's own Debian mirror (its apt sources), used for trixie too.
debian_mirror() {
  local url
  url=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '/^URIs:/ {print $2} /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
    grep -v -e security -e '^$' | grep '/debian/\?$' | head -n1 || true)
  echo "${url:-http://deb.debian.org/debian}"
}

name=${1:-}
hooks=()
# The recipes: everything that decides what a root filesystem holds. The az
# recipe's lines must stay as they are: their hash names the cached folder.
case $name in
  az)
    suite=trixie
    variant=minbase
    packages=azure-cli,ca-certificates
    mirror=$(debian_mirror)
    recipe="suite=$suite variant=$variant packages=$packages mirror=$mirror"
    ;;
  vm)
    suite=trixie
    variant=minbase
    # openssh-server, sudo and cloud-init: what an Azure image boots with.
    # The rest are the tools azlin's on-VM scripts (internal/vmscript/sh) and
    # the e2e tests call on a VM: flock, findmnt, mountpoint, setpriv
    # (util-linux), mount/umount (mount), pgrep/pkill (procps), ip (iproute2,
    # which cloud-init also reports the network with), python3 (the
    # share self-test), rsync, setfattr (attr), git (the layout's settings).
    packages=openssh-server,cloud-init,sudo,python3,util-linux,mount,procps,iproute2,rsync,attr,bash,git
    mirror=$(debian_mirror)
    # A cloud image carries no SSH host keys (cloud-init makes a host's own at
    # first boot) and refuses password logins, as Ubuntu's Azure images do
    # with their sshd_config.d/60-cloudimg-settings.conf. The archive's
    # package names are kept for the hosts' apt-cache stand-in (no host
    # downloads package lists: the tests have no network).
    # shellcheck disable=SC2016 # $1 is the new root, expanded by mmdebstrap
    hooks=(
      'rm -f "$1"/etc/ssh/ssh_host_*'
      'printf "%s\n" "# azlin VM image: keys only, as on Azure images" "PasswordAuthentication no" >"$1/etc/ssh/sshd_config.d/60-cloudimg-settings.conf"'
      'mkdir -p "$1/usr/share/azemu" && chroot "$1" apt-cache pkgnames | LC_ALL=C sort >"$1/usr/share/azemu/archive-packages"'
    )
    recipe="suite=$suite variant=$variant packages=$packages mirror=$mirror hooks=${hooks[*]}"
    ;;
  *)
    echo "usage: scripts/rootfs.sh az|vm" >&2
    exit 2
    ;;
esac

cache=${AZLIN_ROOTFS_CACHE:-/var/cache/azlin/rootfs}
root=$cache/$name-$(printf '%s\n' "$recipe" | sha256sum | cut -c1-16)

# The link $cache/NAME names the current recipe's folder: the default image of
# the local cloud's VM hosts is $cache/vm. Replaced atomically (a rename).
link_current() {
  [ -w "$cache" ] || return 0
  [ "$(readlink "$cache/$name" 2>/dev/null)" = "${root##*/}" ] && return 0
  ln -sfn "${root##*/}" "$cache/.link-$name-$$"
  mv -T "$cache/.link-$name-$$" "$cache/$name"
}

if [ -d "$root" ]; then
  link_current
  echo "$root"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "building the $name root filesystem needs root (mmdebstrap, chroot)" >&2
  exit 1
fi
mkdir -p "$cache"
# One build per recipe at a time: a second caller waits for the first's result.
exec 9>"$cache/.lock-$name"
flock 9
if [ -d "$root" ]; then
  link_current
  echo "$root"
  exit 0
fi
if ! command -v mmdebstrap >/dev/null; then
  echo "installing mmdebstrap ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi

# A build killed outright (no trap runs) leaves its temporary folder behind.
find "$cache" -mindepth 1 -maxdepth 1 -name ".building-$name-*" -mmin +1440 -exec rm -rf {} +
tmp=$(mktemp -d "$cache/.building-$name-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "building $root ($recipe), a few minutes ..." >&2
start=$SECONDS
hook_args=()
for h in "${hooks[@]}"; do hook_args+=(--customize-hook="$h"); done
mmdebstrap --quiet --variant="$variant" --include="$packages" "${hook_args[@]}" "$suite" "$tmp/root" "$mirror" >&2
printf '%s\n' "$recipe" >"$tmp/root/.azlin-recipe"
# Another build may have finished first: then keep its folder and drop ours.
if ! mv -T "$tmp/root" "$root" 2>/dev/null && [ ! -d "$root" ]; then
  echo "could not move the new root filesystem to $root" >&2
  exit 1
fi
echo "built $root in $((SECONDS - start))s" >&2
link_current
echo "$root"
