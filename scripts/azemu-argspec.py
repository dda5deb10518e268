#!/usr/bin/python3
"""Regenerates localcloud/azemu/azargs.json: the argument surface of every az
command the emulator answers, read from the real Azure CLI's own parser.

Run as root (it chroots), with Debian 12's azure-cli installed
(apt-get install azure-cli):
    scripts/azemu-argspec.py > localcloud/azemu/azargs.json

Each command's surface comes from Debian 13's az 2.74, run chrooted into the
root filesystem scripts/rootfs.sh az builds and caches. Only a command 2.74
cannot load falls back to Debian 12's az 2.45 (/usr/bin/az): 2.74's Debian
package fails to load the monitor module ("ord() expected string of length
1"), so `monitor metrics list` comes from 2.45. Each entry's "az" field names
the az version it was read from, and the run lists the fallbacks on stderr.

For each command it records every option (names in az's order, nargs,
choices, required) and, when az reports a missing resource name through its
"--ids" validator rather than argparse, that message. 2.74 runs as packaged.
Debian's az 2.45 lacks the network 2022-01-01 and compute 2022-11-01 SDKs;
like the az-shapes capture (docs/az-shapes.md), its runs map them to the
nearest installed versions, which only affects which models load, not the
argument surface.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

COMMANDS = """
account show
group create
group show
group list
group delete
storage account create
storage account show
storage account list
storage account update
storage account delete
storage account check-name
storage account network-rule add
storage account network-rule list
storage account network-rule remove
network private-endpoint dns-zone-group show
network private-endpoint dns-zone-group delete
network private-endpoint list
monitor metrics list
vm get-instance-view
consumption usage list
rest
storage share-rm create
storage share-rm show
storage share-rm list
storage share-rm delete
storage share-rm stats
storage share-rm update
storage container-rm create
storage container-rm show
storage container-rm delete
network vnet create
network vnet show
network vnet list
network vnet subnet create
network vnet subnet show
network vnet subnet list
network vnet subnet update
network nsg create
network nsg show
network nsg rule create
network nsg rule list
network nsg rule show
network nsg rule delete
network nsg rule update
network private-endpoint create
network private-endpoint show
network private-endpoint delete
network private-dns zone create
network private-dns zone show
network private-dns link vnet create
network private-dns link vnet show
network private-endpoint dns-zone-group create
network nic show
network nic update
network nic delete
network public-ip show
network public-ip delete
tag update
vm create
vm show
vm list
vm delete
vm start
vm stop
vm deallocate
vm restart
vm update
vm run-command invoke
vm list-ip-addresses
disk show
disk delete
""".split("\n")

# Debian 12's az 2.45 only; shared with scripts/conformance.sh: maps the SDK
# versions Debian lacks.
OLD_SDK_PATCH = """
from azure.cli.core.profiles import ResourceType, _shared
latest = _shared.AZURE_API_PROFILES['latest']
latest[ResourceType.MGMT_NETWORK] = '2022-07-01'
compute = latest[ResourceType.MGMT_COMPUTE]
ops = {k: v for k, v in compute.profile.items() if k is not None}
ops['virtual_machine_scale_sets'] = '2022-08-01'
latest[ResourceType.MGMT_COMPUTE] = _shared.SDKProfile('2022-08-01', ops)
"""

# Prints {"az": version, "args": [...]} for the command named by argv.
DUMP = """
import json, os, runpy, sys
from azure.cli.core import __version__, parser as azparser
words = sys.argv[1:]
orig = azparser.AzCliCommandParser.load_command_table
def patched(self, loader):
    orig(self, loader)
    sub = self.subparsers[tuple(words[:-1])].choices[words[-1]]
    out = []
    for a in sub._actions:
        kind = type(a).__name__
        if not a.option_strings or kind in ('_HelpAction', 'IgnoreAction'):
            continue
        out.append({"opts": a.option_strings,
                    "nargs": a.nargs,
                    "required": bool(a.required),
                    "choices": [str(c) for c in a.choices] if a.choices is not None else None})
    sys.stdout.write(json.dumps({"az": __version__, "args": out}))
    sys.stdout.flush()
    os._exit(0)
