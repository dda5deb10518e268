#!/usr/bin/env bash
# Conformance check of the az emulator's argument surface (make conformance).
#
# Every distinct argv in an AZEMU_LOG file is run through the real Azure CLI
# with an empty config dir and no login. Without a login, real az exits 1 on
# any argv whose arguments parse, and 2 on an argument error. The check fails
# when the two disagree: the emulator accepted an argv that real az rejects
# with exit 2, or rejected with exit 2 one that real az accepts.
#
# Two real az: Debian 13's azure-cli 2.74 in a chroot (scripts/az-rootfs.sh
# builds and caches its root filesystem) is the anchor; Debian 12's 2.45
# (installed if missing) answers for the monitor family, which 2.74's Debian
# package cannot load, and for any argv that 2.74 cannot load. Every argv also
# goes through 2.45, and where the two az disagree on an argv the output
# lists it. The output names each az version and how many argv it decided.
#
# Usage: scripts/conformance.sh [AZEMU_LOG-file]
# Without a file, the log comes from running the emulator's own tests with
# AZEMU_TEST_LOG set (every call they make is logged). End-to-end tests of
# azlin can produce a log the same way (AZEMU_LOG=FILE) and pass it here.
#
# Debian's az 2.45 lacks the network 2022-01-01 and compute 2022-11-01 SDKs:
# as in the az-shapes capture, its runner maps them to the installed 2022-07-01
# and 2022-08-01 before az starts, which only affects model loading. An argv
# that still cannot load (a traceback, exit 1) is reported as unchecked.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/az ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "conformance needs Debian's azure-cli: apt-get install azure-cli" >&2
    exit 1
  fi
  echo "installing azure-cli ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends azure-cli >/dev/null
fi
rootfs=$(scripts/az-rootfs.sh)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=${1:-}
if [ -z "$log" ]; then
  log=$work/az.log
  echo "running the emulator's tests to record their az calls ..." >&2
  AZEMU_TEST_LOG=$log go test -tags localcloud -count=1 ./localcloud/azemu/ >&2
fi

export AZURE_CONFIG_DIR=$work/azure AZURE_CORE_COLLECT_TELEMETRY=no AZURE_CORE_NO_COLOR=1
mkdir -p "$AZURE_CONFIG_DIR"

# One az process answers many command lines (az's own test suite invokes it
# repeatedly in-process too): start-up is most of an az call's cost.
cat >"$work/batchaz.py" <<'EOF'
import contextlib, io, json, logging, os, sys
if os.environ.get('BATCHAZ_MAP_SDKS'):  # Debian 12's 2.45 only: see the top of conformance.sh
    from azure.cli.core.profiles import ResourceType, _shared
    latest = _shared.AZURE_API_PROFILES['latest']
    latest[ResourceType.MGMT_NETWORK] = '2022-07-01'
    compute = latest[ResourceType.MGMT_COMPUTE]
    ops = {k: v for k, v in compute.profile.items() if k is not None}
    ops['virtual_machine_scale_sets'] = '2022-08-01'
    latest[ResourceType.MGMT_COMPUTE] = _shared.SDKProfile('2022-08-01', ops)
os.environ['AZ_INSTALLER'] = 'DEB'
os.makedirs(os.environ["AZURE_CONFIG_DIR"], exist_ok=True)
from azure.cli.core import get_default_cli, __version__
print(json.dumps({'version': __version__}), flush=True)
for line in sys.stdin:
    argv = json.loads(line)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = get_default_cli().invoke(argv, out_file=io.StringIO())
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception as e:  # az crashed outside its own handler
            code = 1
            err.write('Traceback (crash): %r\n' % e)
    for h in logging.getLogger().handlers[:]:
        logging.getLogger().removeHandler(h)
    print(json.dumps({'argv': argv, 'code': code, 'stderr': err.getvalue()[-4000:]}), flush=True)
EOF

cat >"$work/check.py" <<'EOF'
import json, os, subprocess, sys, threading

log, batchaz, rootfs = sys.argv[1:4]
ARG_ERRORS = ('unrecognized arguments', 'the following arguments are required', 'is not a valid value',
              'expected one argument', 'expected at least one argument', 'is misspelled or not recognized',
              'invalid jmespath_type value', 'ambiguous option', 'ignored explicit argument')
WORKERS = 2

# How to start each real az's batch runner. 2.74 runs chrooted into its root
# filesystem, in a mount namespace whose /tmp is a fresh tmpfs (its config
# dir), so the cached root filesystem stays untouched.
OLD_AZ = (['/usr/bin/python3', batchaz], {'BATCHAZ_MAP_SDKS': '1'})
NEW_AZ = (['unshare', '--mount', '--', 'sh', '-c', 'mount -t tmpfs tmpfs "$0/tmp" && exec chroot "$0" /usr/bin/python3 -c "$1"',
           rootfs, open(batchaz).read()], {'AZURE_CONFIG_DIR': '/tmp/azure', 'HOME': '/tmp', 'PYTHONWARNINGS': 'ignore'})


