"""Capture what a real az prints, offline: runs inside the az root filesystem.

scripts/az-capture.sh runs this file with the root filesystem's own python3,
chrooted and in a network namespace without interfaces. Each capture below
runs the real azure-cli in a fresh process (python3 -m azure.cli, as the
Debian az script does) in which:

- every HTTP request az sends through `requests` (all ARM SDKs and AAZ
  commands use it) is answered from the REST files in REST_DIR, and an
  unanswered request fails the capture;
- the login is a made-up profile (PROFILE below, in the layout az 2.74's
  `az login` writes) whose credential hands out a dummy token: az 2.74 wraps
  the credential of an account (Profile._create_credential) in its
  CredentialAdaptor, which calls acquire_token(scopes, **kwargs) and reads an
  MSAL-style result {access_token, token_type, expires_in};
- waits between polls of a long-running operation are cut short.

Usage: python3 az-capture.py REST_DIR OUT_DIR [NAME ...]
Writes OUT_DIR/NAME.json: az's stdout when it exits 0, else a record
{argv, exit_code, stdout, stderr}; and OUT_DIR/requests.json, the REST calls
each capture made. Exits 1 when a capture does not end as its table says.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

SUB = '9b2c4d6e-8f10-4a2b-9c3d-5e6f70819203'
TENANT = '3c9f8e7d-6b5a-4c3d-8e2f-1a0b9c8d7e6f'
PROFILE = {
    'installationId': '5f0e2b8c-1d7a-11ef-9b7e-0242ac120002',
    'subscriptions': [{
        'id': SUB,
        'name': 'Contoso Dev',
        'state': 'Enabled',
        'user': {'name': 'dev@contoso.onmicrosoft.com', 'type': 'user'},
        'isDefault': True,
        'tenantId': TENANT,
        'environmentName': 'AzureCloud',
        'homeTenantId': TENANT,
        # az 2.74's login copies these two from the tenant list
        # (_profile._attach_token_tenant).
        'tenantDefaultDomain': 'contoso.onmicrosoft.com',
        'tenantDisplayName': 'Contoso',
        'managedByTenants': [],
    }],
}

VM_IDS = ' '.join('/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/%s' % (SUB, n)
                  for n in ('vm', 'vm2'))

# name, az arguments (-o json is added), REST files, exit code az must end with
CAPTURES = [
    ('account-show', 'account show', [], 0),
    ('group-show', 'group show -n rg', ['resources'], 0),
    ('storage-account-show', 'storage account show -g rg -n acct', ['storage'], 0),
    ('storage-account-list', 'storage account list -g rg', ['storage'], 0),
    ('storage-account-check-name', 'storage account check-name -n somename', ['storage'], 0),
    ('storage-account-check-name-available', 'storage account check-name -n somename', ['storage-errors'], 0),
    ('storage-account-show-404', 'storage account show -g rg -n acct', ['storage-errors'], 3),
    ('storage-account-show-404-rg', 'storage account show -g nosuchrg -n acct', ['storage-errors'], 3),
    ('storage-account-create-409',
     'storage account create -g rg -n acct --sku Premium_LRS --kind FileStorage -l eastus', ['storage-errors'], 1),
    ('storage-share-rm-show', 'storage share-rm show -g rg --storage-account acct -n share', ['storage'], 0),
    ('storage-share-rm-show-expand-stats',
     'storage share-rm show -g rg --storage-account acct -n share --expand stats', ['storage'], 0),
    ('storage-container-rm-show', 'storage container-rm show -g rg --storage-account acct -n data', ['storage'], 0),
    ('storage-share-rm-list', 'storage share-rm list -g rg --storage-account acct', ['storage'], 0),
    ('storage-share-rm-stats', 'storage share-rm stats -g rg --storage-account acct -n share', ['storage'], 0),
    ('network-vnet-show', 'network vnet show -g rg -n v', ['network'], 0),
    ('network-vnet-subnet-show', 'network vnet subnet show -g rg --vnet-name v -n s', ['network'], 0),
    ('network-private-endpoint-show', 'network private-endpoint show -g rg -n pe', ['network'], 0),
    ('network-nic-show', 'network nic show -g rg -n vmVMNic', ['compute'], 0),
    ('network-public-ip-show', 'network public-ip show -g rg -n vmPublicIP', ['compute'], 0),
    ('monitor-metrics-list', 'monitor metrics list --resource /subscriptions/%s/resourceGroups/rg/providers/'
     'Microsoft.Storage/storageAccounts/acct --metrics UsedCapacity --aggregation Average --interval 1h '
     '--offset 1d' % SUB, ['monitor'], 0),
    ('vm-show', 'vm show -g rg -n vm', ['compute'], 0),
    ('vm-show-d', 'vm show -d -g rg -n vm', ['compute'], 0),
    ('vm-list', 'vm list -g rg', ['compute'], 0),
    ('vm-list-d', 'vm list -d -g rg', ['compute'], 0),
    ('vm-get-instance-view', 'vm get-instance-view -g rg -n vm', ['compute'], 0),
    ('vm-get-instance-view-ids', 'vm get-instance-view --ids ' + VM_IDS, ['compute'], 0),
    ('vm-run-command-invoke',
     'vm run-command invoke -g rg -n vm --command-id RunShellScript --scripts "echo hi"', ['runcommand'], 0),
]


# ---------------------------------------------------------------- the driver

def main(rest_dir, out_dir, names):
    todo = [c for c in CAPTURES if not names or c[0] in names]
    unknown = set(names) - {c[0] for c in CAPTURES}
    if unknown:
        sys.exit('az-capture: no capture named %s' % ', '.join(sorted(unknown)))
    calls_file = os.path.join(out_dir, 'requests.json')
    calls = {}
    if os.path.exists(calls_file):
        with open(calls_file) as f:
            calls = json.load(f)
    # az builds its command index on its first run, loading every command
    # module, and says so on stderr for the modules Debian's package cannot
    # load; one run with the index kept lets each capture start from it.
    base = tempfile.mkdtemp(prefix='az-capture-config-')
    write_config(base)
    subprocess.run([sys.executable, os.path.abspath(__file__), '--one', os.devnull, '--', 'account', 'show'],
                   env=dict(os.environ, AZ_CAPTURE_CONFIG=base), capture_output=True, check=True)
    failed = []
    for name, args, rest, want in todo:
        argv = shlex.split(args) + ['-o', 'json']
        with tempfile.NamedTemporaryFile('r', suffix='.jsonl') as log:
            cmd = [sys.executable, os.path.abspath(__file__), '--one', log.name]
            cmd += [os.path.join(rest_dir, r + '.json') for r in rest] + ['--'] + argv
            cfg = tempfile.mkdtemp(prefix='az-capture-config-')
            shutil.copytree(base, cfg, dirs_exist_ok=True)
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                               env=dict(os.environ, AZ_CAPTURE_CONFIG=cfg))
            shutil.rmtree(cfg)
            made = [json.loads(line) for line in log]
        unanswered = [c for c in made if c['answered'] is None]
        if p.returncode != want or unanswered or (want == 0 and p.stderr):
            failed.append('%s: exit %d (want %d)\n%s' % (name, p.returncode, want, p.stderr))
            continue
        with open(os.path.join(out_dir, name + '.json'), 'w') as f:
            if want == 0:
                json.loads(p.stdout)  # az printed JSON
                f.write(p.stdout)
            else:
                json.dump({'argv': ['az'] + argv, 'exit_code': p.returncode, 'stdout': p.stdout,
                           'stderr': p.stderr}, f, indent=2)
                f.write('\n')
        calls[name] = {'argv': 'az ' + shlex.join(argv), 'exit_code': p.returncode,
                       'requests': ['%s %s -> %d' % (c['method'], c['url'], c['status']) for c in made]}
        print('%-40s exit %d, %d requests' % (name, p.returncode, len(made)))
    with open(calls_file, 'w') as f:
        json.dump(dict(sorted(calls.items())), f, indent=2)
        f.write('\n')
    if failed:
        sys.stderr.write('\n'.join(failed))
        sys.exit(1)


# ---------------------------------------------------------------- one az run

def load_answers(paths):
    """The REST files' answers, each {method, path, query, status, headers, body}."""
    answers = []
    for p in paths:
        with open(p) as f:
            doc = json.load(f)
        for i, a in enumerate(doc['answers']):
            a = json.loads(json.dumps(a).replace('{sub}', SUB))
            a['tag'] = '%s#%d' % (os.path.basename(p), i)
            a['used'] = 0
            answers.append(a)
    return answers


