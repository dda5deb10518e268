package vmscript

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/azlin-dev/azlin/internal/cloudinit"
	"github.com/azlin-dev/azlin/internal/layout"
	"github.com/azlin-dev/azlin/internal/nfs"
	"github.com/azlin-dev/azlin/internal/remote"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func TestInvalidInputsAreRejectedBeforeAnyScript(t *testing.T) {
	good := AttachParams{Target: nfs.Target{Account: "acct123", Share: "home", Tier: nfs.Premium}, Timestamp: "T1"}
	cases := map[string]func(*AttachParams){
		"account with uppercase":       func(p *AttachParams) { p.Target.Account = "Acct123" },
		"account too short":            func(p *AttachParams) { p.Target.Account = "ab" },
		"account too long":             func(p *AttachParams) { p.Target.Account = strings.Repeat("a", 25) },
		"account with command":         func(p *AttachParams) { p.Target.Account = "a$(id)" },
		"share with quote":             func(p *AttachParams) { p.Target.Share = "ho'me" },
		"share with space":             func(p *AttachParams) { p.Target.Share = "my home" },
		"share with newline":           func(p *AttachParams) { p.Target.Share = "home\nrm" },
		"share with leading hyphen":    func(p *AttachParams) { p.Target.Share = "-home" },
		"share with double hyphen":     func(p *AttachParams) { p.Target.Share = "ho--me" },
		"share with slash":             func(p *AttachParams) { p.Target.Share = "home/../x" },
		"unknown tier":                 func(p *AttachParams) { p.Target.Tier = "Hot" },
		"user with semicolon":          func(p *AttachParams) { p.User = "azure;user" },
		"root uid":                     func(p *AttachParams) { p.UID = -1 },
		"home relative":                func(p *AttachParams) { p.Home = "home/azureuser" },
		"home is root":                 func(p *AttachParams) { p.Home = "/" },
		"home one level":               func(p *AttachParams) { p.Home = "/home" },
		"home with dotdot":             func(p *AttachParams) { p.Home = "/home/../etc" },
		"home with space":              func(p *AttachParams) { p.Home = "/home/azure user" },
		"home with trailing slash":     func(p *AttachParams) { p.Home = "/home/azureuser/" },
		"home with command":            func(p *AttachParams) { p.Home = "/home/$(reboot)" },
		"key with newline":             func(p *AttachParams) { p.AuthorizedKeys = []string{"ssh-ed25519 AAAA a\nssh-rsa BBBB b"} },
		"empty key":                    func(p *AttachParams) { p.AuthorizedKeys = []string{"  "} },
		"timestamp with space":         func(p *AttachParams) { p.Timestamp = "2025 01 01" },
		"timestamp with path":          func(p *AttachParams) { p.Timestamp = "../../etc" },
		"key that is a comment":        func(p *AttachParams) { p.AuthorizedKeys = []string{"# not a key"} },
		"key with carriage return":     func(p *AttachParams) { p.AuthorizedKeys = []string{"ssh-ed25519 AAAA\r"} },
		"share name of a blob too big": func(p *AttachParams) { p.Target.Share = strings.Repeat("a", 64) },
		"layout path leaving the home": func(p *AttachParams) { p.Layout = layout.Resolved{Name: "x", Local: []string{"a/../../etc"}} },
		"layout path absolute":         func(p *AttachParams) { p.Layout = layout.Resolved{Name: "x", Local: []string{"/etc"}} },
		"layout path .ssh":             func(p *AttachParams) { p.Layout = layout.Resolved{Name: "x", Local: []string{".ssh"}} },
		"layout name with quote":       func(p *AttachParams) { p.Layout = layout.Resolved{Name: "x'y"} },
		"layout paths without name":    func(p *AttachParams) { p.Layout = layout.Resolved{Local: []string{".cache"}} },
		"setting file outside drop-ins": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/passwd", Content: "# azlin x"}}}
		},
		"setting file in a sub-folder": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/profile.d/../sudoers.d/x", Content: "# azlin x"}}}
		},
		"setting file not marked azlin's": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/profile.d/x.sh", Content: "export A=1\n"}}}
		},
		"hook into another file": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/azlin/x.sh", Content: "# azlin x", Hooks: []string{"/etc/profile"}}}}
		},
		"hook from a drop-in folder": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/profile.d/x.sh", Content: "# azlin x", Hooks: []string{"/etc/zsh/zshrc"}}}}
		},
		"hook into bash's own file": func(p *AttachParams) {
			p.Layout = layout.Resolved{Name: "x", Files: []layout.SettingFile{{Path: "/etc/azlin/x.sh", Content: "# azlin x", Hooks: []string{"/etc/bash.bashrc"}}}}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			p := good
			mutate(&p)
			script, err := AttachScript(p)
			assert.Error(t, err)
			assert.Empty(t, script)
			_, err = CloudInitPart(p)
			assert.Error(t, err)
		})
	}
	_, err := AttachScript(good)
	assert.NoError(t, err, "the base case must be valid, or the cases above prove nothing")

	_, err = DetachScript(DetachParams{Target: nfs.Target{Account: "ACCT", Share: "home", Tier: nfs.Premium}})
	assert.Error(t, err)
	_, err = DetachScript(DetachParams{Home: "/home/x y"})
	assert.Error(t, err)
	_, err = DetachScript(DetachParams{User: "$(id)"})
	assert.Error(t, err)
}