def real_az(runner, argvs):
    """Runs argvs through one real az in WORKERS processes: (version, {argv: (code, stderr)})."""
    cmd, env = runner
    env = dict(os.environ, **env)
    out, version = {}, []

    def work(chunk):
        # A command line that kills the az process (a hard exit inside az)
        # would leave the rest of the chunk unanswered: note it as unchecked
        # and go on with a fresh process from the next line.
        while chunk:
            p = subprocess.run(cmd, input=''.join(json.dumps(a) + '\n' for a in chunk), env=env,
                               capture_output=True, text=True, timeout=1800)
            answered = 0
            for line in p.stdout.splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                if 'version' in r:
                    version.append(r['version'])
                    continue
                out[tuple(r['argv'])] = (r['code'], r['stderr'])
                answered += 1
            if answered >= len(chunk):
                return
            if not version:
                sys.exit('real az did not start (%s): %s' % (' '.join(cmd[:3]), p.stderr[-2000:]))
            killer = chunk[answered]
            out[tuple(killer)] = (1, 'Traceback (crash): the az process ended while answering this line: ' + p.stderr[-300:])
            chunk = chunk[answered + 1:]

    threads = [threading.Thread(target=work, args=(argvs[i::WORKERS],)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if not version:
        sys.exit('real az did not start (%s)' % ' '.join(cmd[:3]))
    return version[0], out


def verdict(argv, code, err, emu_exit):
    # az reports every command module it failed to load on each argument
    # error; the error that matters is the other one.
    errors = [l for l in err.splitlines() if l.startswith('ERROR:')]
    unloaded = [l for l in errors if l.startswith('ERROR: Error loading command module')]
    first = next((l for l in errors if l not in unloaded), errors[0] if errors else err.strip()[:300])
    if 'is misspelled or not recognized' in err and any("module '%s'" % argv[0] in l for l in unloaded if argv):
        # az went on without the module of this argv's family and then
        # rejected the command as unknown: nothing said about its arguments.
        return 'unchecked', 'real az cannot load this command: ' + unloaded[0]
    if code == 1 and "Please run 'az login'" in err:
        pass  # the arguments parsed; az stopped at the login check
    elif code == 2 and not any(e in err for e in ARG_ERRORS):
        return 'unchecked', 'real az exit 2 without an argument error: ' + first
    elif code != 2 and ('Traceback' in err or 'unexpected error' in err):
        return 'unchecked', 'real az cannot load this command: ' + first
    if (code == 2) != (emu_exit == 2):
        return 'mismatch', 'emulator exit %d, real az exit %d: %s' % (emu_exit, code, first)
    return 'ok', ''


calls = {}
for line in open(log):
    line = line.strip()
    if line:
        e = json.loads(line)
        argv = e['argv'][1:]
        if not (argv and argv[0].startswith('__azemu')):
            calls.setdefault(tuple(argv), e['exit'])
print('checking %d distinct az command lines against real az ...' % len(calls), file=sys.stderr)
# The checker must catch a wrong flag; if it does not, nothing it says counts.
probe = ('storage', 'account', 'show', '-n', 'x', '--bogus-flag')
argvs = [list(probe)] + [list(a) for a in calls]
old_version, old = real_az(OLD_AZ, argvs)
new_version, new = real_az(NEW_AZ, argvs)
for version, results in ((old_version, old), (new_version, new)):
    if verdict(probe, *results.get(probe, (0, '')), 0)[0] != 'mismatch':
        sys.exit('conformance self-check failed: az %s did not catch a wrong flag' % version)

# The newer az decides every argv it can load; the older one the rest (2.74's
# Debian package cannot load the monitor module: "ord() expected string of
# length 1"). Where both can, a disagreement between them is listed.
bad = unchecked = 0
decided = {new_version: 0, old_version: 0}
fallback = {}  # family -> how many argv 2.45 decided because 2.74 cannot load them
disagree = []
no_answer = (1, 'Traceback: real az gave no answer')
for argv, emu_exit in sorted(calls.items()):
    old_r, new_r = old.get(argv, no_answer), new.get(argv, no_answer)
    old_v, new_v = verdict(argv, *old_r, emu_exit), verdict(argv, *new_r, emu_exit)
    if new_v[0] != 'unchecked':
        (status, why), version = new_v, new_version
        if old_v[0] != 'unchecked' and (old_r[0] == 2) != (new_r[0] == 2):
            disagree.append((argv, old_r[0], new_r[0]))
    else:
        (status, why), version = old_v, old_version
    if status == 'unchecked':
        unchecked += 1
        print('unchecked: az %s\n    az %s: %s\n    az %s: %s' % (' '.join(argv), new_version, new_v[1], old_version, old_v[1]))
        continue
    decided[version] += 1
    if version == old_version:
        family = argv[0] if argv else ''
        if family not in fallback:
            print('az %s cannot load az %s, az %s decides it: %s' % (new_version, family, old_version, new_v[1]))
        fallback[family] = fallback.get(family, 0) + 1
    if status == 'mismatch':
        bad += 1
        print('MISMATCH (az %s): az %s\n    %s' % (version, ' '.join(argv), why))
for argv, old_code, new_code in disagree:
    print('az %s exit %d, az %s exit %d (az %s decides): az %s' % (
        old_version, old_code, new_version, new_code, new_version, ' '.join(argv)))
print('checked against az %s: %d argv; az %s: %d argv (%s)' % (
    new_version, decided[new_version], old_version, decided[old_version],
    ', '.join('%s %d' % kv for kv in sorted(fallback.items())) or 'none'))
print('%d command lines: %d mismatches, %d unchecked, %d where the two az disagree' % (len(calls), bad, unchecked, len(disagree)))
sys.exit(1 if bad else 0)
EOF

/usr/bin/python3 "$work/check.py" "$log" "$work/batchaz.py" "$rootfs"
