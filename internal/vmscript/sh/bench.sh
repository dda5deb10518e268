# shellcheck shell=bash
# ---- bench: the shared home against the VM's local disk, measured for real ----
# The same work runs as the user in two folders of this script's own: one on
# the share (HOME_DIR/.azlin-bench-HOST-PID) and one on local disk
# (/tmp/azlin-bench-HOST-PID). Each op is timed in nanoseconds on both:
#   seq_write    one file of BENCH_MIB MiB written and flushed (dd conv=fsync)
#   seq_read     that file read back
#   small_write  BENCH_FILES files of 4 KiB in folders of 50, then flushed
#   small_read   those files read back
#   git_status   `git status` in a repository of those files
# The caches are dropped before each read (as root), so reads come from the
# disk or the share, not from memory, where the kernel lets us.
# The two folders, and everything in them, were made by this run: they are
# removed at the end, also when a step fails or the script is interrupted
# (the one tree a script removes: nothing in it was there before). Folders
# of an earlier run on this VM whose process is gone (killed with the VM)
# are removed first; nothing else in the home or /tmp is touched.
# Reports bench_fs=SHARE_TYPE LOCAL_TYPE (the kernel's own file system
# types, from /proc/self/mountinfo), bench_cache=dropped|kept, and
# bench_<op>=SHARE_NS LOCAL_NS, or bench_<op>=skip: WHY.

BENCH_DIRS=()
BENCH_MARK=.azlin-bench-run # in every folder a bench run made (see the stale sweep)

# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_rollback() {
  local -n azlin_rollback_out=$1
  if azlin_bench_cleanup; then
    azlin_rollback_out="removed the benchmark's folders"
  else
    azlin_rollback_out="could not remove all of the benchmark's folders: ${BENCH_DIRS[*]}"
  fi
}

# azlin_bench_cleanup: removes the folders this run made (and only those:
# each name is checked against the pattern this script gave it).
azlin_bench_cleanup() {
  local d rc=0
  for d in "${BENCH_DIRS[@]}"; do
    case $d in "$HOME_DIR"/.azlin-bench-* | /tmp/azlin-bench-*) ;; *) continue ;; esac
    if [ -d "$d" ] && [ ! -L "$d" ]; then rm -rf --one-file-system -- "$d" 2>/dev/null || rc=1; fi
  done
  return $rc
}

# azlin_bench_stale PARENT PREFIX: removes PARENT/PREFIX-HOST-PID folders of
# earlier runs on this VM whose process is gone.
azlin_bench_stale() {
  local d pid
  for d in "$1/$2-$HOSTNAME-"*; do
    if [ ! -d "$d" ] || [ -L "$d" ]; then continue; fi
    pid=${d##*-}
    [[ $pid =~ ^[0-9]+$ ]] || continue
    [ -f "$d/$BENCH_MARK" ] || continue # not made by a bench run
    if ! kill -0 "$pid" 2>/dev/null; then rm -rf --one-file-system -- "$d" 2>/dev/null || true; fi
  done
}

# azlin_fs_type DIR: the kernel's file system type of the mount DIR is on
# (the longest mount point that holds it). Read from /proc/self/mountinfo
# itself: what the file system really is, whatever findmnt is told.
azlin_fs_type() {
  awk -v p="$1" '{
      mp = $5; for (i = 7; $i != "-"; i++) ;
      if ((p == mp || index(p, mp "/") == 1 || mp == "/") && length(mp) >= best) { best = length(mp); t = $(i + 1) }
    } END { print t }' /proc/self/mountinfo
}

