package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/azlin-dev/azlin/internal/clierr"
)

// ValidResourceGroup checks name against Azure's rules for resource group
// names: 1-90 characters; letters, digits, underscore, hyphen, period and
// parentheses; not ending in a period. (Azure allows Unicode letters and
// digits too, so this does.) A bad name is a usage error.
func ValidResourceGroup(name string) error {
	if err := validRG(name); err != nil {
		return clierr.Usagef("invalid resource group name %q: %v", name, err)
	}
	return nil
}

func validRG(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > 90 {
		return fmt.Errorf("must be 1-90 characters long, not %d", n)
	}
	for _, r := range name {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("_-.()", r)) {
			return fmt.Errorf("%q is not allowed: use letters, digits, _ - . ( )", r)
		}
	}
	if strings.HasSuffix(name, ".") {
		return errors.New("must not end with a period")
	}
	return nil
}

var regionRE = regexp.MustCompile(`^[a-z0-9]{1,40}$`)

// validRegion accepts a region's programmatic name ("westus2"), not its
// display name ("West US 2"), since that is what az and ARM take.
func validRegion(region string) error {
	if regionRE.MatchString(region) {
		return nil
	}
	hint := strings.ToLower(strings.ReplaceAll(region, " ", ""))
	if regionRE.MatchString(hint) {
		return fmt.Errorf("region %q must be lowercase letters and digits without spaces; did you mean %q?", region, hint)
	}
	return fmt.Errorf("region %q must be lowercase letters and digits, e.g. westus2 (az account list-locations -o table lists them)", region)
}

var vmSizeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

func checkVMSize(v string) (string, error) {
	if !vmSizeRE.MatchString(v) {
		return "", fmt.Errorf("%q is not a VM size; sizes look like Standard_D2s_v5 (az vm list-sizes -l REGION lists them)", v)
	}
	return v, nil
}

// checkKeyPath expands a leading ~/ and requires an absolute path, since a
// relative one would mean a different key in every folder azlin runs from.
func checkKeyPath(v string) (string, error) {
	if v == "~" || strings.HasPrefix(v, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot expand ~ in %q: %v", v, err)
		}
		v = filepath.Join(home, strings.TrimPrefix(v, "~"))
	}
	if !filepath.IsAbs(v) {
		return "", fmt.Errorf("%q must be an absolute path or start with ~/", v)
	}
	return filepath.Clean(v), nil
}

// validNetworkName checks Azure's rules for virtual network (2-64) and subnet
// (1-80) names: letters, digits, underscore, period, hyphen; starting with a
// letter or digit and ending with a letter, digit or underscore.
func validNetworkName(v string, minLen, maxLen int) error {
	if len(v) < minLen || len(v) > maxLen {
		return fmt.Errorf("%q must be %d-%d characters long", v, minLen, maxLen)
	}
	for _, r := range v {
		if !(isASCIIAlnum(r) || strings.ContainsRune("_.-", r)) {
			return fmt.Errorf("%q contains %q: use letters, digits, _ . -", v, r)
		}
	}
	first, _ := utf8.DecodeRuneInString(v)
	last, _ := utf8.DecodeLastRuneInString(v)
	if !isASCIIAlnum(first) {
		return fmt.Errorf("%q must start with a letter or digit", v)
	}
	if !isASCIIAlnum(last) && last != '_' {
		return fmt.Errorf("%q must end with a letter, digit or underscore", v)
	}
	return nil
}

func isASCIIAlnum(r rune) bool {
	return r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r))
}

// checkPrefix requires an IPv4 CIDR whose host bits are zero, as Azure does
// ("10.0.0.1/16" is refused there; we say which prefix was meant).
func checkPrefix(v string) (string, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil || !p.Addr().Is4() {
		return "", fmt.Errorf("%q is not an IPv4 CIDR prefix such as 10.0.0.0/16", v)
	}
	if p.Masked() != p {
		return "", fmt.Errorf("%q has host bits set; the prefix is %s", v, p.Masked())
	}
	if p.Bits() > 29 {
		// Azure keeps 5 addresses of every subnet; /29 is the smallest it allows.
		return "", fmt.Errorf("%q is too small: Azure needs /29 or larger", v)
	}
	return p.String(), nil
}
