#!/usr/bin/python3
"""Regenerates localcloud/azemu/azargs.json: the argument surface of every az
command the emulator answers, read from the real Azure CLI's own parser.

Run with Debian's azure-cli installed (apt-get install azure-cli):
    /usr/bin/python3 scripts/azemu-argspec.py > localcloud/azemu/azargs.json

For each command it records every option (names in az's order, nargs,
choices, required) and, when az reports a missing resource name through its
"--ids" validator rather than argparse, that message. Debian's az 2.45 lacks
the network 2022-01-01 and compute 2022-11-01 SDKs; like the az-shapes
capture (docs/az-shapes.md), this maps them to the nearest installed
versions, which only affects which models load, not the argument surface.
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
storage share-rm create
storage share-rm show
storage share-rm list
storage share-rm delete
storage share-rm stats
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
network nsg rule create
network private-endpoint create
network private-endpoint show
network private-endpoint delete
network private-dns zone create
network private-dns zone show
network private-dns link vnet create
network private-dns link vnet show
network private-endpoint dns-zone-group create
network public-ip show
network public-ip delete
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

# Shared with scripts/conformance.sh: maps the SDK versions Debian lacks.
PATCH = """
from azure.cli.core.profiles import ResourceType, _shared
latest = _shared.AZURE_API_PROFILES['latest']
latest[ResourceType.MGMT_NETWORK] = '2022-07-01'
compute = latest[ResourceType.MGMT_COMPUTE]
ops = {k: v for k, v in compute.profile.items() if k is not None}
ops['virtual_machine_scale_sets'] = '2022-08-01'
latest[ResourceType.MGMT_COMPUTE] = _shared.SDKProfile('2022-08-01', ops)
"""

DUMP = PATCH + """
import json, os, runpy, sys
from azure.cli.core import parser as azparser
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
    sys.stdout.write(json.dumps(out))
    sys.stdout.flush()
    os._exit(0)
azparser.AzCliCommandParser.load_command_table = patched
os.environ['AZ_INSTALLER'] = 'DEB'
sys.argv[0] = 'az'
runpy.run_module('azure.cli', run_name='__main__')
"""

RUN = PATCH + """
import os, runpy, sys
os.environ['AZ_INSTALLER'] = 'DEB'
sys.argv[0] = 'az'
runpy.run_module('azure.cli', run_name='__main__')
"""


def one(cmd, cfg):
    words = cmd.split()
    env = dict(os.environ, AZURE_CONFIG_DIR=cfg, AZURE_CORE_COLLECT_TELEMETRY='no')
    dump = subprocess.run(['/usr/bin/python3', '-c', DUMP] + words, env=env,
                          capture_output=True, text=True)
    if dump.returncode != 0 or not dump.stdout:
        return cmd, None, dump.stderr.strip().splitlines()[-1:]
    # Probe with the argparse-required options filled in (dummy values), so
    # that what fails is the --ids validator, if the command has one.
    args = json.loads(dump.stdout)
    filler = []
    for a in args:
        if a['required']:
            filler += [a['opts'][0], a['choices'][0] if a['choices'] else 'x']
    probe = subprocess.run(['/usr/bin/python3', '-c', RUN] + words + filler, env=env,
                           capture_output=True, text=True)
    ids_msg = None
    for line in probe.stderr.splitlines():
        if (line.startswith('ERROR: (') and line.endswith('are required')) or \
                line.startswith('ERROR: InvalidArgumentValue: Missing required field: '):
            ids_msg = line[len('ERROR: '):]
    return cmd, {"args": args, "idsRequired": ids_msg}, None


def main():
    cfg = tempfile.mkdtemp()
    cmds = [c.strip() for c in COMMANDS if c.strip()]
    out = {}
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for cmd, spec, err in pool.map(lambda c: one(c, cfg), cmds):
            if spec is None:
                print('cannot read %s: %s' % (cmd, err), file=sys.stderr)
                continue
            out[cmd] = spec
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
