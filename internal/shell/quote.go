// Package shell is the one place where values are quoted for POSIX shells:
// every value azlin puts into a script or prints as a command line goes
// through Quote.
package shell

import "strings"

// Quote returns s quoted so that a POSIX shell reads it back as exactly one
// word with the same bytes. Words made only of safe characters are left bare,
// which keeps printed command lines readable.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if isSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// Join quotes each word and joins them with spaces.
func Join(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = Quote(w)
	}
	return strings.Join(q, " ")
}

func isSafe(s string) bool {
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-_./:=,@%+", r):
		default:
			return false
		}
	}
	return true
}
