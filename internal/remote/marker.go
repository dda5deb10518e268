// Package remote defines the result protocol of every script azlin runs on a
// VM. `az vm run-command invoke` does not report a script's exit status and
// keeps only the last 4096 bytes of its output, so each script ends by
// printing one marker line; no marker means the script did not finish.
package remote

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
)

const (
	resultPrefix = "##azlin-result## "
	infoPrefix   = "##azlin-info## "
)

// Prelude is bash that every remote script starts with. It gives the script
// azlin_step (name the current step), azlin_info (report a key=value fact),
// azlin_fail (print the failure marker and exit 1) and azlin_ok (print the
// success marker and exit 0). An unexpected error under `set -e` ends the
// script through the ERR trap with a failure marker naming the step.
const Prelude = `set -Eeuo pipefail
AZLIN_STEP=start
azlin_step() { AZLIN_STEP="$1"; }
azlin_info() { printf '` + infoPrefix + `%s=%s\n' "$1" "$2"; }
azlin_fail() { printf '` + resultPrefix + `status=fail step=%s reason=%s\n' "$AZLIN_STEP" "$*"; exit 1; }
azlin_ok() { printf '` + resultPrefix + `status=ok step=%s reason=\n' "$AZLIN_STEP"; exit 0; }
trap 'azlin_fail "command failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR
`

// Result is what a remote script reported.
type Result struct {
	OK     bool
	Step   string            // the step the script was in when it finished
	Reason string            // why it failed; empty on success
	Info   map[string]string // facts reported with azlin_info, last value wins
}

// ErrNoMarker means the output carries no result marker: the script was cut
// short (killed, timed out, or its output lost), so its outcome is unknown and
// must be treated as a failure.
var ErrNoMarker = errors.New("the remote script ended without reporting a result")

// Parse reads a script's stdout and returns the last result marker in it.
func Parse(stdout string) (Result, error) {
	res := Result{Info: map[string]string{}}
	found := false
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, resultPrefix):
			r, err := parseResult(strings.TrimPrefix(line, resultPrefix))
			if err != nil {
				return Result{}, err
			}
			res.OK, res.Step, res.Reason = r.OK, r.Step, r.Reason
			found = true
		case strings.HasPrefix(line, infoPrefix):
			k, v, _ := strings.Cut(strings.TrimPrefix(line, infoPrefix), "=")
			res.Info[k] = v
		}
	}
	if !found {
		return Result{}, ErrNoMarker
	}
	return res, nil
}

// Err turns a failed result into an error that names the step and reason.
func (r Result) Err() error {
	if r.OK {
		return nil
	}
	return fmt.Errorf("step %q failed: %s", r.Step, r.Reason)
}

func parseResult(s string) (Result, error) {
	// status=ok|fail step=NAME reason=free text to the end of the line
	status, rest, ok1 := strings.Cut(s, " step=")
	step, reason, ok2 := strings.Cut(rest, " reason=")
	if !ok1 || !ok2 || (status != "status=ok" && status != "status=fail") {
		return Result{}, fmt.Errorf("malformed result marker %q", s)
	}
	return Result{OK: status == "status=ok", Step: step, Reason: reason}, nil
}
