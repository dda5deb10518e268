package azcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// class is an error class: a sentinel that may belong to a wider class
// (ErrResourceGroupNotFound is also ErrNotFound).
type class struct {
	msg    string
	parent error
}

func (c *class) Error() string { return c.msg }
func (c *class) Unwrap() error { return c.parent }

// Error classes. Test them with errors.Is; an *Error unwraps to one of them.
var (
	ErrAzNotInstalled        error = &class{msg: "Azure CLI (az) not found"}
	ErrNotLoggedIn           error = &class{msg: "not logged in to Azure"}
	ErrNotFound              error = &class{msg: "not found"}
	ErrResourceGroupNotFound error = &class{msg: "resource group not found", parent: ErrNotFound}
	ErrAlreadyExists         error = &class{msg: "already exists"}
	ErrAuthorization         error = &class{msg: "not authorized"}
	ErrQuotaExceeded         error = &class{msg: "quota exceeded"}
	ErrThrottled             error = &class{msg: "throttled by Azure"}
	ErrConflict              error = &class{msg: "conflict"}
	ErrInvalidArgument       error = &class{msg: "invalid az arguments"}
	ErrServer                error = &class{msg: "Azure server error"}
	ErrPolicyDenied          error = &class{msg: "denied by Azure Policy"}
)

// Error is a failed az call: az ran and exited non-zero. It carries az's own
// words, so a user reading it learns what Azure said.
type Error struct {
	Args     []string // az's arguments without the leading "az", secrets redacted
	ExitCode int
	Code     string // ARM error code such as "ResourceNotFound", when az printed one
	Message  string // az's stderr, trimmed, WARNING lines dropped, secrets redacted
	Attempts int    // how many times the call was tried (more than 1 after retries)
	class    error
}

// Error reads like `az storage account show failed: (ResourceNotFound) The Resource ... was not found.`
// A policy denial names its assignments instead of ARM's JSON list of them.
func (e *Error) Error() string {
	summary := firstLine(e.Message)
	if as := e.PolicyAssignments(); len(as) > 0 {
		summary = policySummary(summary, as)
	}
	if summary == "" {
		summary = fmt.Sprintf("exit code %d", e.ExitCode)
	}
	tries := ""
	if e.Attempts > 1 {
		tries = fmt.Sprintf(" (tried %d times)", e.Attempts)
	}
	return fmt.Sprintf("az %s failed%s: %s", commandString(e.Args), tries, summary)
}

// Command is the az command that failed, e.g. "storage account create".
func (e *Error) Command() string { return commandString(e.Args) }

// Unwrap returns the error's class sentinel, nil for an az error of no known class.
func (e *Error) Unwrap() error { return e.class }

// transient reports whether trying the same call again may succeed: Azure
// asked us to slow down, had a server fault, or was busy with another
// operation on the same resource.
func (e *Error) transient() bool {
	switch e.class {
	case ErrThrottled, ErrServer:
		return true
	case ErrConflict:
		return e.Code == "AnotherOperationInProgress" || strings.Contains(strings.ToLower(e.Message), "in progress")
	}
	return false
}

// commandWords are the leading words of argv that name the az command
// ("storage account show"), before the first option.
func commandWords(args []string) []string {
	for i, a := range args {
		if strings.HasPrefix(a, "-") {
			return args[:i]
		}
	}
	return args
}

// commandString is "storage account show": the command words of argv, for messages.
func commandString(args []string) string { return strings.Join(commandWords(args), " ") }

// firstLine is the first non-empty line of az's message without az's "ERROR: " prefix.
func firstLine(msg string) string {
	for _, l := range strings.Split(msg, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return strings.TrimPrefix(l, "ERROR: ")
		}
	}
	return ""
}

// newError builds the classified *Error for a call that exited non-zero.
func newError(args []string, res Result) *Error {
	msg := Redact(cleanStderr(string(res.Stderr)))
	code := armCode(msg)
	return &Error{
		Args:     RedactArgs(args),
		ExitCode: res.ExitCode,
		Code:     code,
		Message:  msg,
		class:    classify(res.ExitCode, code, msg),
	}
}

// cleanStderr drops az's WARNING lines (deprecation notices and the like
// printed before the real error) and trims the rest.
func cleanStderr(stderr string) string {
	var kept []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "WARNING:") {
			continue
		}
		kept = append(kept, l)
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// az prints ARM errors as "ERROR: (Code) message\nCode: Code\nMessage: message";
// `az rest` prints an HTTP error as "ERROR: <reason>(<response body>)"
// (azure/cli/core/util.py, send_raw_request), the code inside the body's
// {"error":{"code":...}}.
var (
	codeInParens = regexp.MustCompile(`(?m)^ERROR: \(([A-Za-z][A-Za-z0-9]*)\)`)
	codeLine     = regexp.MustCompile(`(?m)^Code: ([A-Za-z][A-Za-z0-9]*)\s*$`)
	codeInBody   = regexp.MustCompile(`(?m)^ERROR: [A-Za-z][A-Za-z ]*\(\{"error":\s*\{.*?"code":\s*"([A-Za-z][A-Za-z0-9]*)"`)
)

