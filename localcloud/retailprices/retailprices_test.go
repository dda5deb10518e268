package retailprices

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rules kept here are the Retail Prices API's documented behaviour
// (learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices):
// OData $filter with eq/and/or, case-sensitive values, pages of 100 items
// chained by NextPageLink.

func get(t *testing.T, s *Server, rawQuery string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(s.URL() + "?" + rawQuery)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func filterQuery(f string) string { return "$filter=" + url.QueryEscape(f) }

func TestFilterSelectsByEqAndOrWithParentheses(t *testing.T) {
	s := Start(nil)
	defer s.Close()
	code, body := get(t, s, filterQuery("serviceName eq 'Virtual Network' and (armRegionName eq 'swedencentral' or armRegionName eq 'Global') "+
		"and priceType eq 'Consumption' and (productName eq 'IP Addresses' and meterName eq 'Standard IPv4 Static Public IP')"))
	require.Equal(t, http.StatusOK, code, body)
	items := body["Items"].([]any)
	require.Len(t, items, 1)
	it := items[0].(map[string]any)
	assert.Equal(t, "Standard IPv4 Static Public IP", it["meterName"])
	var want float64
	for _, row := range Catalog() {
		if row.ArmRegionName == "swedencentral" && row.MeterName == "Standard IPv4 Static Public IP" {
			want = row.RetailPrice
		}
	}
	assert.Equal(t, want, it["retailPrice"], "the catalog's row, as is")
	assert.Equal(t, "1 Hour", it["unitOfMeasure"])
	for _, k := range []string{"BillingCurrency", "CustomerEntityId", "CustomerEntityType", "Items", "NextPageLink", "Count"} {
		assert.Contains(t, body, k)
	}
	assert.Nil(t, body["NextPageLink"])
	assert.Equal(t, 1.0, body["Count"])

	// Values are case-sensitive.
	_, body = get(t, s, filterQuery("serviceName eq 'virtual network'"))
	assert.Empty(t, body["Items"])
	// and binds tighter than or.
	_, body = get(t, s, filterQuery("armRegionName eq 'norwayeast' or armRegionName eq 'swedencentral' and meterName eq 'P4 LRS Disk'"))
	assert.Len(t, body["Items"], 2)
	assert.Equal(t, []string{
		"serviceName eq 'Virtual Network' and (armRegionName eq 'swedencentral' or armRegionName eq 'Global') and priceType eq 'Consumption' and (productName eq 'IP Addresses' and meterName eq 'Standard IPv4 Static Public IP')",
		"serviceName eq 'virtual network'",
		"armRegionName eq 'norwayeast' or armRegionName eq 'swedencentral' and meterName eq 'P4 LRS Disk'",
	}, s.Requests())
}

func TestAFilterItCannotReadIsABadRequest(t *testing.T) {
	s := Start(nil)
	defer s.Close()
	for _, f := range []string{"serviceName eq", "serviceName ne 'Storage'", "(serviceName eq 'Storage'", "nosuchField eq 'x'", "serviceName eq 'unterminated"} {
		code, body := get(t, s, filterQuery(f))
		assert.Equal(t, http.StatusBadRequest, code, f)
		assert.Contains(t, fmt.Sprint(body["Error"]), "Invalid OData parameters supplied", f)
	}
}

func TestPagesOfAHundredChainedByNextPageLink(t *testing.T) {
	var items []Item
	for i := range 250 {
		items = append(items, Item{ServiceName: "Storage", ArmRegionName: "swedencentral", MeterName: fmt.Sprintf("m%03d", i), Type: "Consumption"})
	}
	s := Start(items)
	defer s.Close()
	next := s.URL() + "?" + filterQuery("serviceName eq 'Storage'")
	var got []string
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 3)
		// The link is written as the API writes it: spaces left in the query.
		resp, err := http.Get(strings.ReplaceAll(next, " ", "%20"))
		require.NoError(t, err)
		var p struct {
			Items        []Item
			NextPageLink *string
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
		resp.Body.Close()
		for _, it := range p.Items {
			got = append(got, it.MeterName)
		}
		next = ""
		if p.NextPageLink != nil {
			next = *p.NextPageLink
			assert.Contains(t, next, "$skip=")
		}
	}
	require.Len(t, got, 250)
	assert.Equal(t, "m249", got[249])
}

func TestDownAnswers503(t *testing.T) {
	s := Start(nil)
	defer s.Close()
	s.SetDown(true)
	code, _ := get(t, s, filterQuery("serviceName eq 'Storage'"))
	assert.Equal(t, http.StatusServiceUnavailable, code)
	s.SetDown(false)
	code, _ = get(t, s, filterQuery("serviceName eq 'Storage'"))
	assert.Equal(t, http.StatusOK, code)
}

func TestCatalogIsTheAPIsShape(t *testing.T) {
	for _, it := range Catalog() {
		assert.Equal(t, "USD", it.CurrencyCode)
		assert.NotEmpty(t, it.MeterName)
		assert.NotEmpty(t, it.ServiceName)
		assert.NotEmpty(t, it.UnitOfMeasure)
		assert.Contains(t, []string{"Consumption", "DevTestConsumption", "Reservation"}, it.Type)
		assert.Equal(t, it.RetailPrice, it.UnitPrice)
	}
}
