package azrules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRulesAreOnUnlessListed(t *testing.T) {
	Known["test-rule"] = "a rule for this test"
	defer delete(Known, "test-rule")
	env := func(list string) func(string) string {
		return func(k string) string {
			if k == Env {
				return list
			}
			return ""
		}
	}
	assert.True(t, On(env(""), "test-rule"))
	assert.False(t, On(env(" test-rule ,"), "test-rule"))
	assert.NoError(t, Check(env("test-rule")))
	assert.ErrorContains(t, Check(env("test-rul")), `unknown rule "test-rul"`)
	assert.Panics(t, func() { On(env(""), "no-such-rule") })
}
