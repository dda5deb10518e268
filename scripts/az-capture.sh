#!/usr/bin/env bash
# Re-capture what the real az 2.74 prints for the commands azlin parses
# (docs/az-shapes.md): runs scripts/az-capture.py with the python3 of the az
# root filesystem (scripts/az-rootfs.sh), chrooted, in a network namespace
# without interfaces, so az's only answers are the recorded REST bodies in
# localcloud/azemu/testdata/az-rest/.
#
# Usage: scripts/az-capture.sh [NAME ...]   (as root; no names = all)
# Writes localcloud/azemu/testdata/az-shapes/2.74/NAME.json and requests.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "az-capture needs root (unshare, chroot)" >&2
  exit 1
fi
rootfs=$(scripts/az-rootfs.sh)
out=$PWD/localcloud/azemu/testdata/az-shapes/2.74
mkdir -p "$out"

# A private mount namespace: a fresh tmpfs on the root filesystem's /tmp
# holds the script and the REST bodies, and the output folder is bound
# into it, so the cached root filesystem stays untouched.
# shellcheck disable=SC2016 # the inner sh expands them
unshare --mount --net -- sh -c '
  set -e
  root=$1 out=$2
  mount -t tmpfs tmpfs "$root/tmp"
  mkdir "$root/tmp/rest" "$root/tmp/out"
  cp scripts/az-capture.py "$root/tmp/"
  cp localcloud/azemu/testdata/az-rest/*.json "$root/tmp/rest/"
  mount --bind "$out" "$root/tmp/out"
  shift 2
  exec chroot "$root" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 PYTHONWARNINGS=ignore \
    python3 /tmp/az-capture.py /tmp/rest /tmp/out "$@"
' az-capture "$rootfs" "$out" "$@"