def pick(answers, method, path, query):
    """The answer for a request: method and path match (case-insensitive, as
    in ARM), and every query parameter the answer names (api-version aside) has
    its value. The first unused match answers; when all are used, the last
    match answers again, so a list of answers plays a polling sequence."""
    last = None
    for a in answers:
        if a['method'] != method or a['path'].lower().rstrip('/') != path.lower().rstrip('/'):
            continue
        if any(query.get(k) != v for k, v in a.get('query', {}).items()):
            continue
        if not a['used']:
            return a
        last = a
    return last


def patch_http(answers, log):
    import io
    from urllib.parse import parse_qsl, unquote, urlsplit
    import requests
    from requests.adapters import HTTPAdapter
    from requests.structures import CaseInsensitiveDict
    from urllib3.response import HTTPResponse

    def send(adapter, request, **kwargs):
        u = urlsplit(request.url)
        query = dict(parse_qsl(u.query, keep_blank_values=True))
        a = pick(answers, request.method.upper(), unquote(u.path), query)
        if a is None:
            status, headers, body = 404, {}, json.dumps({'error': {
                'code': 'NoRecordedAnswer', 'message': 'az-capture has no answer for %s %s' % (
                    request.method, request.url)}}).encode()
        else:
            a['used'] += 1
            status, headers = a['status'], dict(a.get('headers', {}))
            body = json.dumps(a['body']).encode() if 'body' in a else b''
        headers.setdefault('Content-Type', 'application/json; charset=utf-8')
        headers['Content-Length'] = str(len(body))
        log.write(json.dumps({'method': request.method, 'url': u.path + ('?' + u.query if u.query else ''),
                              'status': status, 'answered': a and a['tag']}).replace(SUB, '{sub}') + '\n')
        log.flush()
        resp = requests.Response()
        resp.status_code = status
        resp.headers = CaseInsensitiveDict(headers)
        resp.raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=status, preload_content=False)
        resp.url = request.url
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
        resp.request = request
        resp.connection = adapter
        return resp
    HTTPAdapter.send = send


