package main

import (
	"os"
	"testing"

	"github.com/azlin-dev/azlin/internal/cost"
)

// TestMain keeps the in-process tests off the internet: an estimate that
// needs a price the table lacks fetches it from the Retail Prices API, and
// here that address refuses at once (nothing listens on port 9), so the
// estimate says "not priced" without waiting. Tests that want prices
// fetched set AZLIN_PRICES_URL to a local server of their own.
func TestMain(m *testing.M) {
	if os.Getenv(cost.PricesURLEnv) == "" {
		_ = os.Setenv(cost.PricesURLEnv, "http://127.0.0.1:9/api/retail/prices")
	}
	os.Exit(m.Run())
}
