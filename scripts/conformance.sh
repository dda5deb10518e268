#!/usr/bin/env bash
# Conformance check of the az emulator's argument surface (make conformance).
#
# Every distinct argv in an AZEMU_LOG file is run through the real Azure CLI
# (Debian's azure-cli 2.45, installed if missing) with an empty config dir and
# no login. Without a login, real az exits 1 on any argv whose arguments
# parse, and 2 on an argument error. The check fails when the two disagree:
# the emulator accepted an argv that real az rejects with exit 2, or rejected
# with exit 2 one that real az accepts.
#
# Usage: scripts/conformance.sh [AZEMU_LOG-file]
# Without a file, the log comes from running the emulator's own tests with
# AZEMU_TEST_LOG set (every call they make is logged). End-to-end tests of
# azlin can produce a log the same way (AZEMU_LOG=FILE) and pass it here.
#
# Debian's az 2.45 lacks the network 2022-01-01 and compute 2022-11-01 SDKs:
# as in the az-shapes capture, the runner maps them to the installed 2022-07-01
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
from azure.cli.core.profiles import ResourceType, _shared
latest = _shared.AZURE_API_PROFILES['latest']
latest[ResourceType.MGMT_NETWORK] = '2022-07-01'
compute = latest[ResourceType.MGMT_COMPUTE]
ops = {k: v for k, v in compute.profile.items() if k is not None}
ops['virtual_machine_scale_sets'] = '2022-08-01'
latest[ResourceType.MGMT_COMPUTE] = _shared.SDKProfile('2022-08-01', ops)
os.environ['AZ_INSTALLER'] = 'DEB'
from azure.cli.core import get_default_cli
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
import json, subprocess, sys, threading

log, batchaz = sys.argv[1], sys.argv[2]
ARG_ERRORS = ('unrecognized arguments', 'the following arguments are required', 'is not a valid value',
              'expected one argument', 'expected at least one argument', 'is misspelled or not recognized',
              'invalid jmespath_type value', 'ambiguous option', 'ignored explicit argument')
WORKERS = 2


def real_az(argvs):
    """Runs argvs through real az in WORKERS processes: {argv: (code, stderr)}."""
    out = {}

    def work(chunk):
        # A command line that kills the az process (a hard exit inside az)
        # would leave the rest of the chunk unanswered: note it as unchecked
        # and go on with a fresh process from the next line.
        while chunk:
            p = subprocess.run(['/usr/bin/python3', batchaz], input=''.join(json.dumps(a) + '\n' for a in chunk),
                               capture_output=True, text=True, timeout=1800)
            answered = 0
            for line in p.stdout.splitlines():
                try:
                    r = json.loads(line)
                except ValueError:
                    continue
                out[tuple(r['argv'])] = (r['code'], r['stderr'])
                answered += 1
            if answered >= len(chunk):
                return
            killer = chunk[answered]
            out[tuple(killer)] = (1, 'Traceback (crash): the az process ended while answering this line: ' + p.stderr[-300:])
            chunk = chunk[answered + 1:]

    threads = [threading.Thread(target=work, args=(argvs[i::WORKERS],)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def verdict(code, err, emu_exit):
    first = next((l for l in err.splitlines() if l.startswith('ERROR:')), err.strip()[:300])
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
results = real_az([list(probe)] + [list(a) for a in calls])
if verdict(*results.get(probe, (0, '')), 0)[0] != 'mismatch':
    sys.exit('conformance self-check failed: a wrong flag was not caught')

bad = unchecked = 0
for argv, emu_exit in sorted(calls.items()):
    status, why = verdict(*results[argv], emu_exit) if argv in results else ('unchecked', 'real az gave no answer')
    if status == 'mismatch':
        bad += 1
        print('MISMATCH: az %s\n    %s' % (' '.join(argv), why))
    elif status == 'unchecked':
        unchecked += 1
        print('unchecked: az %s\n    %s' % (' '.join(argv), why))
print('%d command lines: %d mismatches, %d unchecked' % (len(calls), bad, unchecked))
sys.exit(1 if bad else 0)
EOF

/usr/bin/python3 "$work/check.py" "$log" "$work/batchaz.py"
