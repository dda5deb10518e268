# shellcheck shell=bash
# Messages name paths in the home as ~/P, for the user to read: never expanded.
# shellcheck disable=SC2088
# ---- layouts: per-VM local paths in a shared home, and VM-wide settings ----
# A local path P of the layout is, in the shared home, a symlink
# P -> LOCAL_ROOT/P: the same absolute path on every VM, each VM's own disk
# behind it. The share's side (the symlinks) is changed under the share lock;
# LOCAL_ROOT/P is made on every VM that applies the layout, before any login.
# What this VM applied is recorded in LAYOUT_STATE, so that a later layout or
# detach knows what to undo. Data is moved, never deleted: a rename on one
# file system, else a checked copy and then the removal of the source (what
# mv does); anything in the way is renamed aside and reported as a conflict.

# azlin_layout_init (azlin_start calls it): where the state is kept, and
# what the functions below found and did, for azlin_layout_report and for a
# rollback (LAYOUT_CHANGED_SHARE: the share's side was changed).
azlin_layout_init() {
  LAYOUT_STATE=/var/lib/azlin/layout
  LAYOUT_KEPT_DIR=/var/lib/azlin/layout-files
  LAYOUT_MOVED=()
  LAYOUT_CONFLICTS=()
  LAYOUT_KEPT=()
  LAYOUT_CHANGED_SHARE=0
  LAYOUT_WRITTEN=()
  LAYOUT_HOOKED=()
  LAYOUT_PREVIOUS=
}

# azlin_layout_state KEY ARRAY: ARRAY = the values of the KEY=VALUE lines of
# the state file (builtins only: processes are these scripts' main cost).
azlin_layout_state() {
  local -n azlin_state_out=$2
  local k v
  azlin_state_out=()
  if [ ! -f "$LAYOUT_STATE" ]; then return 0; fi
  while IFS='=' read -r k v; do
    if [ "$k" = "$1" ] && [ -n "$v" ]; then azlin_state_out+=("$v"); fi
  done <"$LAYOUT_STATE"
}

# azlin_in_list X ITEM...: is X one of ITEMs?
azlin_in_list() {
  local x=$1 y
  shift
  for y in "$@"; do
    if [ "$x" = "$y" ]; then return 0; fi
  done
  return 1
}

