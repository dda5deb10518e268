// Package clierr holds the error kinds that decide azlin's exit code, so that
// managers can say "this is the user's mistake" without importing the CLI.
package clierr

import (
	"errors"
	"fmt"
)

// Exit codes, documented in the README. One place for them.
const (
	ExitOK            = 0
	ExitFailed        = 1
	ExitUsage         = 2   // bad flag or argument, caught before any az call
	ExitCancelled     = 3   // the user said no at a prompt
	ExitAzUnavailable = 4   // az missing or not logged in
	ExitInterrupted   = 130 // Ctrl+C / SIGTERM
)

// UsageError is a mistake in the command line or its values. It is always
// detected before anything is changed, and maps to exit code 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

// ErrCancelled is returned when the user declines a confirmation prompt.
var ErrCancelled = errors.New("cancelled")
