package vmhost

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/shell"
	"gopkg.in/yaml.v3"
)

// The parts of cloud-init a VM host emulates, at first boot only, in
// cloud-init's own order:
//
//	init stage (before sshd):  write_files (without defer)
//	final stage (after sshd):  packages (recorded, not installed), write_files
//	                           with defer: true, then the scripts: runcmd and a
//	                           "#!" user-data script, as /bin/sh would run them
//
// Output goes to /var/log/cloud-init-output.log; the result to
// /var/lib/cloud/data/azemu-status (read by the host's `cloud-init status`)
// and /var/lib/cloud/instance/boot-finished.
const (
	ciOutputLog   = "/var/log/cloud-init-output.log"
	ciStatusFile  = "/var/lib/cloud/data/azemu-status"
	ciScriptsDir  = "/var/lib/cloud/instance/scripts"
	ciFinalScript = "/run/azemu/cloud-final.sh"
)

type cloudConfig struct {
	Packages   []any       `yaml:"packages"`
	WriteFiles []writeFile `yaml:"write_files"`
	Runcmd     []any       `yaml:"runcmd"`
}

type writeFile struct {
	Path        string    `yaml:"path"`
	Content     string    `yaml:"content"`
	Encoding    string    `yaml:"encoding"`
	Owner       string    `yaml:"owner"`
	Permissions yaml.Node `yaml:"permissions"`
	Append      bool      `yaml:"append"`
	Defer       bool      `yaml:"defer"`
}

// emulatedKeys are the cloud-config keys acted on; others are logged as ignored.
var emulatedKeys = map[string]bool{"packages": true, "write_files": true, "runcmd": true,
	"package_update": true, "package_upgrade": true}

type cloudInit struct {
	userData []byte
	env      []string
	cfg      cloudConfig
	script   bool // the user data is a "#!" script
	errs     []string
	out      io.Writer // the output log
}

func newCloudInit(userData []byte, env []string) *cloudInit {
	return &cloudInit{userData: userData, env: env}
}

func (c *cloudInit) logf(format string, args ...any) {
	fmt.Fprintf(c.out, format+"\n", args...)
}

func (c *cloudInit) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.errs = append(c.errs, msg)
	c.logf("%s", msg)
}

// initStage parses the user data and writes the non-deferred files. Errors in
// the user data make cloud-init's status "error"; they do not stop the boot.
func (c *cloudInit) initStage() error {
	for _, d := range []string{filepath.Dir(ciStatusFile), ciScriptsDir, filepath.Dir(ciOutputLog)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := os.WriteFile(ciStatusFile, []byte("running\n"), 0o644); err != nil {
		return err
	}
	log, err := os.OpenFile(ciOutputLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer log.Close()
	c.out = log
	c.logf("Cloud-init v. azemu running 'init' at %s.", time.Now().Format(time.RFC1123Z))
	c.parse()
	c.writeFiles(false)
	return nil
}

func (c *cloudInit) parse() {
	data := bytes.TrimLeft(c.userData, " \t\r\n")
	switch {
	case len(data) == 0:
	case bytes.HasPrefix(data, []byte("#!")):
		c.script = true
	case bytes.HasPrefix(data, []byte("#cloud-config")):
		if err := yaml.Unmarshal(data, &c.cfg); err != nil {
			c.fail("Failed loading yaml blob. Invalid format: %v", err)
			return
		}
		var keys map[string]any
		_ = yaml.Unmarshal(data, &keys)
		for k := range keys {
			if !emulatedKeys[k] {
				c.logf("azemu: cloud-config key %q is not emulated; ignored", k)
			}
		}
	default:
		c.fail("Unhandled non-multipart (text/x-not-multipart) userdata: %q...", firstLine(data))
	}
}

func firstLine(b []byte) string {
	line, _, _ := strings.Cut(string(b), "\n")
	if len(line) > 40 {
		line = line[:40]
	}
	return line
}

func (c *cloudInit) writeFiles(deferred bool) {
	for i, f := range c.cfg.WriteFiles {
		if f.Defer != deferred {
			continue
		}
		if err := writeOneFile(f); err != nil {
			c.fail("Failed to run module write_files: write_files[%d] %s: %v", i, f.Path, err)
		}
	}
}

func writeOneFile(f writeFile) error {
	if !filepath.IsAbs(f.Path) {
		return fmt.Errorf("path must be absolute")
	}
	content, err := decodeContent(f.Content, f.Encoding)
	if err != nil {
		return err
	}
	mode, err := filePerms(f.Permissions)
	if err != nil {
		return err
	}
	uid, gid, err := lookupOwner(f.Owner)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o755); err != nil {
		return err
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_TRUNC
	if f.Append {
		flags = os.O_CREATE | os.O_WRONLY | os.O_APPEND
	}
	fh, err := os.OpenFile(f.Path, flags, mode)
	if err != nil {
		return err
	}
	if _, err := fh.Write(content); err != nil {
		fh.Close()
		return err
	}
	if err := fh.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Path, mode); err != nil {
		return err
	}
	return os.Chown(f.Path, uid, gid)
}

// decodeContent handles cloud-init's write_files encodings.
func decodeContent(content, encoding string) ([]byte, error) {
	data := []byte(content)
	enc := strings.ToLower(strings.TrimSpace(encoding))
	if strings.Contains(enc, "b64") || strings.Contains(enc, "base64") {
		d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(content), ""))
		if err != nil {
			return nil, fmt.Errorf("decode base64 content: %w", err)
		}
		data = d
	}
	if strings.HasPrefix(enc, "gz") {
		r, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decode gzip content: %w", err)
		}
		if data, err = io.ReadAll(r); err != nil {
			return nil, fmt.Errorf("decode gzip content: %w", err)
		}
	}
	switch enc {
	case "", "text/plain", "b64", "base64", "gz", "gzip", "gz+b64", "gz+base64", "gzip+b64", "gzip+base64":
		return data, nil
	}
	return nil, fmt.Errorf("unknown encoding %q", encoding)
}