azlin_join() {
  local out=
  while [ $# -gt 0 ]; do out+="${out:+; }$1"; shift; done
  printf '%s' "$out"
}

# azlin_layout_share_changed: did this run change the share's side of the
# layout? (A rollback does not undo it: it says so.)
azlin_layout_share_changed() { [ "$LAYOUT_CHANGED_SHARE" = 1 ]; }

# azlin_move_tree SRC DST: moves the directory SRC to DST (which must not
# exist). On one file system a rename; across file systems (share <-> local
# disk) a copy checked by tree listing, then SRC is removed, never crossing
# into another mount (--one-file-system) and never when a mount lies inside.
azlin_move_tree() {
  # shellcheck disable=SC2034 # copied: the count is not reported for a move
  local src=$1 dst=$2 tmp copied
  if [ "$(stat -c %d "$src")" = "$(stat -c %d "$(dirname "$dst")")" ]; then
    mv -T -- "$src" "$dst"
    return 0
  fi
  if [ -n "$(findmnt -rn -o TARGET | awk -v d="$src" '$0 == d || index($0, d "/") == 1')" ]; then
    die "$src is or holds a mount point; azlin does not move it"
  fi
  tmp="$dst.azlin-moving-$$"
  mkdir "$tmp"
  azlin_copy_tree "$src" "$tmp" copied
  chown --reference="$src" "$tmp"
  chmod --reference="$src" "$tmp"
  mv -T -- "$tmp" "$dst"
  rm -rf --one-file-system -- "$src"
}

# azlin_local_dirs: LOCAL_ROOT/P exists and belongs to the user for every
# local path P of the layout. The missing folders are made in one mkdir and
# one chown (parents first), not two processes per folder.
azlin_local_dirs() {
  local d p part parts missing=()
  if [ ! -d "${LOCAL_ROOT%/*}" ]; then mkdir -p "${LOCAL_ROOT%/*}"; fi
  for p in "" "${LAYOUT_LOCAL[@]}"; do
    d=$LOCAL_ROOT
    IFS=/ read -ra parts <<<"$p"
    for part in "" "${parts[@]}"; do
      if [ -n "$part" ]; then d="$d/$part"; fi
      if [ -L "$d" ]; then die "$d is a symlink; azlin does not make its layout through symlinks"; fi
      if [ ! -d "$d" ] && ! azlin_in_list "$d" "${missing[@]}"; then missing+=("$d"); fi
    done
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    mkdir -m 0700 -- "${missing[@]}"
    chown "$USER_UID:$USER_GID" -- "${missing[@]}"
  fi
}

# azlin_symlink_parent ROOT P: prints the first parent of ROOT/P that is a symlink.
azlin_symlink_parent() {
  local d=$1 part parts
  IFS=/ read -ra parts <<<"$(dirname "$2")"
  for part in "${parts[@]}"; do
    if [ "$part" = . ]; then continue; fi
    d="$d/$part"
    if [ -L "$d" ]; then printf '%s' "$d"; return 0; fi
  done
}

# azlin_aside ROOT P WHY: renames ROOT/P out of the way and reports it.
azlin_aside() {
  local aside
  aside=$(azlin_free_name "$1/$2.azlin-conflict")
  mv -T -- "$1/$2" "$aside"
  LAYOUT_CONFLICTS+=("$3; kept as ~/${aside#"$1"/}")
}

# azlin_local_make ROOT P: ROOT/P (on the share) becomes the symlink to this
# VM's LOCAL_ROOT/P; a directory there is moved to this VM's disk first.
azlin_local_make() {
  local root=$1 p=$2 link="$1/$2" target="$LOCAL_ROOT/$2" sp
  # Already the symlink to this VM's folder (made by azlin_layout_prepare).
  if [ -L "$link" ] && [ "$link" -ef "$target" ]; then return 0; fi
  sp=$(azlin_symlink_parent "$root" "$p")
  if [ -n "$sp" ]; then
    LAYOUT_CONFLICTS+=("~/$p not made local: ~/${sp#"$root"/} is a symlink")
    return 0
  fi
  LAYOUT_CHANGED_SHARE=1
  if [ -L "$link" ] || { [ -e "$link" ] && [ ! -d "$link" ]; }; then
    azlin_aside "$root" "$p" "~/$p was not a directory"
  elif [ -d "$link" ]; then
    if azlin_is_empty_dir "$link"; then
      rmdir "$link"
    elif azlin_is_empty_dir "$target"; then
      rmdir "$target"
      azlin_move_tree "$link" "$target"
      LAYOUT_MOVED+=("~/$p -> $target")
    else
      azlin_aside "$root" "$p" "~/$p on the share and $target both hold files"
    fi
  fi
  azlin_as_user mkdir -p "$(dirname "$link")"
  azlin_as_user ln -sT "$target" "$link"
}

# azlin_local_revert ROOT P: P is no longer local. The first VM to revert
# gives the share a real directory holding its local files; on the others
# the local files stay where they are, reported.
azlin_local_revert() {
  local root=$1 p=$2 link="$1/$2" target="$LOCAL_ROOT/$2" tmp
  if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
    LAYOUT_CHANGED_SHARE=1
    tmp="$link.azlin-revert-$HOSTNAME-$$"
    if [ -d "$target" ] && ! azlin_is_empty_dir "$target"; then
      azlin_move_tree "$target" "$tmp"
      LAYOUT_MOVED+=("$target -> ~/$p (shared again)")
    else
      if [ -d "$target" ]; then rmdir "$target"; fi
      azlin_as_user mkdir "$tmp"
    fi
    rm -f -- "$link" # azlin's own symlink
    mv -T -- "$tmp" "$link"
  elif [ -d "$target" ] && ! azlin_is_empty_dir "$target"; then
    LAYOUT_KEPT+=("$target (~/$p is shared again; this VM's files stay here)")
  elif [ -d "$target" ]; then
    rmdir "$target"
  fi
}

# What azlin wrote to each setting file is kept in LAYOUT_KEPT_DIR (a copy
# named after the path). A setting file is azlin's only while it holds
# exactly that: one changed by anyone else (an admin's `git config --system`)
# is never replaced nor removed.

# azlin_owned FILE: is FILE still as azlin wrote it?
azlin_owned() {
  local kept="$LAYOUT_KEPT_DIR/${1//\//%}" cur want
  [ -f "$1" ] && [ ! -L "$1" ] && [ -f "$kept" ] || return 1
  azlin_slurp cur "$1"
  azlin_slurp want "$kept"
  [ "$cur" = "$want" ]
}

# azlin_disown FILE: FILE goes, if still azlin's; a changed one stays, reported.
azlin_disown() {
  if azlin_owned "$1"; then
    rm -f -- "$1"
  elif [ -e "$1" ]; then
    LAYOUT_CONFLICTS+=("$1 changed since azlin wrote it: left as it is")
  fi
  rm -f -- "$LAYOUT_KEPT_DIR/${1//\//%}"
}

# azlin_hook FILE HOOK add HOOKED, azlin_hook FILE HOOK remove: HOOK (a
# shell's start-up file of the system) gets, or loses, the one line that
# reads FILE. Every other line is kept as it is; HOOK is replaced through a
# rename. HOOKED = whether HOOK holds the line after: no HOOK (the shell is
# not installed), or not a plain file, is left alone (no).
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_hook() {
  local file=$1 hook=$2 line want have=no out=''
  if [ "$3" = add ]; then
    local -n azlin_hooked_out=$4
    azlin_hooked_out=no
  fi
  want="if [ -r $file ]; then . $file; fi # azlin: layout setting (azlin removes this line with it)"
  if [ ! -f "$hook" ] || [ -L "$hook" ]; then return 0; fi
  while IFS= read -r line || [ -n "$line" ]; do
    if [ "$line" = "$want" ]; then have=yes; else out+=$line$'\n'; fi
  done <"$hook"
  case $3 in
    add)
      azlin_hooked_out=yes
      if [ "$have" = yes ]; then return 0; fi
      out+=$want$'\n'
      ;;
    remove) if [ "$have" = no ]; then return 0; fi ;;
  esac
  printf '%s' "$out" >"$hook.azlin-new"
  chmod --reference="$hook" "$hook.azlin-new"
  chown --reference="$hook" "$hook.azlin-new"
  mv -f "$hook.azlin-new" "$hook"
}

