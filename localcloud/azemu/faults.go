package azemu

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// faultRule makes matching calls fail (AZEMU_FAULTS names a JSON file holding
// a list of them). A call matches when every given condition holds:
//
//	{"args": ["storage","account","create"],  // words that appear in argv in this order
//	 "prefix": ["vm","run-command"],          // argv starts with these words
//	 "script": "mount -t nfs",                // run-command only: the script contains this
//	 "exit": 1, "stderr": "ERROR: (TooManyRequests) ...\n", "stdout": "",
//	 "message": "...",                        // run-command only: succeed with this message instead of running
//	 "delayMs": 0,                            // sleep before answering
//	 "times": 2}                              // the next 2 matching calls fail, later ones succeed; 0 = always
//
// The first rule that matches and still has calls left applies. Counts live in
// the state dir (fault-counts.json) and change under the state lock, so
// concurrent processes share them. argv never includes the program name;
// the NFS mount helper's argv starts with "__azemu-nfs-mount".
type faultRule struct {
	Name    string   `json:"name"`
	Args    []string `json:"args"`
	Prefix  []string `json:"prefix"`
	Script  string   `json:"script"`
	Exit    int      `json:"exit"`
	Stderr  string   `json:"stderr"`
	Stdout  string   `json:"stdout"`
	Message string   `json:"message"`
	DelayMs int      `json:"delayMs"`
	Times   int      `json:"times"`
}

// scoped rules ("script" or "message") apply inside run-command, where the
// script is known; the others apply to any call before it runs.
func (r *faultRule) scoped() bool { return r.Script != "" || r.Message != "" }

func (r *faultRule) matches(argv []string, script string) bool {
	if !strings.Contains(script, r.Script) {
		return false
	}
	if len(r.Prefix) > len(argv) {
		return false
	}
	for i, w := range r.Prefix {
		if argv[i] != w {
			return false
		}
	}
	k := 0
	for _, a := range argv {
		if k < len(r.Args) && a == r.Args[k] {
			k++
		}
	}
	return k == len(r.Args)
}

func (r *faultRule) key(i int) string {
	if r.Name != "" {
		return r.Name
	}
	return "rule-" + strconv.Itoa(i)
}

// apply answers the call as the rule says.
func (r *faultRule) apply(stdio IO) int {
	r.wait()
	fmt.Fprint(stdio.Stdout, r.Stdout)
	fmt.Fprint(stdio.Stderr, r.Stderr)
	return r.Exit
}

func (r *faultRule) wait() {
	if r.DelayMs > 0 {
		time.Sleep(time.Duration(r.DelayMs) * time.Millisecond)
	}
}

// matchFault returns the rule that applies to this call, after counting it,
// or nil. With runCommand false it considers the rules that apply to any
// call; with true, the scoped ones, against the run-command's script.
func matchFault(st *store, path string, argv []string, runCommand bool, script string) (*faultRule, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cliError("azemu: AZEMU_FAULTS: %v", err)
	}
	var rules []faultRule
	if err := json.Unmarshal(data, &rules); err != nil {
		return nil, cliError("azemu: AZEMU_FAULTS %s: %v", path, err)
	}
	unlock, err := st.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	counts, err := st.readCounters("fault-counts")
	if err != nil {
		return nil, err
	}
	for i := range rules {
		r := &rules[i]
		if r.scoped() != runCommand {
			continue
		}
		if !r.matches(argv, script) {
			continue
		}
		if r.Times > 0 && counts[r.key(i)] >= r.Times {
			continue
		}
		counts[r.key(i)]++
		if err := st.writeCounters("fault-counts", counts); err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, nil
}
