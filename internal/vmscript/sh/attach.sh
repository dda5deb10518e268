# shellcheck shell=bash
# ---- attach: put HOME_DIR on the NFS share ----
# Order, chosen so that the user's files always exist somewhere whole:
#   mount the share at STAGING -> (share lock) seed the share from the live home
#   when the share is empty, merge keys -> unmount STAGING -> rename the home to
#   its backup name -> mount the share over an empty HOME_DIR -> fstab -> verify.
# Any failure rolls back in reverse (azlin_rollback below).

STAGING_MOUNTED=0
SEED_DIR=
HOME_MOVED=0
HOME_CREATED=0
HOME_MOUNTED=0
FSTAB_CHANGED=0
BACKUP=
SEEDED=no
KEYS_ADDED=0
ALREADY=0     # 1: the home was the share's mount already
PLAIN_UNMOUNTED=0 # 1: azlin_mount_through_aznfs unmounted the home's plain NFS mount
ALL_KEYS=()   # azlin_collect_keys
HOME_HAD_FILES=no

# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_rollback() {
  local -n azlin_rollback_out=$1
  local notes=()
  if [ "$BG_CHANGED" = 1 ]; then
    azlin_breakglass_restore
    notes+=("restored the sshd configuration")
  fi
  if [ "$PLAIN_UNMOUNTED" = 1 ] && ! azlin_mounted "$HOME_DIR"; then
    # The home was on the share through plain NFS a moment ago: back to that.
    if timeout -k 5 "$MOUNT_TIMEOUT" mount -t nfs -o "$MOUNT_OPTS" "$NFS_SOURCE" "$HOME_DIR" >/dev/null 2>&1; then
      notes+=("mounted the share at $HOME_DIR with plain NFS again, as it was")
    else
      notes+=("could not mount the share at $HOME_DIR again: the files are on the share, untouched; mount -a or a reboot mounts it")
    fi
  fi
  if [ "$HOME_MOUNTED" = 1 ] && azlin_mounted "$HOME_DIR"; then
    # Lazily if busy: the mount goes away, nothing under it is touched.
    if azlin_unmount "$HOME_DIR" || umount -l "$HOME_DIR" 2>/dev/null; then
      notes+=("unmounted the share from $HOME_DIR")
    else
      notes+=("could not unmount the share from $HOME_DIR")
    fi
  fi
  if [ "$FSTAB_CHANGED" = 1 ]; then
    if azlin_fstab_restore; then notes+=("restored $FSTAB"); else notes+=("could not restore $FSTAB; the previous one is $FSTAB.azlin-prev"); fi
  fi
  if azlin_layout_share_changed; then
    notes+=("the layout's paths on the share were made per-VM (this VM's files for them are under $LOCAL_ROOT)")
  fi
  if [ -n "$SEED_DIR" ]; then
    # An unfinished copy on the share: kept (never deleted), renamed so that the
    # next attach knows it is not the user's data and seeds again.
    local failed="${SEED_DIR/.azlin-seed-partial-/.azlin-seed-failed-}"
    if mv -T "$SEED_DIR" "$failed" 2>/dev/null; then notes+=("left an unfinished copy on the share as ~/${failed##*/}"); fi
  fi
  azlin_share_unlock
  if [ "$STAGING_MOUNTED" = 1 ]; then
    if azlin_mounted "$STAGING"; then azlin_unmount "$STAGING" || umount -l "$STAGING" 2>/dev/null || true; fi
    if ! azlin_mounted "$STAGING"; then rmdir "$STAGING" 2>/dev/null || true; fi
  fi
  if [ "$HOME_MOVED" = 1 ]; then
    # Only an empty, unmounted directory that this script made is replaced.
    if ! azlin_mounted "$HOME_DIR" && azlin_is_empty_dir "$HOME_DIR" && rmdir "$HOME_DIR" && mv -T "$BACKUP" "$HOME_DIR"; then
      notes+=("moved $BACKUP back to $HOME_DIR")
    else
      notes+=("your home is at $BACKUP; $HOME_DIR was not restored because it is not an empty unmounted directory")
    fi
  elif [ "$HOME_CREATED" = 1 ]; then
    if ! azlin_mounted "$HOME_DIR" && azlin_is_empty_dir "$HOME_DIR"; then rmdir "$HOME_DIR" || true; fi
  fi
  azlin_rollback_out="rolled back: ${notes[*]:-nothing had changed}"
}

