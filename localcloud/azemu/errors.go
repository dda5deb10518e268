package azemu

import "fmt"

// azError is a failure as az reports it: text on stderr and an exit code.
type azError struct {
	exit   int
	stderr string
}

func (e *azError) Error() string { return e.stderr }

// recommendationTail is what az 2.45 prints after an argument error when it
// cannot reach its online recommendation service (as here, offline) and no
// help example matches: the reference link only.
const recommendationTail = "\nExamples from AI knowledge base:\nhttps://aka.ms/cli_ref\nRead more about the command in reference docs\n"

// argError is an argparse failure: exit 2, as az prints it.
func argError(format string, a ...any) *azError {
	return &azError{exit: 2, stderr: "ERROR: " + fmt.Sprintf(format, a...) + "\n" + recommendationTail}
}

// cliError is an error az raises itself (a validator, a client-side check):
// exit 1, one line.
func cliError(format string, a ...any) *azError {
	return &azError{exit: 1, stderr: "ERROR: " + fmt.Sprintf(format, a...) + "\n"}
}

// armError is an error returned by Azure Resource Manager, printed the way
// az 2.45 prints an HttpResponseError. Missing resources exit 3, others 1.
func armError(code, message string) *azError {
	exit := 1
	if code == "ResourceNotFound" || code == "ResourceGroupNotFound" || code == "NotFound" {
		exit = 3
	}
	return &azError{exit: exit, stderr: fmt.Sprintf("ERROR: (%s) %s\nCode: %s\nMessage: %s\n", code, message, code, message)}
}

// notFound is ARM's 404 for a resource that does not exist in an existing group.
func notFound(typ, name, rg string) *azError {
	return armError("ResourceNotFound", fmt.Sprintf(
		"The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		typ, name, rg))
}

// groupNotFound is ARM's 404 for a resource group that does not exist.
func groupNotFound(rg string) *azError {
	return armError("ResourceGroupNotFound", fmt.Sprintf("Resource group '%s' could not be found.", rg))
}

// errNotLoggedIn is what az prints for any command when nobody is logged in.
var errNotLoggedIn = &azError{exit: 1, stderr: "ERROR: Please run 'az login' to setup account.\n"}
