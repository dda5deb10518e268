package cost

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoneyRoundsHalfUpToCentsOnlyForDisplay(t *testing.T) {
	cases := []struct {
		m    Money
		want string
	}{
		{163_840_000, "$163.84"},
		{0, "$0.00"},
		{4_999, "$0.00"},       // $0.004999
		{5_000, "$0.01"},       // $0.005: half a cent rounds up
		{125_000, "$0.13"},     // $0.125
		{30_368_000, "$30.37"}, // $30.368
		{1_234_567_890_000, "$1,234,567.89"},
		{-1_505_000, "-$1.51"}, // halves round away from zero
		{-4_999, "$0.00"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.m.String(), "Money(%d)", int64(c.m))
	}
	assert.Equal(t, "12.30 EUR", Money(12_300_000).Format("EUR"))
	assert.Equal(t, "$12.30", Money(12_300_000).Format("USD"))
}

func TestParsePriceIsExact(t *testing.T) {
	cases := map[string]Price{
		"0.16":         160_000_000,
		"0.0416":       41_600_000,
		"0.20":         200_000_000,
		"1.2E-05":      12_000,
		"16122":        16_122_000_000_000,
		"0.0000000004": 0, // below a billionth: rounds half-up to 0
		"0.0000000005": 1,
	}
	for in, want := range cases {
		got, err := ParsePrice(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "abc", "-0.16", "1e40"} {
		_, err := ParsePrice(bad)
		assert.Error(t, err, bad)
	}
}

func TestPriceShowsItsExactDecimal(t *testing.T) {
	assert.Equal(t, "0.16", Price(160_000_000).String())
	assert.Equal(t, "0.0416", Price(41_600_000).String())
	assert.Equal(t, "1.00", Price(1_000_000_000).String())
	assert.Equal(t, "$0.096", Price(96_000_000).Format("USD"))
	assert.Equal(t, "0.115 EUR", Price(115_000_000).Format("EUR"))
}

func TestPriceJSONRoundTripsWithoutFloats(t *testing.T) {
	var v struct {
		A Price `json:"a"`
		B Price `json:"b"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a": 0.0832, "b": "0.2"}`), &v))
	assert.Equal(t, Price(83_200_000), v.A)
	assert.Equal(t, Price(200_000_000), v.B)
	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"a": 0.0832, "b": 0.20}`, string(out))

	assert.Error(t, json.Unmarshal([]byte(`{"a": null}`), &v))
	assert.Error(t, json.Unmarshal([]byte(`{"a": -1}`), &v))
}