azparser.AzCliCommandParser.load_command_table = patched
os.environ['AZ_INSTALLER'] = 'DEB'
sys.argv[0] = 'az'
runpy.run_module('azure.cli', run_name='__main__')
"""

RUN = """
import os, runpy, sys
os.environ['AZ_INSTALLER'] = 'DEB'
sys.argv[0] = 'az'
runpy.run_module('azure.cli', run_name='__main__')
"""


def new_az(rootfs):
    """How to run Python code as Debian 13's az 2.74: chrooted into its root
    filesystem, in a mount namespace whose /tmp is a fresh tmpfs (the config
    dir), so the cached root filesystem stays untouched."""
    chroot = ('root=$0; code=$1; shift; mount -t tmpfs tmpfs "$root/tmp" && '
              'exec chroot "$root" /usr/bin/python3 -c "$code" "$@"')

    def run(code, args):
        env = dict(os.environ, AZURE_CONFIG_DIR='/tmp/azure', HOME='/tmp',
                   AZURE_CORE_COLLECT_TELEMETRY='no', PYTHONWARNINGS='ignore')
        return subprocess.run(['unshare', '--mount', '--', 'sh', '-c', chroot, rootfs, code] + args,
                              env=env, capture_output=True, text=True)
    return run


def old_az(cfg):
    """How to run Python code as Debian 12's az 2.45."""
    def run(code, args):
        env = dict(os.environ, AZURE_CONFIG_DIR=cfg, AZURE_CORE_COLLECT_TELEMETRY='no')
        return subprocess.run(['/usr/bin/python3', '-c', OLD_SDK_PATCH + code] + args,
                              env=env, capture_output=True, text=True)
    return run


def read_surface(run, cmd):
    """One command's surface as one az parses it, or (None, why not)."""
    words = cmd.split()
    dump = run(DUMP, words)
    if dump.returncode != 0 or not dump.stdout:
        errors = [line for line in dump.stderr.splitlines() if line.startswith('ERROR: ')]
        return None, (errors or dump.stderr.strip().splitlines() or ['no output'])[0]
    spec = json.loads(dump.stdout)
    # Probe with the argparse-required options filled in (dummy values), so
    # that what fails is the --ids validator, if the command has one.
    # 2.74's delete commands ask for confirmation before that validator runs,
    # so --yes goes in too where the command has it.
    filler = []
    for a in spec['args']:
        if a['required']:
            filler += [a['opts'][0], a['choices'][0] if a['choices'] else 'x']
        elif '--yes' in a['opts']:
            filler.append('--yes')
    probe = run(RUN, words + filler)
    spec['idsRequired'] = None
    for line in probe.stderr.splitlines():
        if (line.startswith('ERROR: (') and line.endswith('are required')) or \
                line.startswith('ERROR: InvalidArgumentValue: Missing required field: '):
            spec['idsRequired'] = line[len('ERROR: '):]
    return spec, None


def one(cmd, runners):
    """The surface from the first az in runners that can load cmd."""
    errors = []
    for run in runners:
        spec, err = read_surface(run, cmd)
        if spec is not None:
            return cmd, spec, errors
        errors.append(err)
    return cmd, None, errors


def main():
    rootfs = subprocess.run(['scripts/az-rootfs.sh'], check=True, capture_output=True, text=True,
                            cwd=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')).stdout.strip()
    runners = [new_az(rootfs), old_az(tempfile.mkdtemp())]
    cmds = [c.strip() for c in COMMANDS if c.strip()]
    out = {}
    failed = False
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for cmd, spec, errors in pool.map(lambda c: one(c, runners), cmds):
            if spec is None:
                print('cannot read %s: %s' % (cmd, errors), file=sys.stderr)
                failed = True
                continue
            if errors:
                print('%s: from az %s (the newer az cannot load it: %s)' % (cmd, spec['az'], errors[0]),
                      file=sys.stderr)
            out[cmd] = spec
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')
    if failed:
        sys.exit(1)


if __name__ == '__main__':
    main()