func armCode(msg string) string {
	if m := codeInParens.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if m := codeLine.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	if m := codeInBody.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// codeClasses maps ARM error codes to classes.
var codeClasses = map[string]error{
	"ResourceNotFound":       ErrNotFound,
	"NotFound":               ErrNotFound,
	"ParentResourceNotFound": ErrNotFound,
	"SubscriptionNotFound":   ErrNotFound,
	"ShareNotFound":          ErrNotFound,
	"ContainerNotFound":      ErrNotFound,
	"ResourceGroupNotFound":  ErrResourceGroupNotFound,

	"StorageAccountAlreadyTaken":  ErrAlreadyExists,
	"StorageAccountAlreadyExists": ErrAlreadyExists,
	"AlreadyExists":               ErrAlreadyExists,
	"ShareAlreadyExists":          ErrAlreadyExists,
	"ContainerAlreadyExists":      ErrAlreadyExists,

	"AuthorizationFailed":             ErrAuthorization,
	"LinkedAuthorizationFailed":       ErrAuthorization,
	"AuthorizationPermissionMismatch": ErrAuthorization,
	"Forbidden":                       ErrAuthorization,
	"RBACAccessDenied":                ErrAuthorization, // Cost Management's own role check

	"ExpiredAuthenticationToken":       ErrNotLoggedIn,
	"InvalidAuthenticationToken":       ErrNotLoggedIn,
	"InvalidAuthenticationTokenTenant": ErrNotLoggedIn,

	"QuotaExceeded": ErrQuotaExceeded,

	"RequestDisallowedByPolicy": ErrPolicyDenied,

	"TooManyRequests":               ErrThrottled,
	"SubscriptionRequestsThrottled": ErrThrottled,
	"TenantRequestsThrottled":       ErrThrottled,

	"Conflict":                   ErrConflict,
	"AnotherOperationInProgress": ErrConflict,

	"InternalServerError": ErrServer,
	"InternalError":       ErrServer,
	"ServiceUnavailable":  ErrServer,
	"BadGateway":          ErrServer,
	"GatewayTimeout":      ErrServer,
	"ServerTimeout":       ErrServer,
}

// textClasses catch errors that carry no ARM code: az's own messages and
// HTTP failures azure-core reports by status ("Operation returned an invalid
// status 'Service Unavailable'"). Checked in order.
var textClasses = []struct {
	re    *regexp.Regexp
	class error
}{
	{regexp.MustCompile(`(?i)the following arguments are required|unrecognized arguments:|is not a valid value for|(?m:^ERROR:) \(--[^)]*\) (?:is|are) required`), ErrInvalidArgument},
	{regexp.MustCompile(`(?i)'Too Many Requests'|\(429\)|status code 429`), ErrThrottled},
	{regexp.MustCompile(`(?i)'(?:Internal Server Error|Service Unavailable|Bad Gateway|Gateway Timeout)'|status code 50[0-9]`), ErrServer},
}

// classify decides an error's class from az's exit code, the ARM code and
// the message. "az login" wins over everything: whatever else failed, the
// user's next step is to log in.
func classify(exit int, code, msg string) error {
	if strings.Contains(msg, "az login") {
		return ErrNotLoggedIn
	}
	if c, ok := codeClasses[code]; ok {
		return c
	}
	// Compute reports exhausted core quota as OperationNotAllowed.
	if code == "OperationNotAllowed" && strings.Contains(strings.ToLower(msg), "quota") {
		return ErrQuotaExceeded
	}
	for _, t := range textClasses {
		if t.re.MatchString(msg) {
			return t.class
		}
	}
	switch exit {
	case 2: // argparse: bad or missing arguments
		return ErrInvalidArgument
	case 3: // az's exit code for a missing ARM resource
		return ErrNotFound
	}
	return nil
}

// IsTransient reports whether err is an az error worth retrying later.
func IsTransient(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.transient()
}

// PolicyAssignment is an Azure Policy assignment that denied a request.
type PolicyAssignment struct {
	Name string `json:"name"` // its display name, as ARM reports it
	ID   string `json:"id"`
}

// policyIdentifiers is the list ARM puts in a RequestDisallowedByPolicy
// message: "Resource 'x' was disallowed by policy. Policy identifiers:
// '[{"policyAssignment":{"name":...,"id":...},"policyDefinition":{...}}]'."
var policyIdentifiers = regexp.MustCompile(`Policy identifiers: '(\[.*?\])'`)

// PolicyAssignments are the assignments that denied the request (from ARM's
// message), nil for any other error.
func (e *Error) PolicyAssignments() []PolicyAssignment {
	if e.class != ErrPolicyDenied {
		return nil
	}
	m := policyIdentifiers.FindStringSubmatch(e.Message)
	if m == nil {
		return nil
	}
	var ids []struct {
		Assignment PolicyAssignment `json:"policyAssignment"`
	}
	if json.Unmarshal([]byte(m[1]), &ids) != nil {
		return nil
	}
	var out []PolicyAssignment
	for _, id := range ids {
		if id.Assignment.ID != "" && !slices.Contains(out, id.Assignment) {
			out = append(out, id.Assignment)
		}
	}
	return out
}

// policySummary replaces ARM's JSON list in a denial's first line with the
// assignments' names and ids.
func policySummary(line string, as []PolicyAssignment) string {
	names := make([]string, len(as))
	for i, a := range as {
		names[i] = fmt.Sprintf("%q (%s)", a.Name, a.ID)
	}
	word := "assignment"
	if len(as) > 1 {
		word = "assignments"
	}
	return policyIdentifiers.ReplaceAllLiteralString(line, "Azure Policy "+word+" "+strings.Join(names, ", "))
}

// DeniedByPolicy returns the policy assignments that denied err's request,
// nil when err is not a policy denial.
func DeniedByPolicy(err error) []PolicyAssignment {
	var e *Error
	if errors.As(err, &e) {
		return e.PolicyAssignments()
	}
	return nil
}