# azlin_merge_keys ROOT ADDED KEY...: adds the KEYs that
# ROOT/.ssh/authorized_keys lacks; ADDED = how many. Existing lines are kept
# byte for byte; the file is replaced through a rename; never overwritten.
azlin_merge_keys() {
  local -n azlin_merged_out=$2
  local dir="$1/.ssh" file="$1/.ssh/authorized_keys" tmp key
  shift 2
  azlin_merged_out=0
  if [ -L "$dir" ] || [ -L "$file" ]; then
    die "$dir or its authorized_keys on the share is a symlink; azlin will not write through it"
  fi
  if [ ! -d "$dir" ]; then
    mkdir -m 0700 "$dir"
    chown "$USER_UID:$USER_GID" "$dir"
  fi
  tmp="$dir/.authorized_keys.azlin-$HOSTNAME-$$" # process ids repeat across VMs
  if [ -f "$file" ]; then cp -p "$file" "$tmp"; else : >"$tmp"; fi
  if [ -s "$tmp" ] && [ -n "$(tail -c 1 "$tmp")" ]; then echo >>"$tmp"; fi
  for key in "$@"; do
    if ! grep -qxF -- "$key" "$tmp"; then
      printf '%s\n' "$key" >>"$tmp"
      azlin_merged_out=$((azlin_merged_out + 1))
    fi
  done
  if [ "$azlin_merged_out" -gt 0 ] || [ ! -f "$file" ]; then
    chown "$USER_UID:$USER_GID" "$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$file"
  else
    rm -f "$tmp"
  fi
  # sshd (StrictModes) ignores keys that others can write or that root does not own or the user.
  chown "$USER_UID:$USER_GID" "$dir" "$file"
  chmod 0700 "$dir"
  chmod 0600 "$file"
}

# azlin_share_entries VAR: VAR = how many names in the share root are user
# data (not the share's .snapshot, not azlin's lock and seed leftovers).
azlin_share_entries() {
  local -n azlin_count_out=$1
  local names n
  azlin_dir_entries "$STAGING" names
  azlin_count_out=0
  for n in "${names[@]}"; do
    case $n in .snapshot | .azlin-*) ;; *) azlin_count_out=$((azlin_count_out + 1)) ;; esac
  done
}

# azlin_keys_merged ROOT KEY...: does ROOT/.ssh/authorized_keys hold every
# KEY, with the modes and owner sshd needs? (Reads only.)
azlin_keys_merged() {
  local dir="$1/.ssh" file="$1/.ssh/authorized_keys" key line
  shift
  local -A have=()
  if [ -L "$dir" ] || [ -L "$file" ] || [ ! -f "$file" ]; then return 1; fi
  if [ "$(stat -c %a:%u:%g "$dir" "$file")" != "700:$USER_UID:$USER_GID"$'\n'"600:$USER_UID:$USER_GID" ]; then return 1; fi
  while IFS= read -r line || [ -n "$line" ]; do have[x$line]=1; done <"$file"
  for key in "$@"; do
    [ -n "${have[x$key]:-}" ] || return 1
  done
}