# azlin_layout_settings: writes this layout's setting files (and their hook
# lines) and removes the ones a previous layout wrote that this one lacks. A
# file at a setting's path that is not azlin's is left alone, reported.
azlin_layout_settings() {
  local i f text cur hk hooked entry old olds oldhooks
  for i in "${!LAYOUT_FILES[@]}"; do
    f=${LAYOUT_FILES[$i]}
    text=${LAYOUT_TEXTS[$i]}
    azlin_slurp cur "$f"
    if [ -f "$f" ] && [ ! -L "$f" ] && [ "$cur" = "${text%$'\n'}" ]; then
      : # as this layout wants it already
    elif { [ -e "$f" ] || [ -L "$f" ]; } && ! azlin_owned "$f"; then
      LAYOUT_CONFLICTS+=("$f is not azlin's: left as it is, without this layout's setting")
      continue
    else
      [ -d "${f%/*}" ] || mkdir -p "${f%/*}"
      printf '%s' "$text" >"$f.azlin-new" # 0644: the scripts' umask
      mv -f "$f.azlin-new" "$f"
    fi
    [ -d "$LAYOUT_KEPT_DIR" ] || mkdir -p "$LAYOUT_KEPT_DIR"
    printf '%s' "$text" >"$LAYOUT_KEPT_DIR/${f//\//%}"
    LAYOUT_WRITTEN+=("$f")
    # shellcheck disable=SC2153 # LAYOUT_HOOKS is the header's, LAYOUT_HOOKED this file's
    for hk in ${LAYOUT_HOOKS[$i]}; do # blank-separated paths without blanks
      azlin_hook "$f" "$hk" add hooked
      if [ "$hooked" = yes ]; then LAYOUT_HOOKED+=("$hk $f"); fi
    done
  done
  azlin_layout_state hook oldhooks
  for entry in "${oldhooks[@]}"; do
    if ! azlin_in_list "$entry" "${LAYOUT_HOOKED[@]}"; then azlin_hook "${entry#* }" "${entry%% *}" remove; fi
  done
  azlin_layout_state file olds
  for old in "${olds[@]}"; do
    if ! azlin_in_list "$old" "${LAYOUT_WRITTEN[@]}"; then azlin_disown "$old"; fi
  done
}

