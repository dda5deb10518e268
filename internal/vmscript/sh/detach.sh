# shellcheck shell=bash
# ---- detach: give HOME_DIR back to the VM's own disk ----
# Order: find azlin's mount -> refuse (or, with FORCE, stop) processes using
# the home -> copy the shared home to LOCAL and check the copy -> unmount ->
# rmdir the empty mount point -> rename LOCAL to HOME_DIR -> drop the fstab
# line. The share is only read: shared data is never deleted.

LOCAL=
LOCAL_PLACED=0
WE_MOUNTED=0
UNMOUNTED=0
FSTAB_CHANGED=0
COPIED_ENTRIES=0

# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_rollback() {
  local -n azlin_rollback_out=$1
  local notes=()
  if [ -n "$LOCAL" ] && [ "$LOCAL_PLACED" = 0 ] && [ -d "$LOCAL" ]; then
    # A copy of the shared home, kept (never deleted) under a name that says
    # it is unfinished, so the next detach starts a fresh one.
    local incomplete
    incomplete=$(azlin_free_name "$HOME_DIR.local-incomplete")
    if mv -T "$LOCAL" "$incomplete" 2>/dev/null; then notes+=("an unfinished copy of the shared home is at $incomplete"); fi
  fi
  if [ "$UNMOUNTED" = 1 ] && [ "$LOCAL_PLACED" = 0 ]; then
    notes+=("the share is no longer mounted at $HOME_DIR; run the detach again")
  elif [ "$WE_MOUNTED" = 1 ] && azlin_mounted "$HOME_DIR"; then
    azlin_unmount "$HOME_DIR" || true
  fi
  if [ "$FSTAB_CHANGED" = 1 ]; then
    if azlin_fstab_restore; then notes+=("restored $FSTAB"); fi
  fi
  azlin_rollback_out="rolled back: ${notes[*]:-nothing had changed}"
}

# azlin_holder_pids ARRAY HOLDERS: ARRAY = the process ids in HOLDERS,
# azlin_holders' "PID(COMM) ..." list (a blank-separated word that starts
# with digits and "(").
azlin_holder_pids() {
  local -n azlin_pids_out=$1
  local words word
  azlin_pids_out=()
  read -ra words <<<"$2"
  for word in "${words[@]}"; do
    if [[ $word =~ ^([0-9]+)\( ]]; then azlin_pids_out+=("${BASH_REMATCH[1]}"); fi
  done
}

azlin_report_backups() {
  local b list=()
  for b in "$HOME_DIR".backup "$HOME_DIR".backup-*; do
    if [ -e "$b" ]; then list+=("$b"); fi
  done
  azlin_info backup "${list[*]:-none}"
}

azlin_start

azlin_step lock
azlin_lock

azlin_step check-attached
fstab_lines=$(azlin_fstab_count)
fstab_source=$(azlin_fstab_source)
mounted=no
if azlin_mounted "$HOME_DIR"; then mounted=yes; fi
if [ -n "$NFS_SOURCE" ] && [ -n "$fstab_source" ] && [ "$fstab_source" != "$NFS_SOURCE" ]; then
  die "this VM's home is attached to $fstab_source, not to $NFS_SOURCE"
fi

if [ "$fstab_lines" = 0 ] && [ "$mounted" = no ]; then
  azlin_layout_remove
  azlin_breakglass_remove
  azlin_info attached 0
  azlin_report_backups
  azlin_ok
fi

if [ "$mounted" = no ]; then
  # The fstab line is there but the share is not mounted (e.g. it was
  # unreachable at boot). An empty HOME_DIR is azlin's mount point: mount the
  # share to copy it. Anything else is a home someone already uses: keep it.
  if [ ! -e "$HOME_DIR" ] || azlin_is_empty_dir "$HOME_DIR"; then
    azlin_step mount-home
    mkdir -p "$HOME_DIR"
    out=$(timeout -k 5 "$MOUNT_TIMEOUT" mount "$HOME_DIR" 2>&1) ||
      die "the share in $FSTAB ($fstab_source) is not mounted and mounting it failed: ${out:-timed out}; nothing changed"
    WE_MOUNTED=1
    mounted=yes
  else
    azlin_step fstab
    azlin_layout_remove
    azlin_fstab_write "" FSTAB_CHANGED
    azlin_breakglass_remove
    azlin_info attached 0
    azlin_info note "the share was not mounted; removed azlin's $FSTAB line and kept $HOME_DIR as it is"
    azlin_report_backups
    azlin_ok
  fi
fi

if [ "$fstab_lines" = 0 ]; then
  src=$(findmnt -n -o SOURCE --mountpoint "$HOME_DIR" | tail -n 1)
  fstype=$(findmnt -n -o FSTYPE --mountpoint "$HOME_DIR" | tail -n 1)
  case $fstype in
    nfs | nfs4) ;;
    *) die "$HOME_DIR is a mount of $src (type $fstype) that azlin did not make; not touching it" ;;
  esac
  if [ -n "$NFS_SOURCE" ] && ! azlin_is_share_source "$src"; then
    die "$HOME_DIR is mounted from $src, not from $NFS_SOURCE"
  fi
  fstab_source=$src
