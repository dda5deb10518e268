package cost

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Money is an amount in micro-units (millionths) of the table's currency.
// Integers keep sums exact; rounding to cents happens only when an amount is
// shown (String, Format).
type Money int64

const (
	microPerUnit = 1_000_000
	microPerCent = 10_000
)

// Cents is m rounded half-up (away from zero) to whole cents.
func (m Money) Cents() int64 {
	v := int64(m)
	if v < 0 {
		return -((-v + microPerCent/2) / microPerCent)
	}
	return (v + microPerCent/2) / microPerCent
}

// Rounded is m rounded to whole cents, as String shows it: sums of Rounded
// amounts add up to what their lines show.
func (m Money) Rounded() Money { return Money(m.Cents() * microPerCent) }

// String shows m as US dollars rounded to cents: "$163.84".
func (m Money) String() string { return m.Format("USD") }

// Format shows m rounded to cents with its currency: "$1,234.50" for USD,
// "1,234.50 EUR" for any other currency code.
func (m Money) Format(currency string) string {
	c := m.Cents()
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	amount := fmt.Sprintf("%s.%02d", groupThousands(c/100), c%100)
	if currency == "USD" {
		return sign + "$" + amount
	}
	return sign + amount + " " + currency
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Price is a unit price (per hour, per GiB-month, ...) in nano-units
// (billionths) of the currency: finer than Money because list prices such
// as $0.0416/hour are multiplied by large quantities before rounding.
type Price int64

const nanoPerUnit = 1_000_000_000

// ParsePrice reads a decimal price such as "0.16" or "1.2E-05" exactly.
// Digits beyond a billionth are rounded half-up (no Azure list price has them).
func ParsePrice(s string) (Price, error) {
	r, ok := new(big.Rat).SetString(strings.TrimSpace(s))
	if !ok {
		return 0, fmt.Errorf("price %q is not a decimal number", s)
	}
	if r.Sign() < 0 {
		return 0, fmt.Errorf("price %q is negative", s)
	}
	n := roundHalfUp(r.Mul(r, big.NewRat(nanoPerUnit, 1)))
	if !n.IsInt64() {
		return 0, fmt.Errorf("price %q is too large", s)
	}
	return Price(n.Int64()), nil
}

// String is the exact decimal, with at least two decimals: "0.16", "0.0416".
func (p Price) String() string {
	whole, frac := int64(p)/nanoPerUnit, int64(p)%nanoPerUnit
	f := strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
	for len(f) < 2 {
		f += "0"
	}
	return strconv.FormatInt(whole, 10) + "." + f
}

// Format shows the price with its currency, unrounded: "$0.0416", "0.115 EUR".
func (p Price) Format(currency string) string {
	if currency == "USD" {
		return "$" + p.String()
	}
	return p.String() + " " + currency
}

// MarshalJSON writes the exact decimal as a JSON number.
func (p Price) MarshalJSON() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalJSON reads a JSON number (or a string holding one) without going
// through float64, so 0.0416 stays exactly 0.0416.
func (p *Price) UnmarshalJSON(b []byte) error {
	text := string(bytes.Trim(b, `"`))
	if text == "null" || text == "" {
		return errors.New("price is missing")
	}
	v, err := ParsePrice(text)
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// times is p x quantity, rounded half-up to Money (micro-units); ok is false
// when the result does not fit. quantity must not be negative (callers check).
func (p Price) times(quantity *big.Rat) (m Money, ok bool) {
	r := new(big.Rat).SetInt64(int64(p))
	r.Mul(r, quantity)
	r.Quo(r, big.NewRat(nanoPerUnit/microPerUnit, 1))
	n := roundHalfUp(r)
	if !n.IsInt64() {
		return 0, false
	}
	return Money(n.Int64()), true
}

// roundHalfUp rounds a non-negative rational to the nearest integer, halves up.
func roundHalfUp(r *big.Rat) *big.Int {
	num := new(big.Int).Mul(r.Num(), big.NewInt(2))
	num.Add(num, r.Denom())
	den := new(big.Int).Mul(r.Denom(), big.NewInt(2))
	return num.Quo(num, den)
}
