package vmscript

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/azlin-dev/azlin/internal/cloudinit"
	"github.com/azlin-dev/azlin/internal/remote"
)

// Where `azlin new --shared-home` leaves the attach script and its outcome on
// the VM. The provisioning code waits for it over SSH with
// CloudInitWaitScript (ParseCloudInitWait), or, when SSH does not get
// through, polls CloudInitStatusScript through run-command
// (ParseCloudInitStatus).
const (
	CloudInitDir        = "/var/lib/azlin"
	CloudInitScriptFile = CloudInitDir + "/attach.sh"     // the attach script (0700, root)
	CloudInitRunnerFile = CloudInitDir + "/attach-run.sh" // what runcmd runs
	CloudInitLogFile    = CloudInitDir + "/attach.log"    // the attach script's whole output
	CloudInitResultFile = CloudInitDir + "/attach.result" // its last 3000 bytes, written when it ended
	cloudInitPending    = "##azlin-cloud-init## pending"  // printed while no result exists yet
	cloudInitWaited     = "##azlin-cloud-init## waited "  // + cloud-init status --wait's exit status
	cloudInitResultTail = 3000                            // fits run-command's 4096-byte output
)

// CloudInitPart is the part of a new VM's cloud-config that attaches its home
// to the share at first boot, with the same script as `azlin storage attach`:
// it installs nfs-common (packages: runs before runcmd), writes the attach
// script and a runner, and runs the runner from runcmd, i.e. in cloud-init's
// final stage, after the admin user and its authorized_keys exist. The runner
// logs everything to CloudInitLogFile and then writes CloudInitResultFile
// through a rename, so a reader sees either no result or a whole one.
func CloudInitPart(p AttachParams) (cloudinit.Config, error) {
	script, err := AttachScript(p)
	if err != nil {
		return cloudinit.Config{}, err
	}
	runner := strings.Join([]string{
		"#!/bin/bash",
		"# azlin: runs the shared-home attach script at first boot and keeps its result.",
		"mkdir -p " + CloudInitDir,
		"bash " + CloudInitScriptFile + " >" + CloudInitLogFile + " 2>&1 </dev/null",
		fmt.Sprintf("tail -c %d %s >%s.tmp", cloudInitResultTail, CloudInitLogFile, CloudInitResultFile),
		"mv -f " + CloudInitResultFile + ".tmp " + CloudInitResultFile,
		"",
	}, "\n")
	packed, err := gzipBase64(script)
	if err != nil {
		return cloudinit.Config{}, err
	}
	return cloudinit.Config{
		Packages: []string{"nfs-common"},
		WriteFiles: []cloudinit.WriteFile{
			// Compressed: Azure caps a VM's custom data at 64 KiB, and the
			// script with a layout is most of that uncompressed.
			{Path: CloudInitScriptFile, Content: packed, Encoding: "gz+b64", Owner: "root:root", Permissions: "0700"},
			{Path: CloudInitRunnerFile, Content: runner, Owner: "root:root", Permissions: "0700"},
		},
		RunCmd: [][]string{{"bash", CloudInitRunnerFile}},
	}, nil
}

// gzipBase64 is cloud-init's gz+b64 encoding. The gzip header carries no
// time or name, so the same script always gives the same text.
func gzipBase64(s string) (string, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := zw.Write([]byte(s)); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// CloudInitStatusScript is a run-command script that prints the attach
// result of a VM made with --shared-home, or a pending line while cloud-init
// has not finished the attach.
func CloudInitStatusScript() string {
	return "if [ -f " + CloudInitResultFile + " ]; then cat " + CloudInitResultFile +
		"; else echo '" + cloudInitPending + "'; fi\n"
}

// ParseCloudInitStatus reads CloudInitStatusScript's output. done is false
// while the attach has not finished; when done, err is remote.ErrNoMarker if
// the attach script ended without a result (it was killed or crashed: see
// CloudInitLogFile), else res is the attach script's result.
func ParseCloudInitStatus(stdout string) (done bool, res remote.Result, err error) {
	res, err = remote.Parse(stdout)
	if err == nil {
		return true, res, nil
	}
	if strings.Contains(stdout, cloudInitPending) {
		return false, remote.Result{}, nil
	}
	return true, remote.Result{}, err
}

// CloudInitWait is what CloudInitWaitScript saw on the VM.
type CloudInitWait struct {
	// TimedOut: cloud-init had not finished when the wait's time was up.
	TimedOut bool
	// Status is `cloud-init status --wait`'s exit status when it finished:
	// 0 done, 1 error (a module failed), 2 done with recoverable errors
	// (cloud-init 23.4 and later: "degraded").
	Status int
	// Done: the attach ended; Result and Err are as ParseCloudInitStatus's.
	Done   bool
	Result remote.Result
	Err    error
}

// waitTimedOut is timeout(1)'s exit status when the command ran out of
// time (124), or was killed after it (137).
func waitTimedOut(status int) bool { return status == 124 || status == 137 }

// CloudInitWaitScript is run over SSH as the admin user: it waits (at most
// limit) for cloud-init to finish, then prints the wait's exit status and
// the attach result as CloudInitStatusScript does. It starts with cd /: the
// share is mounted over the home meanwhile, and a shell sitting in the old
// home would keep it busy.
func CloudInitWaitScript(limit time.Duration) string {
	secs := int(limit.Seconds())
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprintf("cd / || exit 1; timeout -k 5 %d cloud-init status --wait >/dev/null 2>&1; echo \"%s$?\"; %s",
		secs, cloudInitWaited, CloudInitStatusScript())
}

// ParseCloudInitWait reads CloudInitWaitScript's output. An error means
// the output is not the script's (the session broke before it ended).
func ParseCloudInitWait(stdout string) (CloudInitWait, error) {
	i := strings.Index(stdout, cloudInitWaited)
	if i < 0 {
		return CloudInitWait{}, fmt.Errorf("the wait for cloud-init printed no status: %q", lastLine(stdout))
	}
	line, rest, _ := strings.Cut(stdout[i+len(cloudInitWaited):], "\n")
	status, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return CloudInitWait{}, fmt.Errorf("the wait for cloud-init printed a bad status %q", line)
	}
	if strings.TrimSpace(rest) == "" {
		return CloudInitWait{}, fmt.Errorf("the wait for cloud-init ended before printing the attach result")
	}
	w := CloudInitWait{Status: status, TimedOut: waitTimedOut(status)}
	w.Done, w.Result, w.Err = ParseCloudInitStatus(rest)
	return w, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndex(s, "\n")+1:]
}