fi

azlin_step busy
holders=$(azlin_holders "$HOME_DIR")
if [ -n "$holders" ]; then
  if [ "$FORCE" != 1 ]; then
    die "$HOME_DIR is in use by: ${holders% }; stop them (log out) or run the detach again with --force to stop them; nothing changed"
  fi
  echo "stopping processes that use $HOME_DIR: $holders"
  azlin_info stopped "${holders% }"
  pids=()
  azlin_holder_pids pids "$holders"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 20); do
    if [ -z "$(azlin_holders "$HOME_DIR")" ]; then break; fi
    sleep 0.5
  done
  left=$(azlin_holders "$HOME_DIR")
  if [ -n "$left" ]; then
    azlin_holder_pids pids "$left"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    sleep 1
  fi
fi

azlin_step copy
LOCAL=$(azlin_free_name "$HOME_DIR.local")
mkdir -m 0700 "$LOCAL"
azlin_copy_tree "$HOME_DIR" "$LOCAL" COPIED_ENTRIES
chown --reference="$HOME_DIR" "$LOCAL"
chmod --reference="$HOME_DIR" "$LOCAL"

azlin_step unmount
if ! azlin_unmount "$HOME_DIR"; then
  die "could not unmount the share from $HOME_DIR (in use by: $(azlin_holders "$HOME_DIR")); run the detach again with --force to stop those processes"
fi
UNMOUNTED=1
if azlin_mounted "$HOME_DIR"; then
  die "$HOME_DIR is still a mount point after unmounting the share (stacked mounts?)"
fi

azlin_step swap
hidden=
if azlin_is_empty_dir "$HOME_DIR"; then
  rmdir "$HOME_DIR"
elif [ -e "$HOME_DIR" ]; then
  # Files were written into the mount point while the share was not mounted:
  # keep them under a new name.
  hidden=$(azlin_free_name "$HOME_DIR.under-mount")
  mv -T "$HOME_DIR" "$hidden"
fi
mv -T "$LOCAL" "$HOME_DIR"
LOCAL_PLACED=1

azlin_step layout
azlin_layout_remove

azlin_step fstab
azlin_fstab_write "" FSTAB_CHANGED
if [ "$(azlin_fstab_count)" != 0 ]; then die "$FSTAB still holds an azlin line"; fi

azlin_step breakglass
azlin_breakglass_remove

azlin_info attached 0
azlin_info was_attached_to "${fstab_source:-$NFS_SOURCE}"
azlin_info copied_entries "$COPIED_ENTRIES"
if [ -n "$hidden" ]; then azlin_info files_found_under_mount_point "$hidden"; fi
azlin_report_backups
azlin_ok
