# shellcheck shell=bash
# ---- share self-test: what the shared home can do, probed for real ----
# The probes run as the user in a private folder on the share, in two
# processes (a shell for the file-system probes, the system's python3 for
# POSIX locks and sockets), and report probe_<name>=ok, =fail: WHY or
# =skip: WHY (vmscript.Probes reads them and tells what a failure means).
# The folder and the files in it are the probes' own, removed afterwards.

# azlin_probes DIR: runs every probe in a private folder under DIR.
azlin_probes() {
  local dir="$1/.azlin-check-$HOSTNAME-$$" n line results=''
  local -A got=()
  local probe_names=(owner flock fcntl mkfifo unix_socket hard_link rename)

  # The shell probes, in bash: $1 is the private folder, $2:$3 the uid:gid
  # files made there must show, $4 is 1 when the share has hard links (Blob
  # NFS 3.0 has none: that probe is skipped); prints NAME=RESULT lines. A probe that fails
  # returns 1, with why set or its tool's message in the folder's err file
  # (no subshells: starting processes is the probes' main cost).
  # shellcheck disable=SC2016 # the inner bash expands it, not this one
  local probes_sh='d=$1 want=$2:$3 why=
probe() {
  why=
  if "$2" 2>"$d/err" </dev/null; then echo "$1=ok"; return 0; fi
  if [ -z "$why" ]; then read -r why <"$d/err" || true; fi
  why=${why:-failed}
  why=${why//[[:cntrl:]]/ }
  echo "$1=fail: ${why:0:160}"
}
owner() {
  : >"$d/owner" || return 1
  o=$(stat -c %u:%g "$d/owner") || return 1
  [ "$o" = "$want" ] || { why="a file made by uid:gid $want shows owner $o"; return 1; }
}
flock_probe() {
  local rc=0
  exec 8>>"$d/flock" || return 1
  if ! flock -n -x 8; then why="could not take a lock on a new file"; rc=1
  elif flock -n -x "$d/flock" true; then why="a second lock on the file was granted while the first was held"; rc=1; fi
  exec 8>&-
  return $rc
}
fifo() {
  local got=
  mkfifo "$d/fifo" || return 1
  [ -p "$d/fifo" ] || { why="not a FIFO after mkfifo"; return 1; }
  # Opened for reading and writing, the FIFO never blocks its opener.
  exec 7<>"$d/fifo" || return 1
  printf "ok\n" >&7
  read -r -t 5 got <&7 || true
  exec 7>&-
  [ "$got" = ok ] || { why="no data came through the FIFO"; return 1; }
}
link() {
  : >"$d/a" && ln "$d/a" "$d/b" || return 1
  n=$(stat -c %h "$d/a"); [ "$n" = 2 ] || { why="the file has $n links after ln, not 2"; return 1; }
}
rename() {
  local got=
  printf old >"$d/r" && printf new >"$d/r.new" && mv -f "$d/r.new" "$d/r" || return 1
  read -r got <"$d/r" || true
  [ "$got" = new ] && [ ! -e "$d/r.new" ] || { why="after renaming over it the file does not hold the new content alone"; return 1; }
}
probe owner owner
probe flock flock_probe
probe mkfifo fifo
if [ "$4" = 1 ]; then probe hard_link link; else echo "hard_link=skip: Blob NFS 3.0 has no hard links"; fi
probe rename rename'

  # The python probes: POSIX (fcntl) locks across two processes, and a Unix
  # socket bound and connected; sys.argv[1] is the private folder.
  local probes_py='import fcntl, os, socket, sys
d = sys.argv[1]
def report(name, f):
    try:
        f()
        print(name + "=ok")
    except BaseException as e:
        print(name + "=fail: " + " ".join(str(e).split())[:160])
def posix_lock():
    p = os.path.join(d, "fcntl")
    f = open(p, "a")
    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    pid = os.fork()
    if pid == 0:
        try:
            fcntl.lockf(open(p, "a"), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os._exit(0)
        os._exit(1)
    _, st = os.waitpid(pid, 0)
    if os.WEXITSTATUS(st) != 0:
        raise Exception("a second process got the lock while the first held it")
def unix_socket():
    p = os.path.join(d, "sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(p)
    s.listen(1)
    c = socket.socket(socket.AF_UNIX)
    c.settimeout(5)
    c.connect(p)
    a, _ = s.accept()
    c.sendall(b"ok")
    if a.recv(2) != b"ok":
        raise Exception("no data came through the socket")
report("fcntl", posix_lock)
report("unix_socket", unix_socket)'
  if ! azlin_as_user mkdir "$dir" 2>/dev/null; then
    for n in "${probe_names[@]}"; do azlin_info "probe_$n" "fail: $USER_NAME cannot make a folder in $1"; done
    return 0
  fi
  results=$(azlin_as_user bash -c "$probes_sh" bash "$dir" "$USER_UID" "$USER_GID" "$HARD_LINKS" 2>/dev/null || true)
  # The system's python3 (cloud-init's own on Ubuntu), not one on root's PATH
  # that the user may not run; isolated and without site packages (-I -S):
  # the probes need only the standard library, and it starts faster.
  if [ -x /usr/bin/python3 ]; then
    results+=$'\n'$(azlin_as_user /usr/bin/python3 -I -S -c "$probes_py" "$dir" 2>/dev/null || true)
  else
    results+=$'\n'"fcntl=skip: /usr/bin/python3 is not installed"$'\n'"unix_socket=skip: /usr/bin/python3 is not installed"
  fi
  while IFS= read -r line; do
    if [ -n "$line" ]; then got[${line%%=*}]=${line#*=}; fi
  done <<<"$results"
  for n in "${probe_names[@]}"; do
    azlin_info "probe_$n" "${got[$n]:-fail: the probe reported nothing}"
  done
  rm -f -- "$dir/owner" "$dir/flock" "$dir/fcntl" "$dir/fifo" "$dir/sock" "$dir/a" "$dir/b" "$dir/r" "$dir/r.new" "$dir/err" 2>/dev/null || true
  rmdir "$dir" 2>/dev/null || true
}
