package azcli

import (
	"regexp"
	"strings"
)

// redacted replaces every secret that Redact finds.
const redacted = "REDACTED"

// secretFlags are az options whose value is a secret.
var secretFlags = []string{
	"--account-key", "--sas-token", "--password", "--admin-password",
	"--connection-string", "--client-secret",
}

// secretJSONKeys are JSON keys whose string value is a secret: storage account
// keys (`az storage account keys list` prints [{"keyName":"key1","value":"..."}]),
// and the usual password/token fields.
var secretJSONKeys = []string{
	"key1", "key2", "value", "primaryKey", "secondaryKey", "primaryMasterKey", "secondaryMasterKey",
	"accountKey", "password", "adminPassword", "sasToken", "connectionString", "clientSecret",
}

var secretPatterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	// --account-key VALUE, --password='x y', ... inside a line of text.
	{regexp.MustCompile(`(?i)((?:` + strings.Join(secretFlags, "|") + `)(?:\s+|=))('[^']*'|"[^"]*"|[^\s'"]+)`), "${1}" + redacted},
	// The signature of a SAS token (the rest of a SAS names no secret).
	{regexp.MustCompile(`(?i)(\bsig=)[^&\s"';]+`), "${1}" + redacted},
	// Connection strings: AccountKey=...; SharedAccessKey=...;
	{regexp.MustCompile(`(?i)(\b(?:AccountKey|SharedAccessKey)=)[^;\s"']+`), "${1}" + redacted},
	// "key1": "...", "value": "..." in JSON.
	{regexp.MustCompile(`(?i)("(?:` + strings.Join(secretJSONKeys, "|") + `)"\s*:\s*)"(?:[^"\\]|\\.)*"`), `${1}"` + redacted + `"`},
	// Access tokens in HTTP headers that az --debug style output may echo.
	{regexp.MustCompile(`(?i)(\bBearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}" + redacted},
}

// Redact hides secrets in a piece of text (an argv line, az's stderr, JSON):
// account keys, SAS signatures, passwords and the values of secret options.
// It is the one function every log line and recorded fixture goes through.
func Redact(s string) string {
	for _, p := range secretPatterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// RedactArgs returns a copy of argv with secrets hidden: the word after a
// secret option (--account-key KEY), the value of --account-key=KEY, and any
// secret Redact finds inside a word (a SAS URL, a connection string).
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		switch {
		case i > 0 && isSecretFlag(args[i-1]):
			out[i] = redacted
		default:
			if flag, _, ok := strings.Cut(a, "="); ok && isSecretFlag(flag) {
				out[i] = flag + "=" + redacted
			} else {
				out[i] = Redact(a)
			}
		}
	}
	return out
}

func isSecretFlag(word string) bool {
	for _, f := range secretFlags {
		if strings.EqualFold(word, f) {
			return true
		}
	}
	return false
}
