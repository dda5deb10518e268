# shellcheck shell=bash
# ---- check: the share self-test on a VM whose home is the share ----
# PEER_MODE write: the probes, then a token file for a second VM to read;
# PEER_MODE read (on that second VM): read the token file and remove it.

azlin_start

azlin_step check-attached
if ! azlin_mounted "$HOME_DIR"; then
  die "$HOME_DIR is not mounted from shared storage on this VM; attach it first (azlin storage attach)"
fi
peer_file="$HOME_DIR/.azlin-check-peer-$PEER_TOKEN"
if [ "$PEER_MODE" = read ]; then
  azlin_step peer-read
  got=$(cat "$peer_file" 2>/dev/null || true)
  rm -f -- "$peer_file"
  if [ "$got" = "$PEER_TOKEN" ]; then
    azlin_info probe_peer ok
  elif [ -z "$got" ]; then
    azlin_info probe_peer "fail: the file the other VM wrote is not here (~/${peer_file##*/})"
  else
    azlin_info probe_peer "fail: the file the other VM wrote holds something else here"
  fi
  azlin_ok
fi
azlin_step probes
azlin_probes "$HOME_DIR"
# Encrypted in transit: AZNFS mounts the share from its local TLS tunnel,
# so the mount table shows the share's path on 127.0.0.1, not the endpoint.
src=$(findmnt -n -o SOURCE --mountpoint "$HOME_DIR" | tail -n 1)
if [ "$PROXY_EXPECTED" = 1 ]; then
  azlin_info probe_tls "skip: Blob NFS 3.0 has no encryption in transit (AZNFS gives it a proxy address, not TLS)"
elif [ "$TLS_EXPECTED" != 1 ]; then
  azlin_info probe_tls "skip: the storage is not encrypted in transit (plain NFS from $src)"
elif [[ $src == 127.0.0.1:/* ]]; then
  azlin_info probe_tls ok
else
  azlin_info probe_tls "fail: $HOME_DIR is mounted in clear text from $src, not through AZNFS's TLS tunnel"
fi
# Blob NFS through AZNFS: the mount's server is AZNFS's proxy address, a
# local IP that its mount map (FQDN PROXY-IP ENDPOINT-IP) maps to the
# endpoint and its watchdog keeps pointing at the endpoint's current IP.
if [ "$PROXY_EXPECTED" = 1 ]; then
  proxy=${src%%:/*} mapped=
  if [[ $proxy =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] && [ -r "$AZNFS_MOUNTMAP" ]; then
    while read -r m_host m_proxy m_ip _; do
      if [ "$m_proxy" = "$proxy" ]; then mapped="$m_host -> $m_ip"; fi
    done <"$AZNFS_MOUNTMAP"
  fi
  if [ -n "$mapped" ]; then
    azlin_info probe_aznfs "ok"
    azlin_info aznfs_proxy "$proxy ($mapped)"
  else
    azlin_info probe_aznfs "fail: $HOME_DIR is mounted from $src, not through an AZNFS proxy address (none in $AZNFS_MOUNTMAP)"
  fi
fi
# Free space as the VM sees the mount: for an Azure Files share df reports
# its provisioned size and what is left of it.
if space=$(df -B1 --output=size,avail "$HOME_DIR" 2>/dev/null | tail -n 1); then
  read -r space_size space_avail <<<"$space"
  azlin_info space "$space_size $space_avail"
fi
if [ "$PEER_MODE" = write ]; then
  azlin_step peer-write
  # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
  if azlin_as_user sh -c 'printf %s "$2" >"$1"' sh "$peer_file" "$PEER_TOKEN" 2>/dev/null; then
    azlin_info peer_written "$peer_file"
  else
    azlin_info probe_peer "fail: $USER_NAME could not write $peer_file"
  fi
fi
azlin_ok