# azlin_share_current ROOT HOME_HAS_FILES SHARE_ENTRIES KEY...: is the share
# already as this VM's attach would leave it (owner, seeded, the KEYs merged,
# the layout's symlinks)? Then the VM needs no share lock: VMs after the first
# attach side by side.
# (Reads only; a share that is current stays current, since no step undoes
# another VM's work, and anything else takes the lock and checks again.)
azlin_share_current() {
  local root=$1 p olds
  if [ "$(stat -c %u:%g "$root")" != "$USER_UID:$USER_GID" ]; then return 1; fi
  if [ "$2" = yes ] && [ "$3" -eq 0 ]; then return 1; fi
  shift 3
  azlin_keys_merged "$root" "$@" || return 1
  if [ "$LAYOUT_APPLY" = 1 ]; then
    azlin_layout_state local olds
    for p in "${olds[@]}"; do
      if ! azlin_in_list "$p" "${LAYOUT_LOCAL[@]}"; then return 1; fi
    done
    for p in "${LAYOUT_LOCAL[@]}"; do
      [ -L "$root/$p" ] && [ "$root/$p" -ef "$LOCAL_ROOT/$p" ] || return 1
    done
  fi
  # Last: another VM holding the lock may be seeding the share right now
  # (what was checked above may be its first moves); then wait for it.
  [ ! -e "$root/.azlin-lock" ]
}

# azlin_mount_through_aznfs SRC: the home is already this share's mount; when
# it is a plain NFS mount of the endpoint's name (SRC = NFS_SOURCE) but the
# share is mounted through AZNFS (a VM attached by an azlin that mounted Blob
# NFS with -t nfs), it is mounted again through AZNFS, so that it follows the
# endpoint's IP from now on. Only when nothing uses the home: a busy home is
# left as it is (the fstab line, already AZNFS's, takes over at the next
# boot), never unmounted lazily. The files on the share are not touched.
azlin_mount_through_aznfs() {
  [ "$NFS_TYPE" = aznfs ] && [ "$1" = "$NFS_SOURCE" ] || return 0
  azlin_step remount-aznfs
  if ! azlin_unmount "$HOME_DIR"; then
    azlin_info remount "busy: $HOME_DIR stays a plain NFS mount for now (in use by $(azlin_holders "$HOME_DIR")); the fstab line mounts it through AZNFS at the next boot, or run attach again when the home is not in use"
    return 0
  fi
  # Not HOME_MOUNTED: once mounted, a later failure leaves the home on the
  # share (through AZNFS) rather than unmount it.
  PLAIN_UNMOUNTED=1
  azlin_mount "$HOME_DIR"
  PLAIN_UNMOUNTED=0
  azlin_info remount "plain NFS -> aznfs"
}

azlin_mount_staging() {
  azlin_step mount-staging
  mkdir -p "$STAGING"
  STAGING_MOUNTED=1
  azlin_mount "$STAGING"
}

azlin_done_staging() {
  azlin_share_unlock
  azlin_step unmount-staging
  if ! azlin_unmount "$STAGING"; then
    die "could not unmount the staging mount $STAGING (busy: $(azlin_holders "$STAGING"))"
  fi
  STAGING_MOUNTED=0
  rmdir "$STAGING" 2>/dev/null || true
}

# azlin_finish: the last steps of every attach, once the share is mounted at
# HOME_DIR (by this run, or already): the one fstab line, the checks, the
# layout's settings, break-glass, the self-test and the report.
azlin_finish() {
  azlin_step fstab
  azlin_fstab_write "$FSTAB_LINE" FSTAB_CHANGED
  if [ "$(azlin_fstab_count)" != 1 ]; then die "$FSTAB does not hold exactly one azlin line after writing it"; fi

  azlin_step verify
  if ! azlin_mounted "$HOME_DIR"; then die "$HOME_DIR is not a mount point after mounting"; fi
  azlin_verify_rw "$HOME_DIR"

  if [ "$LAYOUT_APPLY" = 1 ]; then
    azlin_step layout-settings
    azlin_layout_finish
  fi

  azlin_step breakglass
  azlin_breakglass "${ALL_KEYS[@]}"

  azlin_step probes
  azlin_probes "$HOME_DIR"

  azlin_info already "$ALREADY"
  azlin_info source "$NFS_SOURCE"
  if [ "$ALREADY" = 0 ]; then
    # What only a run that moved the home did.
    azlin_info backup "${BACKUP:-none}"
    azlin_info seeded "$SEEDED"
    if [ "$SEEDED" = no ] && [ "$HOME_HAD_FILES" = yes ]; then
      azlin_info local_files_kept_in "$BACKUP"
    fi
  fi
  azlin_info keys_added "$KEYS_ADDED"
  if [ "$ALREADY" = 1 ]; then azlin_info fstab_changed "$FSTAB_CHANGED"; fi
  azlin_ok
}

