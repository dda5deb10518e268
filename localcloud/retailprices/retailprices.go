// Package retailprices is the local cloud's stand-in for the public Azure
// Retail Prices API (https://prices.azure.com/api/retail/prices): a local
// HTTP server answering GET /api/retail/prices?$filter=... with the real
// API's JSON shape (BillingCurrency, CustomerEntityId, CustomerEntityType,
// Items, NextPageLink, Count; items with the API's field names), from a
// catalog of rows whose prices are test values, never real ones.
//
// It keeps the API's rules that azlin depends on: $filter is an OData
// expression of `field eq 'value'` joined by `and`/`or` with parentheses
// (values case-sensitive, as the API's docs say); an expression it cannot
// read is answered 400; answers are pages of at most 100 rows, the next one
// named by NextPageLink with $skip, on the server's own address with its
// port written out (as the API writes "prices.azure.com:443").
//
// Tests point azlin at it with AZLIN_PRICES_URL, count what was asked
// (Requests), and make it fail (SetDown) to see azlin offline.
package retailprices

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PageSize is how many rows one answer holds, as the real API pages.
const PageSize = 100

// Item is one price row, with the API's field names.
type Item struct {
	CurrencyCode         string  `json:"currencyCode"`
	TierMinimumUnits     float64 `json:"tierMinimumUnits"`
	RetailPrice          float64 `json:"retailPrice"`
	UnitPrice            float64 `json:"unitPrice"`
	ArmRegionName        string  `json:"armRegionName"`
	Location             string  `json:"location"`
	EffectiveStartDate   string  `json:"effectiveStartDate"`
	MeterID              string  `json:"meterId"`
	MeterName            string  `json:"meterName"`
	ProductID            string  `json:"productId"`
	SkuID                string  `json:"skuId"`
	ProductName          string  `json:"productName"`
	SkuName              string  `json:"skuName"`
	ServiceName          string  `json:"serviceName"`
	ServiceID            string  `json:"serviceId"`
	ServiceFamily        string  `json:"serviceFamily"`
	UnitOfMeasure        string  `json:"unitOfMeasure"`
	Type                 string  `json:"type"`
	IsPrimaryMeterRegion bool    `json:"isPrimaryMeterRegion"`
	ArmSkuName           string  `json:"armSkuName"`
}

// field is the value of a filterable field, by the name $filter uses.
func (it Item) field(name string) (string, bool) {
	switch name {
	case "armRegionName":
		return it.ArmRegionName, true
	case "location":
		return it.Location, true
	case "meterId":
		return it.MeterID, true
	case "meterName":
		return it.MeterName, true
	case "productId":
		return it.ProductID, true
	case "skuId":
		return it.SkuID, true
	case "productName":
		return it.ProductName, true
	case "skuName":
		return it.SkuName, true
	case "serviceName":
		return it.ServiceName, true
	case "serviceId":
		return it.ServiceID, true
	case "serviceFamily":
		return it.ServiceFamily, true
	case "priceType", "type":
		return it.Type, true
	case "armSkuName":
		return it.ArmSkuName, true
	case "currencyCode":
		return it.CurrencyCode, true
	}
	return "", false
}

//go:embed catalog.json
var catalogJSON []byte

// Catalog is the stand-in's rows: test prices for a few regions (see
// catalog.json), including rows azlin must not take (Windows, Spot, Dev/Test,
// reservations, other tiers).
func Catalog() []Item {
	var items []Item
	if err := json.Unmarshal(catalogJSON, &items); err != nil {
		panic("retailprices: catalog.json: " + err.Error())
	}
	for i := range items {
		if items[i].UnitPrice == 0 {
			items[i].UnitPrice = items[i].RetailPrice
		}
		if items[i].CurrencyCode == "" {
			items[i].CurrencyCode = "USD"
		}
	}
	return items
}

// Server is a running stand-in.
type Server struct {
	srv      *httptest.Server
	mu       sync.Mutex
	items    []Item
	requests []string // the $filter of every request, in order
	down     bool
	delay    time.Duration
}

