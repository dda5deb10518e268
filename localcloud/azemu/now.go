package azemu

import "time"

// ClockOffsetEnv moves the emulator's clock: AZEMU_CLOCK_OFFSET=25h makes
// every "now" of the emulated cloud 25 hours later than the machine's, so a
// test can let a day pass (capacity metrics, costs by resource age) without
// waiting. It is read once per az call (one process per call).
const ClockOffsetEnv = "AZEMU_CLOCK_OFFSET"

// clockOffset is the current call's offset; set by Main from the env.
var clockOffset time.Duration

// now is the one place the emulated cloud asks for the time.
func now() time.Time { return time.Now().Add(clockOffset).UTC() }

// setClock reads AZEMU_CLOCK_OFFSET (a Go duration such as 48h or -1h30m).
func setClock(env Env) error {
	clockOffset = 0
	v := env(ClockOffsetEnv)
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return cliError("azemu: bad %s %q: %v (a Go duration such as 25h)", ClockOffsetEnv, v, err)
	}
	clockOffset = d
	return nil
}

// createdKey is the emulator-private creation time of every stored record,
// stamped by store.put the first time a record is written.
const createdKey = "created"

// created returns when a record was first stored (zero when unknown, for
// records written before the emulator kept the time).
func created(rec map[string]any) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, str(emu(rec), createdKey))
	return t
}

func stampCreated(rec map[string]any) {
	if str(emu(rec), createdKey) == "" {
		emu(rec)[createdKey] = now().Format(time.RFC3339Nano)
	}
}