azlin_layout_state_write() {
  local p
  [ -d "${LAYOUT_STATE%/*}" ] || mkdir -p "${LAYOUT_STATE%/*}"
  {
    printf 'name=%s\n' "$LAYOUT_NAME"
    for p in "${LAYOUT_LOCAL[@]}"; do printf 'local=%s\n' "$p"; done
    for p in "${LAYOUT_WRITTEN[@]}"; do printf 'file=%s\n' "$p"; done
    for p in "${LAYOUT_HOOKED[@]}"; do printf 'hook=%s\n' "$p"; done
  } >"$LAYOUT_STATE.azlin-new"
  mv -f "$LAYOUT_STATE.azlin-new" "$LAYOUT_STATE"
}

azlin_layout_report() {
  if [ "${#LAYOUT_MOVED[@]}" -gt 0 ]; then azlin_info layout_moved "$(azlin_join "${LAYOUT_MOVED[@]}")"; fi
  if [ "${#LAYOUT_CONFLICTS[@]}" -gt 0 ]; then azlin_info layout_conflicts "$(azlin_join "${LAYOUT_CONFLICTS[@]}")"; fi
  if [ "${#LAYOUT_KEPT[@]}" -gt 0 ]; then azlin_info layout_kept_local "$(azlin_join "${LAYOUT_KEPT[@]}")"; fi
}

# A layout is applied in three parts, so that the share lock, which VMs
# take in turn, is held only for what touches the share:
#   azlin_layout_prepare       this VM's local folders (before the lock)
#   azlin_layout_share ROOT    the share's side, the share at ROOT (under the lock)
#   azlin_layout_finish        setting files, the state, the report (after it)

azlin_layout_prepare() {
  local names
  azlin_layout_state name names
  LAYOUT_PREVIOUS=${names[0]:-}
  azlin_local_dirs
}

azlin_layout_share() {
  local root=$1 p olds
  azlin_layout_state local olds
  for p in "${olds[@]}"; do
    if ! azlin_in_list "$p" "${LAYOUT_LOCAL[@]}"; then azlin_local_revert "$root" "$p"; fi
  done
  for p in "${LAYOUT_LOCAL[@]}"; do azlin_local_make "$root" "$p"; done
}

azlin_layout_finish() {
  azlin_layout_settings
  azlin_layout_state_write
  azlin_info layout "$LAYOUT_NAME"
  if [ -n "$LAYOUT_PREVIOUS" ] && [ "$LAYOUT_PREVIOUS" != "$LAYOUT_NAME" ]; then azlin_info layout_previous "$LAYOUT_PREVIOUS"; fi
  azlin_layout_report
}

# azlin_layout_remove: at detach, with the home local again (a copy of the
# share, symlinks included): each of azlin's symlinks is replaced by this
# VM's local files, the setting files go, and the state is removed.
azlin_layout_remove() {
  local p link target f entry names olds files hooks
  if [ ! -f "$LAYOUT_STATE" ]; then return 0; fi
  azlin_layout_state name names
  azlin_layout_state local olds
  azlin_layout_state file files
  azlin_layout_state hook hooks
  for p in "${olds[@]}"; do
    link="$HOME_DIR/$p"
    target="$LOCAL_ROOT/$p"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$target" ]; then
      rm -f -- "$link" # a copy of azlin's symlink
      if [ -d "$target" ] && ! azlin_is_empty_dir "$target"; then
        azlin_move_tree "$target" "$link"
        LAYOUT_MOVED+=("$target -> ~/$p")
      else
        if [ -d "$target" ]; then rmdir "$target"; fi
        mkdir -m 0700 "$link"
        chown --reference="$HOME_DIR" "$link"
      fi
    elif [ -d "$target" ] && ! azlin_is_empty_dir "$target"; then
      LAYOUT_KEPT+=("$target")
    elif [ -d "$target" ]; then
      rmdir "$target"
    fi
  done
  for entry in "${hooks[@]}"; do azlin_hook "${entry#* }" "${entry%% *}" remove; done
  for f in "${files[@]}"; do azlin_disown "$f"; done
  rmdir "$LAYOUT_KEPT_DIR" 2>/dev/null || true
  rm -f "$LAYOUT_STATE"
  if [ -d "$LOCAL_ROOT" ]; then find "$LOCAL_ROOT" -depth -type d -empty -delete 2>/dev/null || true; fi
  azlin_info layout_removed "${names[0]:-}"
  azlin_layout_report
}
