package azemu

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The default profile adds nothing, so `make test` keeps its speed.
func TestFastProfileAddsNothing(t *testing.T) {
	for _, name := range []string{"", "fast"} {
		k, err := loadClock(func(v string) string {
			if v == "AZEMU_PROFILE" {
				return name
			}
			return ""
		})
		assert.NoError(t, err)
		for cmd := range handlers {
			assert.Zero(t, k.op(&invocation{cmd: cmd}), cmd)
		}
		assert.Zero(t, k.start)
		assert.Zero(t, k.other)
	}
}

// Every row of the azure table names an emulated command: a typo would
// leave that command on a read's time.
func TestAzureProfileNamesEmulatedCommands(t *testing.T) {
	for cmd := range azureProfile.ops {
		assert.NotNil(t, handlers[cmd], "%q is not an emulated command", cmd)
	}
}