// Values that pass validation but carry shell syntax (authorized keys may
// hold any option text) reach the script's variables byte for byte: the
// header is run by bash and its variables printed back.
func TestHostileValuesAreQuotedHarmlessly(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	keys := []string{
		`command="touch ` + pwned + `" ssh-ed25519 AAAA x`,
		`ssh-ed25519 AAAA $(touch ` + pwned + `)`,
		"ssh-ed25519 AAAA `touch " + pwned + "`",
		`ssh-ed25519 AAAA it's "quoted" \ back\slash ; | & > < * ? ~ {a,b} !x`,
		"ssh-ed25519 AAAA tab\there and ünïcödé",
		`'`, `''`, `"'"'"`,
	}
	script, err := AttachScript(AttachParams{Target: nfs.Target{Account: "acct123", Share: "home", Tier: nfs.Premium}, AuthorizedKeys: keys, Timestamp: "T1"})
	require.NoError(t, err)
	header := scriptHeader(t, script)
	out, err := exec.Command("bash", "-c", header+"\nprintf '%s\\0' \"${KEYS[@]}\"").Output()
	require.NoError(t, err)
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	assert.Equal(t, keys, got)
	assert.NoFileExists(t, pwned, "a value was executed while the header was read")
}

// scriptHeader is the variable block of a generated script.
func scriptHeader(t *testing.T, script string) string {
	t.Helper()
	a, err := parseAssembly(script)
	require.NoError(t, err)
	return a.header
}

// shParts are the fixed texts a generated script is made of, by the name
// its golden file gives them.
var shParts = []struct{ name, text string }{
	{"sh/lib.sh", libSh},
	{"sh/layout.sh", layoutSh},
	{"sh/probes.sh", probesSh},
	{"sh/attach.sh", attachSh},
	{"sh/detach.sh", detachSh},
	{"sh/layout-apply.sh", layoutApplySh},
	{"sh/check.sh", checkSh},
}

// assembly is a generated script taken apart: its comment line, its header
// of values, and the names of the parts that follow, in order.
type assembly struct {
	comment string   // "# azlin: ..."
	header  string   // the values block, from its title line to its last assignment
	parts   []string // shParts names
}

const (
	scriptStart = "#!/bin/bash\n"
	valuesTitle = "# ---- values (each quoted by internal/shell) ----\n"
	preludeName = "internal/remote.Prelude"
	partMark    = "#### " // a golden line naming a part instead of holding it
)