// Start serves items (Catalog() when nil) on a local port until Close.
func Start(items []Item) *Server {
	if items == nil {
		items = Catalog()
	}
	s := &Server{items: items}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the API's address on this server, for AZLIN_PRICES_URL.
func (s *Server) URL() string { return s.srv.URL + "/api/retail/prices" }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Requests is the $filter of every request so far (pages included).
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// SetDown makes every request fail with 503, as an unreachable service
// would fail a fetch.
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetDelay holds every answer back by d (a slow or hanging API).
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// page is the API's answer.
type page struct {
	BillingCurrency    string  `json:"BillingCurrency"`
	CustomerEntityID   string  `json:"CustomerEntityId"`
	CustomerEntityType string  `json:"CustomerEntityType"`
	Items              []Item  `json:"Items"`
	NextPageLink       *string `json:"NextPageLink"`
	Count              int     `json:"Count"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := q.Get("$filter")
	s.mu.Lock()
	s.requests = append(s.requests, filter)
	down, delay := s.down, s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if down {
		http.Error(w, `{"Error":{"Code":"ServiceUnavailable","Message":"The service is unavailable."}}`, http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/api/retail/prices" {
		http.NotFound(w, r)
		return
	}
	if cur := q.Get("currencyCode"); cur != "" && strings.Trim(cur, "'") != "USD" {
		badRequest(w, "the stand-in has USD prices only")
		return
	}
	var match func(Item) (bool, error)
	if filter != "" {
		expr, err := parseFilter(filter)
		if err != nil {
			badRequest(w, "Invalid OData parameters supplied: "+err.Error())
			return
		}
		match = expr.eval
	}
	skip := 0
	if v := q.Get("$skip"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			badRequest(w, "Invalid $skip value "+strconv.Quote(v))
			return
		}
		skip = n
	}
	var hits []Item
	for _, it := range s.items {
		if match != nil {
			ok, err := match(it)
			if err != nil {
				badRequest(w, "Invalid OData parameters supplied: "+err.Error())
				return
			}
			if !ok {
				continue
			}
		}
		hits = append(hits, it)
	}
	p := page{BillingCurrency: "USD", CustomerEntityID: "Default", CustomerEntityType: "Retail", Items: []Item{}}
	if skip < len(hits) {
		end := min(skip+PageSize, len(hits))
		p.Items = hits[skip:end]
		if end < len(hits) {
			u, _ := url.Parse(s.srv.URL)
			next := fmt.Sprintf("http://%s:%s/api/retail/prices?$filter=%s&$skip=%d", u.Hostname(), u.Port(), filter, end)
			p.NextPageLink = &next // the real API leaves the filter's spaces unencoded
		}
	}
	p.Count = len(p.Items)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(p)
}

func badRequest(w http.ResponseWriter, msg string) {
	b, _ := json.Marshal(map[string]any{"Error": map[string]string{"Code": "BadRequest", "Message": msg}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// expr is a parsed $filter.
type expr interface {
	eval(Item) (bool, error)
}

type eqExpr struct{ field, value string }

func (e eqExpr) eval(it Item) (bool, error) {
	v, ok := it.field(e.field)
	if !ok {
		return false, fmt.Errorf("unknown field %q", e.field)
	}
	return v == e.value, nil
}

type boolExpr struct {
	and  bool
	l, r expr
}

func (e boolExpr) eval(it Item) (bool, error) {
	l, err := e.l.eval(it)
	if err != nil {
		return false, err
	}
	if l != e.and { // false and ..., true or ...
		return l, nil
	}
	return e.r.eval(it)
}

// parseFilter reads `a eq 'x' and (b eq 'y' or c eq 'z')`: or binds
// loosest, then and, as in OData.
func parseFilter(s string) (expr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i].text)
	}
	return e, nil
}

type token struct {
	text string
	str  bool // a quoted string literal (text without quotes)
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			toks = append(toks, token{text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string in %q", s)
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' { // '' is a quote inside
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			toks = append(toks, token{text: b.String(), str: true})
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != '\'' {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peekWord(w string) bool {
	return p.i < len(p.toks) && !p.toks[p.i].str && strings.EqualFold(p.toks[p.i].text, w)
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.i++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = boolExpr{and: false, l: l, r: r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.i++
		r, err := p.term()
		if err != nil {
			return nil, err
		}
		l = boolExpr{and: true, l: l, r: r}
	}
	return l, nil
}

func (p *parser) term() (expr, error) {
	if p.i >= len(p.toks) {
		return nil, fmt.Errorf("the filter ends too soon")
	}
	if t := p.toks[p.i]; !t.str && t.text == "(" {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.i >= len(p.toks) || p.toks[p.i].text != ")" || p.toks[p.i].str {
			return nil, fmt.Errorf("missing )")
		}
		p.i++
		return e, nil
	}
	if p.i+2 >= len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison at %q", p.toks[p.i].text)
	}
	field, op, val := p.toks[p.i], p.toks[p.i+1], p.toks[p.i+2]
	if field.str || op.str || !strings.EqualFold(op.text, "eq") || !val.str {
		return nil, fmt.Errorf("expected field eq 'value' at %q", field.text)
	}
	p.i += 3
	return eqExpr{field: field.text, value: val.text}, nil
}
