package agreement

import (
	"strings"
	"testing"
)

// A text of N = 20 characters, positions 0-19, worked by hand:
//
//	position  0         1
//	          01234567890123456789
//	first     ..AAAAAAAA.....AAA..   [2,8) and [5,10) overlap: [2,10); [15,18)
//	second    ....BBBBBBBB....BBBB   [4,12), [16,20)
//
// First coded 8 + 3 = 11 characters, second 8 + 4 = 12. Both: 4-9 and 16-17,
// 8 characters. Neither: 0-1 and 12-14, 5 characters. Only first: 2, 3, 15;
// only second: 10, 11, 18, 19 (8 + 5 + 3 + 4 = 20).
// Po = (8 + 5)/20 = 0.65. Pe = (11/20)(12/20) + (9/20)(8/20) = 0.33 + 0.18 =
// 0.51. kappa = (0.65 - 0.51)/(1 - 0.51) = 0.14/0.49 = 2/7.
func TestCharAgreementHandWorked(t *testing.T) {
	first := []Span{{15, 18}, {2, 8}, {5, 10}}
	second := []Span{{4, 12}, {16, 20}, {6, 6}} // the empty span codes nothing
	p, k := CharAgreement(20, first, second)
	checkFinite(t, p)
	checkFinite(t, k)
	if !p.Defined || !near(p.Value, 0.65, 1e-12) || p.Units != 20 {
		t.Errorf("percent %+v, want 0.65 over 20 characters", p)
	}
	if !k.Defined || !near(k.Value, 2.0/7, 1e-12) || !near(k.Po, 0.65, 1e-12) || !near(k.Pe, 0.51, 1e-12) {
		t.Errorf("kappa %+v, want 2/7 with Po 0.65 and Pe 0.51", k)
	}
	// The comparison is symmetric in the two coders.
	p2, k2 := CharAgreement(20, second, first)
	if p2.Value != p.Value || !near(k2.Value, k.Value, 1e-15) {
		t.Errorf("swapped coders: percent %v kappa %v, want %v %v", p2.Value, k2.Value, p.Value, k.Value)
	}
}

func TestCharAgreementEdges(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		a, b         []Span
		pDef, kDef   bool
		pVal, kVal   float64
		note         string // substring of the kappa note
		percentNoted bool   // the percent result carries the same note
	}{
		// Neither coded anything: every character agrees, kappa has no
		// variation to work with.
		{"nothing coded", 10, nil, nil, true, false, 1, 0, "neither coder coded", false},
		{"everything coded", 10, []Span{{0, 10}}, []Span{{0, 4}, {4, 10}}, true, false, 1, 0, "both coders coded every character", false},
		// First coded all, second nothing: Po = 0, Pe = 1*0 + 0*1 = 0,
		// kappa = 0.
		{"opposite", 10, []Span{{0, 10}}, nil, true, true, 0, 0, "", false},
		// Same coding of half the text: Po = 1, Pe = .25 + .25, kappa = 1.
		{"identical", 10, []Span{{0, 5}}, []Span{{0, 5}}, true, true, 1, 1, "", false},
		{"empty text", 0, nil, nil, false, false, 0, 0, "empty text", true},
		{"negative length", -3, nil, nil, false, false, 0, 0, "empty text", true},
		{"past the end", 10, []Span{{8, 11}}, nil, false, false, 0, 0, "first coder's span [8,11) lies outside the text of 10", true},
		{"negative start", 10, nil, []Span{{-1, 2}}, false, false, 0, 0, "second coder's span [-1,2) lies outside", true},
		{"reversed", 10, []Span{{5, 2}}, nil, false, false, 0, 0, "[5,2) ends before it starts", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, k := CharAgreement(tt.n, tt.a, tt.b)
			checkFinite(t, p)
			checkFinite(t, k)
			if p.Defined != tt.pDef || !near(p.Value, tt.pVal, 1e-12) {
				t.Errorf("percent %+v, want defined %v value %v", p, tt.pDef, tt.pVal)
			}
			if k.Defined != tt.kDef || !near(k.Value, tt.kVal, 1e-12) {
				t.Errorf("kappa %+v, want defined %v value %v", k, tt.kDef, tt.kVal)
			}
			if !strings.Contains(k.Note, tt.note) {
				t.Errorf("kappa note %q does not mention %q", k.Note, tt.note)
			}
			if tt.percentNoted && p.Note != k.Note {
				t.Errorf("percent note %q, want %q", p.Note, k.Note)
			}
			if p.Statistic != "char-percent" || k.Statistic != "char-kappa" {
				t.Errorf("statistics named %q and %q", p.Statistic, k.Statistic)
			}
		})
	}
}

// Against a per-character count on random-looking spans.
func TestCharAgreementMatchesCount(t *testing.T) {
	const n = 97
	seed := uint32(12345)
	next := func(m int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>8) % m
	}
	for trial := range 200 {
		spans := func() []Span {
			var s []Span
			for range next(6) {
				a, b := next(n+1), next(n+1)
				s = append(s, Span{min(a, b), max(a, b)})
			}
			return s
		}
		a, b := spans(), spans()
		var inA, inB [n]bool
		for _, s := range a {
			for i := s.Start; i < s.End; i++ {
				inA[i] = true
			}
		}
		for _, s := range b {
			for i := s.Start; i < s.End; i++ {
				inB[i] = true
			}
		}
		same := 0
		for i := range n {
			if inA[i] == inB[i] {
				same++
			}
		}
		p, _ := CharAgreement(n, a, b)
		if !near(p.Value, float64(same)/n, 1e-12) {
			t.Fatalf("trial %d: percent %v, counted %d/%d for %v vs %v", trial, p.Value, same, n, a, b)
		}
	}
}

func BenchmarkCharAgreement(b *testing.B) {
	// 10,000 spans per coder over a 1,000,000-character text.
	var x, y []Span
	for i := range 10000 {
		x = append(x, Span{i * 100, i*100 + 60})
		y = append(y, Span{i*100 + 30, i*100 + 90})
	}
	b.ReportAllocs()
	for b.Loop() {
		CharAgreement(1000000, x, y)
	}
}