// parseAssembly takes a script apart as assemble builds it: the shebang, a
// comment line, remote.Prelude, the values, a blank line, then parts joined
// by newlines. It fails unless the script is exactly that.
func parseAssembly(script string) (assembly, error) {
	var a assembly
	rest, ok := strings.CutPrefix(script, scriptStart)
	if !ok {
		return a, errors.New("no #!/bin/bash line")
	}
	a.comment, rest, ok = strings.Cut(rest, "\n")
	if !ok || !strings.HasPrefix(a.comment, "# azlin: ") {
		return a, errors.New("no # azlin: comment line")
	}
	if rest, ok = strings.CutPrefix(rest, remote.Prelude+"\n"); !ok {
		return a, errors.New("remote.Prelude does not follow the comment line")
	}
	if !strings.HasPrefix(rest, valuesTitle) {
		return a, errors.New("the values do not follow remote.Prelude")
	}
	end := strings.Index(rest, "\n\n")
	if end < 0 {
		return a, errors.New("no blank line after the values")
	}
	a.header, rest = rest[:end+1], rest[end+2:]
	for rest != "" {
		found := false
		for _, p := range shParts {
			if after, ok := strings.CutPrefix(rest, p.text); ok && (after == "" || after[0] == '\n') {
				a.parts = append(a.parts, p.name)
				rest = strings.TrimPrefix(after, "\n")
				found = true
				break
			}
		}
		if !found {
			return a, fmt.Errorf("after %v: text that is no part of sh/: %.80q", a.parts, rest)
		}
	}
	return a, nil
}

// outline is what a golden file holds of a script: the script with each
// fixed part replaced by a line naming it.
func (a assembly) outline() string {
	var b strings.Builder
	b.WriteString(scriptStart + a.comment + "\n" + partMark + preludeName + "\n" + a.header)
	for _, p := range a.parts {
		b.WriteString(partMark + p + "\n")
	}
	return b.String()
}

// expandOutline is the script an outline stands for (the inverse of
// parseAssembly followed by outline).
func expandOutline(t *testing.T, outline string) string {
	t.Helper()
	text := map[string]string{preludeName: remote.Prelude}
	for _, p := range shParts {
		text[p.name] = p.text
	}
	var b strings.Builder
	var parts []string
	for _, line := range strings.SplitAfter(outline, "\n") {
		name, isPart := strings.CutPrefix(strings.TrimSuffix(line, "\n"), partMark)
		switch {
		case line == "": // after the last newline
		case isPart && name == preludeName:
			b.WriteString(remote.Prelude + "\n")
		case isPart:
			require.Contains(t, text, name, "the outline names an unknown part")
			parts = append(parts, text[name])
		default:
			require.Empty(t, parts, "the outline has text after its parts: %q", line)
			b.WriteString(line)
		}
	}
	return b.String() + "\n" + strings.Join(parts, "\n")
}

// cloudConfigView is what the cloud-config golden holds: the document with
// the packed attach script replaced by the outline of the script it unpacks
// to (after unpackedTitle). It returns the unpacked script too.
var packedRe = regexp.MustCompile(`(?m)^(\s+content: )(H4sI[A-Za-z0-9+/=]+)$`)

const unpackedTitle = "# ---- the attach script, unpacked ----\n"

func cloudConfigView(t *testing.T, doc string) (view, script string) {
	t.Helper()
	m := packedRe.FindStringSubmatch(doc)
	require.NotNil(t, m, "the cloud-config holds no gz+b64 content")
	raw, err := base64.StdEncoding.DecodeString(m[2])
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	assert.True(t, zr.Header.ModTime.IsZero() && zr.Header.Name == "", "the packed script must not depend on when or where it was packed")
	script = decodeContent(t, m[2], "gz+b64")
	a, err := parseAssembly(script)
	require.NoError(t, err)
	return strings.Replace(doc, m[0], m[1]+"<gz+b64 of the attach script below>", 1) + unpackedTitle + a.outline(), script
}