# azlin_drop_caches: flushes and drops the page cache, so that a read comes
# from the disk or the share; BENCH_CACHE says whether the kernel let us.
azlin_drop_caches() {
  sync
  if ! { echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then BENCH_CACHE=kept; fi
}

# azlin_bench_time VAR CMD...: runs CMD as the user; VAR = its time in ns.
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_bench_time() {
  local -n azlin_time_out=$1
  shift
  local t0 t1
  t0=$(date +%s%N)
  azlin_as_user env HOME="$BENCH_HOME" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C "$@"
  t1=$(date +%s%N)
  azlin_time_out=$((t1 - t0))
}

# The user's part of the small-file ops: $1 write|read, $2 the folder, $3 files.
# shellcheck disable=SC2016 # the inner bash expands it, not this one
BENCH_SMALL='set -e
d=$2/tree n=$3
if [ "$1" = write ]; then
  printf -v blk "%4095s" ""
  for ((i = 0; i < n; i++)); do
    sub=$d/d$((i / 50))
    [ -d "$sub" ] || mkdir -p "$sub"
    printf "%s\n" "$blk" >"$sub/f$i"
  done
  sync -f "$d"
else
  find "$d" -type f -name "f*" -exec cat {} + >/dev/null
fi'

# azlin_bench_run OP DIR VAR: one op in DIR; VAR = its time in ns.
# shellcheck disable=SC2034 # a nameref: it sets the variable its caller names
azlin_bench_run() {
  local op=$1 dir=$2
  local -n azlin_run_out=$3
  BENCH_HOME=$dir
  case $op in
    seq_write) azlin_bench_time azlin_run_out dd if=/dev/zero of="$dir/seq" bs=1M count="$BENCH_MIB" conv=fsync status=none ;;
    seq_read)
      azlin_drop_caches
      azlin_bench_time azlin_run_out dd if="$dir/seq" of=/dev/null bs=1M status=none
      ;;
    small_write) azlin_bench_time azlin_run_out bash -c "$BENCH_SMALL" bash write "$dir" "$BENCH_FILES" ;;
    small_read)
      azlin_drop_caches
      azlin_bench_time azlin_run_out bash -c "$BENCH_SMALL" bash read "$dir" "$BENCH_FILES"
      ;;
    git_status)
      # The repository is made untimed; the status is timed with cold caches.
      # (Output is silenced inside: a redirection of the function call would
      # also take the failure marker that the ERR trap prints in it.)
      # shellcheck disable=SC2016 # $1 is the inner shell's argument
      azlin_as_user env HOME="$dir" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null sh -c \
        'cd "$1/tree" && { git init -q && git add -A && git -c user.name=azlin -c user.email=bench@azlin.invalid commit -q -m bench; } >/dev/null' sh "$dir"
      azlin_drop_caches
      azlin_bench_time azlin_run_out git -C "$dir/tree" status --porcelain --untracked-files=normal
      ;;
  esac
}

azlin_start

azlin_step check-attached
if ! azlin_mounted "$HOME_DIR"; then
  die "$HOME_DIR is not mounted from shared storage on this VM; attach it first (azlin storage attach)"
fi

azlin_step lock
azlin_lock

azlin_step prepare
azlin_bench_stale "$HOME_DIR" .azlin-bench
azlin_bench_stale /tmp azlin-bench
share_dir="$HOME_DIR/.azlin-bench-$HOSTNAME-$$"
local_dir="/tmp/azlin-bench-$HOSTNAME-$$"
# Room for the big file and the small ones, with a margin, on both sides.
need=$(((BENCH_MIB + BENCH_FILES * 8 / 1024 + 16) * 1024 * 1024))
for d in "$HOME_DIR" /tmp; do
  avail=$(df -B1 --output=avail "$d" | tail -n 1)
  if [ "${avail// /}" -lt "$need" ]; then
    die "$d has $((${avail// /} / 1048576)) MiB free; the benchmark needs about $((need / 1048576)) MiB there (use smaller --size or --files)"
  fi
done
# A folder is azlin's to remove only once this run has made it (a name that
# was taken already is someone else's), and it carries BENCH_MARK so that a
# later run's sweep of stale folders never takes a user's folder of that name.
azlin_as_user mkdir -m 0700 "$share_dir" || die "$USER_NAME cannot make a folder in $HOME_DIR"
BENCH_DIRS+=("$share_dir")
azlin_as_user touch "$share_dir/$BENCH_MARK"
mkdir -m 0700 "$local_dir" || die "could not make $local_dir"
BENCH_DIRS+=("$local_dir")
touch "$local_dir/$BENCH_MARK"
chown "$USER_UID:$USER_GID" "$local_dir"
azlin_info bench_fs "$(azlin_fs_type "$share_dir") $(azlin_fs_type "$local_dir")"
BENCH_CACHE=dropped

git_ok=yes t_share=0 t_local=0
if ! command -v git >/dev/null 2>&1; then git_ok=no; fi
for op in seq_write seq_read small_write small_read git_status; do
  azlin_step "$op"
  if [ "$op" = git_status ] && [ "$git_ok" = no ]; then
    azlin_info bench_git_status "skip: git is not installed on this VM"
    continue
  fi
  azlin_bench_run "$op" "$share_dir" t_share
  azlin_bench_run "$op" "$local_dir" t_local
  azlin_info "bench_$op" "$t_share $t_local"
done
azlin_info bench_cache "$BENCH_CACHE"

azlin_step cleanup
azlin_bench_cleanup || die "could not remove the benchmark's folders ${BENCH_DIRS[*]}"
BENCH_DIRS=()
azlin_ok