azlin_start

azlin_step lock
azlin_lock

azlin_step packages
azlin_ensure_nfs_client
azlin_check_mount_helper

azlin_step user
azlin_check_user

if [ "$NFS_IDMAP" = 1 ]; then
  azlin_step idmap
  azlin_nfs_idmap
fi

if [ "$LAYOUT_APPLY" = 1 ]; then
  azlin_step layout-prepare
  azlin_layout_prepare
fi

azlin_step preflight
if [ -L "$HOME_DIR" ]; then die "$HOME_DIR is a symlink; azlin only attaches a real directory"; fi
if [ -e "$HOME_DIR" ] && [ ! -d "$HOME_DIR" ]; then die "$HOME_DIR exists and is not a directory"; fi
foreign=$(azlin_fstab_foreign "$HOME_DIR")
if [ -n "$foreign" ]; then die "$FSTAB already mounts something at $HOME_DIR (line $foreign), not made by azlin; remove that line first"; fi
if [ "$(azlin_fstab_count)" -gt 1 ]; then echo "$FSTAB has several azlin lines; they will be replaced by one"; fi
mounts=$(findmnt -rn -o TARGET)
submounts=
while IFS= read -r mnt; do
  if [[ $mnt == "$HOME_DIR/"* ]]; then submounts+="$mnt "; fi
done <<<"$mounts"
if [ -n "$submounts" ]; then die "there are mounts inside $HOME_DIR ($submounts); unmount them first"; fi
if azlin_mounted "$STAGING"; then
  # Left by a run that was killed; it is this script's own mount.
  umount "$STAGING" 2>/dev/null || umount -l "$STAGING"
fi

azlin_step check-mounted
if azlin_mounted "$HOME_DIR"; then
  src=$(findmnt -n -o SOURCE --mountpoint "$HOME_DIR" | tail -n 1)
  fstype=$(findmnt -n -o FSTYPE --mountpoint "$HOME_DIR" | tail -n 1)
  case $fstype in
    nfs | nfs4)
      if ! azlin_is_share_source "$src"; then
        die "$HOME_DIR is already mounted from $src; run azlin storage detach first"
      fi
      ;;
  esac
  # Is it this share? A file made through a fresh mount of the share must show
  # up in HOME_DIR (this works for every kind of mount, bind mounts included).
  azlin_mount_staging
  azlin_step check-mounted
  probe=".azlin-probe-$HOSTNAME-$$"
  # shellcheck disable=SC2016 # $1 is the inner shell's argument
  azlin_as_user sh -c ': >"$1"' sh "$STAGING/$probe" || die "$USER_NAME cannot write to the share"
  same=no
  if [ -e "$HOME_DIR/$probe" ]; then same=yes; fi
  rm -f "$STAGING/$probe"
  if [ "$same" != yes ]; then
    die "$HOME_DIR is already a mount point (source $src, type $fstype) of something other than $NFS_SOURCE; run azlin storage detach first"
  fi
  ALREADY=1
  azlin_step keys
  azlin_collect_keys ALL_KEYS
  if ! azlin_share_current "$STAGING" no 1 "${ALL_KEYS[@]}"; then
    azlin_share_lock "$STAGING"
    azlin_merge_keys "$STAGING" KEYS_ADDED "${ALL_KEYS[@]}"
    if [ "$LAYOUT_APPLY" = 1 ]; then
      azlin_step layout
      azlin_layout_share "$STAGING"
    fi
  fi
  azlin_done_staging
  azlin_mount_through_aznfs "$src"
  azlin_finish
fi

azlin_mount_staging

if [ -d "$HOME_DIR" ] && ! azlin_is_empty_dir "$HOME_DIR"; then HOME_HAD_FILES=yes; fi
azlin_collect_keys ALL_KEYS

