package agreement

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// expand repeats each weighted row of d as many times as its weight says.
func expand(d Data) Data {
	out := Data{Coders: d.Coders}
	for u, row := range d.Values {
		for range d.weight(u) {
			out.Values = append(out.Values, row)
		}
	}
	return out
}

// randomWeighted makes a few distinct rows of values from vals (the zero
// Value is missing) with random weights, some of them 0.
func randomWeighted(rng *rand.Rand, coders int, vals []Value) Data {
	d := Data{}
	for c := range coders {
		d.Coders = append(d.Coders, "c"+strconv.Itoa(c))
	}
	rows := 1 + rng.IntN(8)
	for range rows {
		row := make([]Value, coders)
		for c := range row {
			row[c] = vals[rng.IntN(len(vals))]
		}
		d.Values = append(d.Values, row)
		d.Weights = append(d.Weights, rng.IntN(40))
	}
	return d
}

// sameResult compares two results: exactly in everything but the floating
// point numbers, which may differ in the last bits.
func sameResult(t *testing.T, what string, got, want Result) {
	t.Helper()
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(a), math.Abs(b)) }
	if got.Statistic != want.Statistic || got.Defined != want.Defined || got.Note != want.Note ||
		got.Units != want.Units || got.Excluded != want.Excluded || got.Pairable != want.Pairable ||
		!close(got.Value, want.Value) || !close(got.Po, want.Po) || !close(got.Pe, want.Pe) ||
		!close(got.Do, want.Do) || !close(got.De, want.De) {
		t.Errorf("%s:\nweighted %+v\nrepeated %+v", what, got, want)
	}
}

// Weighted rows give what the rows repeated give, for every statistic, on
// present/absent data (the case agreement on segments uses) and on ratings.
func TestWeightsEqualRepeatedRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	binary := []Value{{}, Num(0), Num(1), Num(1), Num(0)}
	ratings := []Value{{}, Num(1), Num(2), Num(3), Num(5), Num(0)}
	for i := range 400 {
		vals := binary
		if i%2 == 1 {
			vals = ratings
		}
		coders := 2 + rng.IntN(3)
		d := randomWeighted(rng, coders, vals)
		e := expand(d)
		if len(e.Values) == 0 {
			continue // "no units" on the one side, rows of weight 0 on the other
		}
		what := "case " + strconv.Itoa(i)
		sameResult(t, what+" percent", Percent(d), Percent(e))
		sameResult(t, what+" cohen", Cohen(d), Cohen(e))
		sameResult(t, what+" fleiss", Fleiss(d), Fleiss(e))
		sameResult(t, what+" brennan-prediger", BrennanPrediger(d, 4), BrennanPrediger(e, 4))
		for _, lvl := range []Level{Nominal, Ordinal, Interval, Ratio} {
			sameResult(t, what+" alpha "+lvl.String(), Krippendorff(d, lvl), Krippendorff(e, lvl))
		}
	}
}

// With two coders and present/absent values every share of agreement is 0
// or 1, so weighted rows give exactly, bit for bit, what repeated rows give.
func TestWeightsExactForTwoCodersBinary(t *testing.T) {
	d := Data{Coders: []string{"a", "b"},
		Values:  [][]Value{{Num(1), Num(1)}, {Num(1), Num(0)}, {Num(0), Num(1)}, {Num(0), Num(0)}, {{}, Num(1)}},
		Weights: []int{12345, 678, 91, 100003, 17}}
	e := expand(d)
	for _, pair := range [][2]Result{
		{Percent(d), Percent(e)}, {Cohen(d), Cohen(e)}, {Fleiss(d), Fleiss(e)},
		{Krippendorff(d, Nominal), Krippendorff(e, Nominal)}, {BrennanPrediger(d, 2), BrennanPrediger(e, 2)},
	} {
		if pair[0] != pair[1] {
			t.Errorf("weighted %+v\nrepeated %+v", pair[0], pair[1])
		}
	}
}

func TestWeightsChecked(t *testing.T) {
	d := Data{Coders: []string{"a", "b"}, Values: [][]Value{{Num(1), Num(1)}, {Num(0), Num(1)}}}
	for _, tc := range []struct {
		weights []int
		note    string
	}{
		{[]int{1}, "1 weights for 2 rows of values"},
		{[]int{1, -2}, "unit #2 has a negative weight, -2"},
	} {
		d.Weights = tc.weights
		for _, r := range []Result{Percent(d), Cohen(d), Fleiss(d), Krippendorff(d, Nominal), BrennanPrediger(d, 2)} {
			if r.Defined || r.Note != tc.note {
				t.Errorf("weights %v: %v, want undefined: %s", tc.weights, r, tc.note)
			}
		}
	}
	// Rows of weight 0 take no part, not even as excluded units.
	d.Weights = []int{3, 0}
	if r := Percent(d); !r.Defined || r.Value != 1 || r.Units != 3 || r.Excluded != 0 {
		t.Errorf("weight 0: %v", r)
	}
	if r := Krippendorff(d, Nominal); r.Defined || r.Units != 3 {
		t.Errorf("weight 0 row must not add variation: %v", r)
	}
}

// CharCounts gives what CharAgreement gives for the same spans, and the
// counts of texts taken end to end are the sums of their counts.
func TestCharCounts(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	spans := func(n int) []Span {
		var out []Span
		for range rng.IntN(4) {
			a, b := rng.IntN(n+1), rng.IntN(n+1)
			out = append(out, Span{min(a, b), max(a, b)})
		}
		return out
	}
	for range 300 {
		n := 1 + rng.IntN(60)
		a, b := spans(n), spans(n)
		p, k := CharAgreement(n, a, b)
		ua, _ := union(a, n, "")
		ub, _ := union(b, n, "")
		cp, ck := CharCounts(n, length(ua), length(ub), overlap(ua, ub))
		if p != cp || k != ck {
			t.Fatalf("n %d, %v, %v:\nspans  %v %v\ncounts %v %v", n, a, b, p, k, cp, ck)
		}
	}
	if p, _ := CharCounts(10, 4, 3, 5); p.Defined || p.Note == "" {
		t.Errorf("both > first: %v", p)
	}
	if p, _ := CharCounts(10, 8, 7, 2); p.Defined {
		t.Errorf("more than the text coded: %v", p)
	}
}

// Weighted data of 2 coders over 10M present/absent units: four rows.
func BenchmarkWeightedBinary10M(b *testing.B) {
	d := Data{Coders: []string{"a", "b"},
		Values:  [][]Value{{Num(1), Num(1)}, {Num(1), Num(0)}, {Num(0), Num(1)}, {Num(0), Num(0)}},
		Weights: []int{120000, 30000, 25000, 9825000}}
	b.ReportAllocs()
	for b.Loop() {
		Percent(d)
		Cohen(d)
		Fleiss(d)
		Krippendorff(d, Nominal)
		BrennanPrediger(d, 2)
	}
}