// filePerms reads write_files' permissions as cloud-init does: a string is
// octal ('0640'); a YAML 1.1 integer with a leading 0 is octal too.
func filePerms(n yaml.Node) (os.FileMode, error) {
	if n.Kind == 0 || n.Value == "" {
		return 0o644, nil
	}
	v := strings.TrimPrefix(strings.TrimPrefix(n.Value, "0o"), "0O")
	base := 8
	if n.Tag == "!!int" && !strings.HasPrefix(n.Value, "0") {
		base = 10
	}
	p, err := strconv.ParseUint(v, base, 32)
	if err != nil || p > 0o7777 {
		return 0, fmt.Errorf("invalid permissions %q", n.Value)
	}
	return os.FileMode(p & 0o777), nil
}

// lookupOwner resolves "user[:group]" in the host's /etc (root:root if empty).
func lookupOwner(owner string) (int, int, error) {
	if owner == "" {
		return 0, 0, nil
	}
	user, group, hasGroup := strings.Cut(owner, ":")
	passwd, _ := os.ReadFile("/etc/passwd")
	u := findEntry(parseDB(string(passwd), 7), user)
	if u == nil {
		return 0, 0, fmt.Errorf("unknown user %q", user)
	}
	uid, _ := strconv.Atoi(u[2])
	gid, _ := strconv.Atoi(u[3])
	if hasGroup {
		groups, _ := os.ReadFile("/etc/group")
		g := findEntry(parseDB(string(groups), 4), group)
		if g == nil {
			return 0, 0, fmt.Errorf("unknown group %q", group)
		}
		gid, _ = strconv.Atoi(g[2])
	}
	return uid, gid, nil
}

