package azemu_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tests run the built emulator as a subprocess, the way azlin's
// end-to-end tests use it. AZEMU_TEST_LOG=FILE makes every call append to
// FILE (the AZEMU_LOG hook): scripts/conformance.sh replays those argvs
// through the real az.

var azBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "azemu-bin-")
	if err != nil {
		panic(err)
	}
	azBin = filepath.Join(dir, "az")
	build := exec.Command("go", "build", "-o", azBin, "github.com/azlin-dev/azlin/localcloud/cmd/az")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the emulator:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cloud is one emulated cloud: a state dir and the environment for calls.
type cloud struct {
	t   *testing.T
	dir string
	env map[string]string
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	c := &cloud{t: t, dir: t.TempDir(), env: map[string]string{}}
	c.env["AZEMU_STATE_DIR"] = c.dir
	if log := os.Getenv("AZEMU_TEST_LOG"); log != "" {
		c.env["AZEMU_LOG"] = log
	}
	return c
}

type result struct {
	stdout, stderr string
	code           int
}

// command is an az call with the cloud's environment, not started yet.
func (c *cloud) command(args ...string) *exec.Cmd {
	cmd := exec.Command(azBin, args...)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.dir}
	for k, v := range c.env {
		env = append(env, k+"="+v)
	}
	cmd.Env = env
	return cmd
}

// run calls az with args; stdin is empty (not a terminal).
func (c *cloud) run(args ...string) result {
	c.t.Helper()
	cmd := c.command(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("running az %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// ok runs a call that must succeed and returns its stdout.
func (c *cloud) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	require.Equal(c.t, 0, r.code, "az %s\nstderr: %s", strings.Join(args, " "), r.stderr)
	return r.stdout
}

// json runs a call that must succeed and decodes its JSON output.
func (c *cloud) json(args ...string) any {
	c.t.Helper()
	out := c.ok(args...)
	var v any
	require.NoError(c.t, json.Unmarshal([]byte(out), &v), "output of az %s: %s", strings.Join(args, " "), out)
	return v
}

func (c *cloud) obj(args ...string) map[string]any {
	c.t.Helper()
	v, ok := c.json(args...).(map[string]any)
	require.True(c.t, ok, "az %s did not print an object", strings.Join(args, " "))
	return v
}

// base sets up a group, a VNet with a subnet (Microsoft.Storage endpoint) and
// a FileStorage account with NFS-ready settings.
func (c *cloud) base() {
	c.t.Helper()
	c.ok("group", "create", "-n", "rg", "-l", "eastus", "-o", "none")
	c.ok("network", "vnet", "create", "-g", "rg", "-n", "v", "--address-prefixes", "10.0.0.0/16",
		"--subnet-name", "s", "--subnet-prefixes", "10.0.0.0/24", "-o", "none")
	c.ok("network", "vnet", "subnet", "update", "-g", "rg", "--vnet-name", "v", "-n", "s",
		"--service-endpoints", "Microsoft.Storage", "-o", "none")
	c.ok("storage", "account", "create", "-g", "rg", "-n", "acct", "--sku", "Premium_LRS", "--kind", "FileStorage",
		"--https-only", "false", "--default-action", "Deny", "-o", "none", "--only-show-errors")
}

func shape(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "az-shapes", name))
	require.NoError(t, err)
	var v any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

// sameShape asserts that got has every key want has, with the same JSON type
// (a null in want accepts anything, since the value depends on the resource),
// recursively through objects and the first element of lists.
func sameShape(t *testing.T, want, got any, path string) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		return
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: want an object, got %s", path, typeName(got))
			return
		}
		var missing []string
		for k := range w {
			if _, ok := g[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("%s: missing keys %v", path, missing)
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				if gv == nil && wv != nil {
					if _, isMap := wv.(map[string]any); isMap {
						t.Errorf("%s.%s: want an object, got null", path, k)
					}
					continue
				}
				sameShape(t, wv, gv, path+"."+k)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: want a list, got %s", path, typeName(got))
			return
		}
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, w[0], g[0], path+"[0]")
		}
	default:
		if got != nil && typeName(want) != typeName(got) {
			t.Errorf("%s: want %s, got %s (%v)", path, typeName(want), typeName(got), got)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}
