#!/usr/bin/env bash
# Installs the Debian packages azlin's tests and demo need, if they are
# missing. Idempotent and quiet when everything is there already.
set -euo pipefail
need=()
command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v flock >/dev/null 2>&1 || need+=(util-linux)
command -v rsync >/dev/null 2>&1 || need+=(rsync)
command -v setfattr >/dev/null 2>&1 || need+=(attr)   # internal/vmscript tests: xattrs survive the home copy
# (VM hosts bring their own sshd, sudo and cloud-init: the VM image, make vm-image.)
# vmhost.Run enters a host with the machine's nsenter; the on-VM script tests
# run mountpoint, findmnt (util-linux) and mount/umount (mount) on the machine.
command -v nsenter >/dev/null 2>&1 || need+=(util-linux)
command -v mount >/dev/null 2>&1 || need+=(mount)
# VM host tests look for leftover processes with pgrep/pkill.
command -v pgrep >/dev/null 2>&1 || need+=(procps)
# The layout tests check the git-fsmonitor-off setting with git config --system.
command -v git >/dev/null 2>&1 || need+=(git)
# make lint checks every shell script azlin ships.
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
# The emulator drops SSH to VM hosts whose NSGs deny the caller with an nftables table.
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need+=(nftables)
[ -x /usr/bin/python3 ] || need+=(python3)   # the share self-test's fcntl and Unix socket probes (internal/vmscript)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "azlin tests need these Debian packages: ${need[*]}; run as root or install them: apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# Do not let the package start a system sshd: the local cloud starts its own.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