// startFinalStage records the packages, writes deferred files and the
// scripts, and starts the final-stage script; PID 1 reaps it.
func (c *cloudInit) startFinalStage() error {
	log, err := os.OpenFile(ciOutputLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return err
	}
	defer log.Close()
	c.out = log
	c.logf("Cloud-init v. azemu running 'modules:final' at %s.", time.Now().Format(time.RFC1123Z))
	if names := packageNames(c.cfg.Packages); len(names) > 0 {
		if aptFails(c.env) {
			c.fail("E: Failed to fetch http://azure.archive.ubuntu.com/ubuntu/pool/main/  Temporary failure resolving 'azure.archive.ubuntu.com' (azemu fault AZEMU_HOST_APT_FAIL)")
			c.fail("Failed to install packages: %s", strings.Join(names, " "))
		} else if err := recordPackages(names); err != nil {
			c.fail("Failed to install packages: %v", err)
		} else {
			c.logf("azemu: recorded packages (not installed): %s", strings.Join(names, " "))
		}
	}
	c.writeFiles(true)
	if len(c.cfg.Runcmd) > 0 {
		var b strings.Builder
		b.WriteString("#!/bin/sh\n")
		for _, item := range c.cfg.Runcmd {
			b.WriteString(runcmdLine(item) + "\n")
		}
		if err := os.WriteFile(filepath.Join(ciScriptsDir, "runcmd"), []byte(b.String()), 0o700); err != nil {
			return err
		}
	}
	if c.script {
		if err := os.WriteFile(filepath.Join(ciScriptsDir, "part-001"), c.userData, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(ciFinalScript, []byte(finalStageScript), 0o700); err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", ciFinalScript)
	cmd.Dir = "/"
	// As under systemd: no HOME for a root service.
	cmd.Env = []string{"PATH=" + hostPATH, "LANG=C.UTF-8", fmt.Sprintf("AZEMU_CI_ERRORS=%d", len(c.errs))}
	return cmd.Start()
}

// runcmdLine is one runcmd item as cloud-init writes it into its script: a
// string as is, a list shell-quoted.
func runcmdLine(item any) string {
	list, ok := item.([]any)
	if !ok {
		return fmt.Sprint(item)
	}
	words := make([]string, len(list))
	for i, w := range list {
		words[i] = fmt.Sprint(w)
	}
	return shell.Join(words)
}

// packageNames: items are "name", "name=version" or [name, version].
func packageNames(items []any) []string {
	var names []string
	for _, it := range items {
		switch v := it.(type) {
		case string:
			name, _, _ := strings.Cut(v, "=")
			names = append(names, name)
		case []any:
			if len(v) > 0 {
				names = append(names, fmt.Sprint(v[0]))
			}
		}
	}
	return names
}

// recordPackages adds names to the host's package record.
func recordPackages(names []string) error {
	data, err := os.ReadFile(pkgRecord)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	have := map[string]bool{}
	for _, l := range strings.Fields(string(data)) {
		have[l] = true
	}
	for _, n := range names {
		have[n] = true
	}
	list := make([]string, 0, len(have))
	for n := range have {
		list = append(list, n)
	}
	for _, n := range names {
		if err := installPackageFiles(n); err != nil {
			return err
		}
	}
	sort.Strings(list)
	if err := os.MkdirAll(filepath.Dir(pkgRecord), 0o755); err != nil {
		return err
	}
	return os.WriteFile(pkgRecord, []byte(strings.Join(list, "\n")+"\n"), 0o644)
}

// markInterruptedCloudInit: a host stopped while its final stage ran does
// not rerun it (cloud-init's per-instance semantics); it reports an error.
func markInterruptedCloudInit() {
	if data, err := os.ReadFile(ciStatusFile); err == nil && strings.TrimSpace(string(data)) == "running" {
		_ = os.WriteFile(ciStatusFile, []byte("error\ninterrupted by a reboot\n"), 0o644)
	}
}

const finalStageScript = `#!/bin/sh
# cloud-init's final stage in an azemu VM host: runs the instance's scripts
# once (runcmd, user-data script) and records the result.
exec >>/var/log/cloud-init-output.log 2>&1
status=done
[ "$AZEMU_CI_ERRORS" = 0 ] || status=error
for s in /var/lib/cloud/instance/scripts/*; do
  [ -f "$s" ] || continue
  "$s"
  rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "$(date -R) - subp.py[WARNING]: Failed running $s [$rc]"
    echo "$(date -R) - cc_scripts_user.py[WARNING]: Failed to run module scripts_user (scripts in /var/lib/cloud/instance/scripts)"
    status=error
  fi
done
up=$(cut -d' ' -f1 /proc/uptime)
echo "$up - $(date -R) - v. azemu" >/var/lib/cloud/instance/boot-finished
printf '%s\n' "$status" >/var/lib/cloud/data/azemu-status.tmp
mv /var/lib/cloud/data/azemu-status.tmp /var/lib/cloud/data/azemu-status
echo "Cloud-init v. azemu finished at $(date -R). Datasource DataSourceAzure. Up $up seconds"
`