azlin_step root-probe
# The share's root becomes the home directory itself, so the user must own it,
# and root must be able to make files the user owns (seeding, keys): both need
# a share that does not squash root (NoRootSquash, the Azure default and what
# azlin creates). With RootSquash this fails here, before anything changed.
rootprobe="$STAGING/.azlin-rootprobe-$HOSTNAME-$$"
if ! { : >"$rootprobe" && chown "$USER_UID:$USER_GID" "$rootprobe"; } 2>/dev/null; then
  rm -f "$rootprobe" 2>/dev/null || true
  die "root on this VM cannot create files owned by uid $USER_UID on the share (RootSquash?); azlin needs NoRootSquash"
fi
rm -f "$rootprobe"

share_files=0
azlin_share_entries share_files
if azlin_share_current "$STAGING" "$HOME_HAD_FILES" "$share_files" "${ALL_KEYS[@]}"; then
  azlin_info share_lock skipped
else
  azlin_step share-lock
  azlin_share_lock "$STAGING"

  azlin_step share-owner
  if [ "$(stat -c %u:%g "$STAGING")" != "$USER_UID:$USER_GID" ]; then
    chown "$USER_UID:$USER_GID" "$STAGING" 2>/dev/null ||
      die "cannot give the share's root to uid $USER_UID: the share squashes root (RootSquash); azlin needs NoRootSquash"
  fi

  azlin_step seed
  # Counted again under the lock: another VM may have seeded it meanwhile.
  azlin_share_entries share_files
  if [ "$share_files" -eq 0 ] && [ "$HOME_HAD_FILES" = yes ]; then
    # Copy into a private folder on the share first, check it, then move its
    # entries into place: a half-done copy is never mistaken for the home.
    if [ "$HARD_LINKS" = 0 ]; then azlin_report_hard_links "$HOME_DIR"; fi
    SEED_DIR="$STAGING/.azlin-seed-partial-$HOSTNAME-$TS"
    mkdir -m 0700 "$SEED_DIR"
    seeded_count=0
    azlin_copy_tree "$HOME_DIR" "$SEED_DIR" seeded_count
    mapfile -d '' seeded_entries < <(find "$SEED_DIR" -mindepth 1 -maxdepth 1 -print0)
    for entry in "${seeded_entries[@]}"; do
      name=${entry##*/}
      if [ -e "$STAGING/$name" ] || [ -L "$STAGING/$name" ]; then
        die "$name appeared on the share while seeding it"
      fi
      mv -T -- "$entry" "$STAGING/$name"
    done
    rmdir "$SEED_DIR"
    SEED_DIR=
    chmod --reference="$HOME_DIR" "$STAGING"
    SEEDED=yes
    azlin_info seeded_entries "$seeded_count"
  fi

  azlin_step keys
  azlin_merge_keys "$STAGING" KEYS_ADDED "${ALL_KEYS[@]}"
  if [ "$LAYOUT_APPLY" = 1 ]; then
    azlin_step layout
    azlin_layout_share "$STAGING"
  fi
fi
if [ "$SEEDED" = no ] && [ "$share_files" -gt 0 ]; then
  azlin_info share_had_files "$share_files"
fi
azlin_done_staging

azlin_step backup
if [ "$HOME_HAD_FILES" = yes ]; then
  # A rename: atomic, no second copy on disk, and it leaves no moment in which
  # the files exist nowhere.
  BACKUP=$(azlin_free_name "$HOME_DIR.backup")
  mv -T "$HOME_DIR" "$BACKUP"
  HOME_MOVED=1
  mkdir "$HOME_DIR"
  HOME_CREATED=1
  chown "$USER_UID:$USER_GID" "$HOME_DIR"
  chmod --reference="$BACKUP" "$HOME_DIR"
elif [ ! -e "$HOME_DIR" ]; then
  mkdir -m 0750 "$HOME_DIR"
  HOME_CREATED=1
  chown "$USER_UID:$USER_GID" "$HOME_DIR"
fi

azlin_step mount-home
HOME_MOUNTED=1
azlin_mount "$HOME_DIR"

azlin_finish
