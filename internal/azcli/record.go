package azcli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"
)

// EnvRecordDir names a folder where azlin records every az call it makes
// (record mode): one JSON object per line in DIR/calls.jsonl, with the fields
// of a test fixture's call (argv, exit, stdout, stderr) plus when it started
// and how long it took, scrubbed of secrets and ids (Scrub). The records can
// become test fixtures and the local cloud's latencies.
const EnvRecordDir = "AZLIN_RECORD_DIR"

// RecordFile is the file in the record folder that the calls are added to.
const RecordFile = "calls.jsonl"

// Recorder is a Runner that records every call of the Runner it wraps.
// Concurrent calls (and concurrent azlin processes) each append whole lines.
type Recorder struct {
	Runner Runner
	Dir    string

	once sync.Once
}

// RecordedCall is one line of a record.
type RecordedCall struct {
	Argv   []string `json:"argv"`
	Exit   int      `json:"exit"`
	Stdout string   `json:"stdout,omitempty"`
	Stderr string   `json:"stderr,omitempty"`
	Start  string   `json:"start"` // RFC 3339, UTC
	MS     int64    `json:"ms"`
	Error  string   `json:"error,omitempty"` // az could not be run or was stopped (exit -1)
}

func (r *Recorder) Run(ctx context.Context, args []string) (Result, error) {
	start := time.Now()
	res, err := r.Runner.Run(ctx, args)
	rec := RecordedCall{Exit: res.ExitCode, Stdout: Scrub(string(res.Stdout)), Stderr: Scrub(string(res.Stderr)),
		Start: start.UTC().Format(time.RFC3339Nano), MS: time.Since(start).Milliseconds()}
	for _, a := range RedactArgs(args) {
		rec.Argv = append(rec.Argv, scrubIDs(a))
	}
	if err != nil {
		rec.Exit, rec.Error = -1, Scrub(err.Error())
	}
	if werr := r.append(rec); werr != nil {
		r.once.Do(func() { fmt.Fprintf(os.Stderr, "azlin: record mode: %v (az calls are not being recorded)\n", werr) })
	}
	return res, err
}

func (r *Recorder) append(rec RecordedCall) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(r.Dir, RecordFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	// One write per line: O_APPEND keeps whole lines from several processes.
	_, err = f.Write(append(line, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var (
	uuidRe  = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)
)

// Scrub makes az's output fit to share: secrets redacted (Redact), every
// GUID (subscription, tenant, object and request ids) replaced by one derived
// from it by a hash, the same in every record so that ids still match across
// calls, and e-mail addresses (user names) replaced by user@example.com.
func Scrub(s string) string { return scrubIDs(emailRe.ReplaceAllString(Redact(s), "user@example.com")) }

func scrubIDs(s string) string {
	return uuidRe.ReplaceAllStringFunc(s, func(id string) string {
		h := sha256.Sum256([]byte("azlin-record:" + id))
		x := hex.EncodeToString(h[:16])
		return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
	})
}