class DummyCredential:
    """What az 2.74's CredentialAdaptor asks of an account's credential."""

    def acquire_token(self, scopes, **kwargs):
        return {'access_token': 'az-capture-dummy-token', 'token_type': 'Bearer', 'expires_in': 3600}


def write_config(cfg):
    with open(os.path.join(cfg, 'azureProfile.json'), 'w') as f:
        json.dump(PROFILE, f)
    with open(os.path.join(cfg, 'config'), 'w') as f:
        f.write('[core]\ncollect_telemetry = false\nsurvey_message = false\n'
                'first_run = false\n[auto-upgrade]\nenable = false\n')


def stub_monitor_grammars():
    """Debian's az 2.74 cannot load its monitor module: the ANTLR lexers and
    parsers of the metric-alert and autoscale condition grammars were generated
    for another antlr4 runtime than Debian's, and fail when their class is
    defined. `monitor metrics list` never parses those conditions, so empty
    classes stand in for them (any attribute of one is the class again: the
    grammar's listeners name the parser's nested context classes)."""
    import types

    class Stub(type):
        def __getattr__(cls, name):
            return cls
    pkg = 'azure.cli.command_modules.monitor.grammar.'
    for grammar, prefix in (('metric_alert', 'MetricAlertCondition'), ('autoscale', 'AutoscaleCondition')):
        for part in ('Lexer', 'Parser'):
            m = types.ModuleType(pkg + grammar + '.' + prefix + part)
            setattr(m, prefix + part, Stub(prefix + part, (), {}))
            sys.modules[m.__name__] = m


def one(log_path, rest_files, argv):
    cfg = os.environ['AZ_CAPTURE_CONFIG']
    os.environ.update({'AZURE_CONFIG_DIR': cfg, 'AZURE_EXTENSION_DIR': os.path.join(cfg, 'cliextensions'),
                       'AZ_INSTALLER': 'DEB', 'HOME': cfg})
    answers = load_answers(rest_files)
    stub_monitor_grammars()
    log = open(log_path, 'w')
    patch_http(answers, log)
    real_sleep = time.sleep
    time.sleep = lambda s: real_sleep(min(s, 0.01))
    from azure.cli.core import _profile
    _profile.Profile._create_credential = lambda self, account, tenant_id=None, client_id=None: DummyCredential()

    import runpy
    sys.argv = ['az'] + argv
    code = 0
    try:
        runpy.run_module('azure.cli', run_name='__main__', alter_sys=True)
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    log.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--one']:
        sep = sys.argv.index('--')
        one(sys.argv[2], sys.argv[3:sep], sys.argv[sep + 1:])
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