// goldenLayout has a nested path and a setting file whose text needs quoting.
var goldenLayout = layout.Resolved{Name: "dev", Local: []string{".cache", ".local/share/containers"},
	Files: []layout.SettingFile{{Path: "/etc/profile.d/azlin-x.sh", Content: "# azlin: it's \"quoted\" $HOME `x`\nexport A=1\n"}}}

func scriptMatrix(t *testing.T) map[string]string {
	t.Helper()
	premium := nfs.Target{Account: "devshared01", Share: "home", Tier: nfs.Premium}
	standard := nfs.Target{Account: "devshared02", Share: "homes", Tier: nfs.Standard}
	keys := []string{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIexample azlin@laptop", `command="echo 'hi'" ssh-rsa AAAAB3 it's`}
	must := func(s string, err error) string { require.NoError(t, err); return s }
	part, err := CloudInitPart(AttachParams{Target: premium, AuthorizedKeys: keys[:1], Timestamp: "20250101T000000Z"})
	require.NoError(t, err)
	ccBytes, err := part.Render()
	require.NoError(t, err)
	cc := string(ccBytes)
	return map[string]string{
		"attach-premium.sh": must(AttachScript(AttachParams{Target: premium, AuthorizedKeys: keys, Timestamp: "20250101T000000Z", Layout: goldenLayout})),
		"layout.sh":         must(LayoutScript(LayoutParams{Tier: nfs.Premium, Layout: goldenLayout, Timestamp: "20250101T000000Z"})),
		"attach-standard.sh": must(AttachScript(AttachParams{Target: standard, User: "dev", UID: 1001, GID: 1002,
			Home: "/srv/home/dev", Timestamp: "20250101T000000Z"})),
		"detach.sh":             must(DetachScript(DetachParams{Timestamp: "20250101T000000Z"})),
		"detach-force-known.sh": must(DetachScript(DetachParams{Target: premium, Force: true, Timestamp: "20250101T000000Z"})),
		"check-peer-write.sh":   must(CheckScript(CheckParams{Tier: nfs.Premium, Peer: PeerWrite, Token: "0123abcd"})),
		"cloud-config.yaml":     cc,
	}
}

// The golden files hold what varies between scripts: the header of values
// and which parts of sh/ make up each script (not copies of the parts; the
// cloud-config's packed script unpacked likewise). What a golden file
// describes is exactly the script: expanded, it gives the script back.
func TestGoldenScripts(t *testing.T) {
	for name, script := range scriptMatrix(t) {
		var got string
		if strings.HasSuffix(name, ".sh") {
			a, err := parseAssembly(script)
			require.NoError(t, err, name)
			got = a.outline()
		} else {
			got, script = cloudConfigView(t, script)
		}
		path := filepath.Join("testdata", name+".golden")
		if *update {
			require.NoError(t, os.MkdirAll("testdata", 0o755))
			require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err, "run `go test ./internal/vmscript -run TestGolden -update` to create it")
		assert.Equal(t, string(want), got, "%s differs from %s (review, then -update)", name, path)
		_, outline, _ := strings.Cut(string(want), unpackedTitle) // the cloud-config's script
		if strings.HasSuffix(name, ".sh") {
			outline = string(want)
		}
		assert.Equal(t, script, expandOutline(t, outline), "%s is not exactly what %s describes", name, path)
	}
}

// Every script is the header, then the library (lib.sh, layout.sh), then
// its body, nothing else; and the body starts the library first.
func TestScriptsAreHeaderThenLibraryThenBody(t *testing.T) {
	bodies := map[string]bool{"sh/attach.sh": true, "sh/detach.sh": true, "sh/layout-apply.sh": true, "sh/check.sh": true}
	for name, script := range scriptMatrix(t) {
		if !strings.HasSuffix(name, ".sh") {
			continue
		}
		a, err := parseAssembly(script)
		require.NoError(t, err, name)
		require.GreaterOrEqual(t, len(a.parts), 3, name)
		assert.Equal(t, []string{"sh/lib.sh", "sh/layout.sh"}, a.parts[:2], "%s: the library comes first", name)
		for _, p := range a.parts[2 : len(a.parts)-1] {
			assert.Equal(t, "sh/probes.sh", p, "%s: only the self-test's functions come between the library and the body", name)
		}
		assert.True(t, bodies[a.parts[len(a.parts)-1]], "%s ends with %s, not a body", name, a.parts[len(a.parts)-1])
		// Run alone, the header prints nothing and defines no function.
		out, err := exec.Command("bash", "-euc", a.header+"\ndeclare -F").CombinedOutput()
		assert.NoError(t, err, name)
		assert.Empty(t, string(out), "%s: the header holds only values", name)
	}
	for _, body := range []string{attachSh, detachSh, layoutApplySh, checkSh} {
		code := regexp.MustCompile(`(?m)^azlin_[a-z_]+$`).FindString(body[strings.Index(body, "\nazlin_"):])
		assert.Equal(t, "azlin_start", code, "the first command a body runs is azlin_start")
	}
}

func TestGeneratedScriptsAreValidBash(t *testing.T) {
	for name, s := range scriptMatrix(t) {
		if !strings.HasSuffix(name, ".sh") {
			continue
		}
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(s)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		assert.NoError(t, cmd.Run(), "%s: %s", name, stderr.String())
		assert.True(t, strings.HasPrefix(s, "#!/bin/bash\n# azlin: "), name)
	}
}

func TestCloudConfigIsValidYAMLWithTheAttachScript(t *testing.T) {
	p := AttachParams{Target: nfs.Target{Account: "devshared01", Share: "home", Tier: nfs.Premium},
		AuthorizedKeys: []string{`command="x: y # z" ssh-ed25519 AAAA 'quoted'`}, Timestamp: "T1"}
	part, err := CloudInitPart(p)
	require.NoError(t, err)
	vmPart := cloudinit.Config{Packages: []string{"git", "nfs-common"}, RunCmd: [][]string{{"echo", "vm-setup"}}}
	docBytes, err := cloudinit.Merge(vmPart, part).Render()
	require.NoError(t, err)
	doc := string(docBytes)
	require.True(t, strings.HasPrefix(doc, "#cloud-config\n"), "cloud-init ignores user data without the header")

	var parsed struct {
		Packages   []string `yaml:"packages"`
		WriteFiles []struct {
			Path, Content, Owner, Permissions, Encoding string
		} `yaml:"write_files"`
		RunCmd [][]string `yaml:"runcmd"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(doc), &parsed))
	assert.Equal(t, []string{"git", "nfs-common"}, parsed.Packages, "merged without duplicates")
	assert.Equal(t, [][]string{{"echo", "vm-setup"}, {"bash", "/var/lib/azlin/attach-run.sh"}}, parsed.RunCmd, "the VM's commands first, then the attach")
	require.Len(t, parsed.WriteFiles, 2)
	script, err := AttachScript(p)
	require.NoError(t, err)
	assert.Equal(t, "/var/lib/azlin/attach.sh", parsed.WriteFiles[0].Path)
	assert.Equal(t, "gz+b64", parsed.WriteFiles[0].Encoding)
	assert.Equal(t, script, decodeContent(t, parsed.WriteFiles[0].Content, parsed.WriteFiles[0].Encoding), "the script survives YAML byte for byte")
	assert.Empty(t, parsed.WriteFiles[1].Encoding, "the small runner stays readable")
	assert.Equal(t, "0700", parsed.WriteFiles[0].Permissions)
	assert.Equal(t, "root:root", parsed.WriteFiles[0].Owner)
	assert.Equal(t, "/var/lib/azlin/attach-run.sh", parsed.WriteFiles[1].Path)
	assert.Contains(t, parsed.WriteFiles[1].Content, "/var/lib/azlin/attach.result")
}

func TestParseCloudInitStatus(t *testing.T) {
	done, _, err := ParseCloudInitStatus("[stdout]\n##azlin-cloud-init## pending\n\n[stderr]\n")
	assert.False(t, done)
	assert.NoError(t, err)

	done, res, err := ParseCloudInitStatus("[stdout]\n##azlin-info## seeded=yes\n##azlin-result## status=ok step=verify reason=\n")
	assert.True(t, done)
	require.NoError(t, err)
	assert.True(t, res.OK)
	assert.Equal(t, "yes", res.Info["seeded"])

	done, _, err = ParseCloudInitStatus("[stdout]\nsome output of a killed script\n")
	assert.True(t, done, "a result file without a marker means the script ended without reporting")
	assert.Error(t, err)
	assert.Contains(t, CloudInitStatusScript(), "/var/lib/azlin/attach.result")
}

// decodeContent undoes a write_files encoding as cloud-init does.
func decodeContent(t *testing.T, content, encoding string) string {
	t.Helper()
	if encoding == "" {
		return content
	}
	require.Equal(t, "gz+b64", encoding)
	raw, err := base64.StdEncoding.DecodeString(content)
	require.NoError(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(out)
}

// Azure caps a VM's custom data at 64 KiB (65535 bytes, before base64): the
// shared home's cloud-config, with the biggest layout the layout package
// allows and several keys, stays far below, leaving room for the VM's part.
func TestCloudConfigStaysWellUnderAzureCustomDataLimit(t *testing.T) {
	big := layout.Resolved{Name: "big", Files: []layout.SettingFile{
		{Path: "/etc/ssh/ssh_config.d/50-azlin.conf", Content: strings.Repeat("# azlin: a setting file of some size\n", 20)},
		{Path: "/etc/azlin/shell-history.sh", Content: strings.Repeat("# azlin: a setting file of some size\n", 20), Hooks: []string{"/etc/zsh/zshrc"}},
		{Path: "/etc/gitconfig", Content: strings.Repeat("# azlin: a setting file of some size\n", 20)}}}
	for i := 0; i < 24; i++ {
		big.Local = append(big.Local, fmt.Sprintf(".local/share/some-tool-with-a-long-name-%02d", i))
	}
	var keys []string
	for i := 0; i < 10; i++ {
		keys = append(keys, fmt.Sprintf("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ%s user%d@laptop", strings.Repeat("x", 540), i))
	}
	part, err := CloudInitPart(AttachParams{Target: nfs.Target{Account: "abcdefghijklmnopqrstuvwx", Share: "a-share-name", Tier: nfs.Premium},
		AuthorizedKeys: keys, Layout: big, Timestamp: "T1"})
	require.NoError(t, err)
	doc, err := part.Render()
	require.NoError(t, err)
	t.Logf("cloud-config: %d bytes", len(doc))
	assert.Less(t, len(doc), 32*1024, "the shared home's part must leave room in Azure's 64 KiB custom data")
}

// Loading the library (and the self-test's functions) defines functions and
// does nothing else: no variable, trap, working folder or umask changes until
// a body calls azlin_start. So a function can be run alone.
func TestLoadingTheLibraryOnlyDefinesFunctions(t *testing.T) {
	lib := libSh + "\n" + layoutSh + "\n" + probesSh
	// The shell's own variables (PIPESTATUS, BASH_*) and the test's aside.
	const state = `{ compgen -v | grep -vx 'BASH_.*\|PIPESTATUS\|_\|before\|after' | sort; trap -p; pwd; umask; }`
	out, err := exec.Command("bash", "-euc", `before=$(`+state+`)
`+lib+`
after=$(`+state+`)
diff <(printf '%s\n' "$before") <(printf '%s\n' "$after")`).CombinedOutput()
	assert.NoError(t, err, "loading the library changed the shell's state:\n%s", out)
}

// A library function runs alone, given only the values it reads: here the
// fstab filter, on a file of the test's, with no start, lock or trap.
func TestLibraryFunctionRunsAlone(t *testing.T) {
	fstab := filepath.Join(t.TempDir(), "fstab")
	require.NoError(t, os.WriteFile(fstab, []byte("UUID=1 / ext4 defaults 0 1\nold:/x /home/a nfs rw,x-azlin.managed 0 0\n"), 0o644))
	out, err := exec.Command("bash", "-euc", libSh+"\n"+`FSTAB=$1 FSTAB_MARKER=x-azlin.managed
azlin_fstab_filter 'new:/y /home/a nfs rw,x-azlin.managed 0 0'
azlin_fstab_count`, "bash", fstab).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "UUID=1 / ext4 defaults 0 1\nnew:/y /home/a nfs rw,x-azlin.managed 0 0\n1\n", string(out))
}

// cloud-init status --wait's exit statuses (cloud-init's docs, "cli"
// status: 0 done, 1 error, 2 degraded/recoverable errors) and timeout's 124
// are told apart; the attach result after them is read as run-command's.
func TestParseCloudInitWait(t *testing.T) {
	ok := "##azlin-info## seeded=yes\n##azlin-result## status=ok step=verify reason=\n"
	w, err := ParseCloudInitWait("##azlin-cloud-init## waited 0\n" + ok)
	require.NoError(t, err)
	assert.Equal(t, CloudInitWait{Status: 0, Done: true, Result: w.Result}, w)
	assert.True(t, w.Result.OK)
	assert.Equal(t, "yes", w.Result.Info["seeded"])

	w, err = ParseCloudInitWait("##azlin-cloud-init## waited 2\n" + ok)
	require.NoError(t, err)
	assert.True(t, w.Done && w.Result.OK && w.Status == 2 && !w.TimedOut, "degraded: the attach's own result decides")

	w, err = ParseCloudInitWait("##azlin-cloud-init## waited 1\n##azlin-result## status=fail step=mount-staging reason=access denied\n")
	require.NoError(t, err)
	assert.True(t, w.Done)
	assert.False(t, w.Result.OK)
	assert.Equal(t, 1, w.Status)

	w, err = ParseCloudInitWait("##azlin-cloud-init## waited 124\n##azlin-cloud-init## pending\n")
	require.NoError(t, err)
	assert.True(t, w.TimedOut)
	assert.False(t, w.Done)

	w, err = ParseCloudInitWait("##azlin-cloud-init## waited 1\n##azlin-cloud-init## pending\n")
	require.NoError(t, err)
	assert.False(t, w.TimedOut || w.Done, "cloud-init failed before running the attach")

	w, err = ParseCloudInitWait("##azlin-cloud-init## waited 0\noutput of a killed attach\n")
	require.NoError(t, err)
	assert.True(t, w.Done)
	assert.ErrorIs(t, w.Err, remote.ErrNoMarker)

	for _, broken := range []string{"", "Connection to 1.2.3.4 closed by remote host.\n", "##azlin-cloud-init## waited 0\n", "##azlin-cloud-init## waited x\nfoo\n"} {
		_, err := ParseCloudInitWait(broken)
		assert.Error(t, err, "%q", broken)
	}
}

func TestCloudInitWaitScriptLeavesTheHomeAndBoundsTheWait(t *testing.T) {
	s := CloudInitWaitScript(10 * time.Minute)
	assert.True(t, strings.HasPrefix(s, "cd / || exit 1; "), "nothing may run in the home that is being mounted over")
	assert.Contains(t, s, "timeout -k 5 600 cloud-init status --wait")
	assert.True(t, strings.HasSuffix(s, CloudInitStatusScript()))
}
