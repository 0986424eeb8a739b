package agreement

import (
	"strings"
	"testing"
)

// Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability.
// Annenberg School for Communication, University of Pennsylvania: the worked
// example for any number of observers with missing values: four observers,
// twelve units, values 1-5, "*" for missing. Rows are observers A-D, columns units 1-12.
// The paper's m_u row is 3 4 4 4 4 4 4 4 4 3 2 1, so n = 40 pairable values
// and unit 12 is not pairable. Published: nominal alpha = 0.743; the same data
// at the other levels give ordinal 0.815, interval 0.849, ratio 0.797.
var krippendorffC = []string{
	"1 2 3 3 2 1 4 1 2 * * *",
	"1 2 3 3 2 2 4 1 2 5 * 3",
	"* 3 3 3 2 3 4 2 2 5 1 *",
	"1 2 3 3 2 4 4 1 2 5 1 *",
}

// Krippendorff (2011), the worked example for binary data, two observers and
// no missing data: ten units. Published: alpha = 0.095 (coincidences o_00 = 10,
// o_01 = o_10 = 4, o_11 = 2; n_0 = 14, n_1 = 6, n = 20).
var krippendorffA = []string{
	"0 1 0 0 0 0 0 0 1 0",
	"1 1 1 0 0 1 0 0 0 0",
}

func TestKrippendorffPublished(t *testing.T) {
	c := transpose(krippendorffC...)
	tests := []struct {
		name string
		d    Data
		lvl  Level
		want float64
	}{
		{"2011 missing-values example nominal", c, Nominal, 0.743},
		{"2011 missing-values example ordinal", c, Ordinal, 0.815},
		{"2011 missing-values example interval", c, Interval, 0.849},
		{"2011 missing-values example ratio", c, Ratio, 0.797},
		{"2011 binary example", transpose(krippendorffA...), Nominal, 0.095},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Krippendorff(tt.d, tt.lvl)
			checkFinite(t, r)
			if !r.Defined || !near(r.Value, tt.want, 0.0005) {
				t.Errorf("alpha = %.4f (defined %v, %q), published %.3f", r.Value, r.Defined, r.Note, tt.want)
			}
		})
	}
}

// The counts behind the published alphas, from the paper's coincidence
// matrices.
func TestKrippendorffPublishedCounts(t *testing.T) {
	r := Krippendorff(transpose(krippendorffC...), Nominal)
	if r.Units != 11 || r.Excluded != 1 || r.Pairable != 40 {
		t.Errorf("units %d excluded %d pairable %d; the paper has 11 pairable units, unit 12 alone, n = 40", r.Units, r.Excluded, r.Pairable)
	}
	// By hand from the paper's coincidence matrix: the diagonal sums to 32
	// of 40, so Do = 8/40; the marginals are n_c = 9, 13, 10, 5, 3, so
	// De = (40^2 - (81+169+100+25+9)) / (40*39) = 1216/1560.
	if !near(r.Do, 8.0/40, 1e-12) || !near(r.De, 1216.0/1560, 1e-12) {
		t.Errorf("Do = %v, De = %v; want 0.2 and %v", r.Do, r.De, 1216.0/1560)
	}

	a := Krippendorff(transpose(krippendorffA...), Nominal)
	// alpha = 1 - (n-1) o_01 / (n_0 n_1) = 1 - 19*4/(14*6) = 1 - 76/84.
	if !near(a.Value, 1-76.0/84, 1e-12) || a.Pairable != 20 {
		t.Errorf("binary alpha = %v with n = %d; want 1 - 76/84 with n = 20", a.Value, a.Pairable)
	}
}

// Alpha must not change when the values are relabelled (nominal), shifted and
// scaled (interval) or scaled (ratio). Large factors exercise the rescaling
// that keeps squared differences finite.
func TestKrippendorffInvariance(t *testing.T) {
	base := transpose(krippendorffC...)
	mapped := func(f func(float64) Value) Data {
		d := Data{Coders: base.Coders, Units: base.Units}
		for _, row := range base.Values {
			out := make([]Value, len(row))
			for i, v := range row {
				if v.Present {
					out[i] = f(v.Num)
				}
			}
			d.Values = append(d.Values, out)
		}
		return d
	}
	tests := []struct {
		name string
		d    Data
		lvl  Level
		want float64
	}{
		{"nominal labels", mapped(func(x float64) Value { return Cat(string(rune('a' + int(x)))) }), Nominal, 0.743},
		{"ordinal monotone", mapped(func(x float64) Value { return Num(x * x * x) }), Ordinal, 0.815},
		{"interval huge", mapped(func(x float64) Value { return Num(3 + 1e150*x) }), Interval, 0.849},
		{"interval tiny", mapped(func(x float64) Value { return Num(-1e-200 * x) }), Interval, 0.849},
		{"ratio huge", mapped(func(x float64) Value { return Num(1e300 * x) }), Ratio, 0.797},
		{"ratio tiny", mapped(func(x float64) Value { return Num(1e-300 * x) }), Ratio, 0.797},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Krippendorff(tt.d, tt.lvl)
			checkFinite(t, r)
			if !r.Defined || !near(r.Value, tt.want, 0.0005) {
				t.Errorf("alpha = %.4f (defined %v, %q), want %.3f", r.Value, r.Defined, r.Note, tt.want)
			}
			rescaled := strings.Contains(r.Note, "rescaled")
			if want := strings.Contains(tt.name, "huge") || strings.Contains(tt.name, "tiny"); rescaled != want {
				t.Errorf("note %q: rescaled %v, want %v", r.Note, rescaled, want)
			}
		})
	}
}

// Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
// Psychological Bulletin 76(5), 378-382, Table 1: 30 patients, 6 psychiatrists
// each, categories 1 depression, 2 personality disorder, 3 schizophrenia,
// 4 neurosis, 5 other; each row is how many of the six chose each category
// (typed from the rater-by-patient form of the same data that R's irr package
// distributes as `diagnoses`, citing Fleiss 1971). Published: kappa = .430.
// The column totals 26, 26, 30, 55, 43 (p_j = total/180) check the typing.
var fleiss1971 = [][]int{
	{0, 0, 0, 6, 0},
	{0, 3, 0, 0, 3},
	{0, 1, 4, 0, 1},
	{0, 0, 0, 0, 6},
	{0, 3, 0, 3, 0},
	{2, 0, 4, 0, 0},
	{0, 0, 4, 0, 2},
	{2, 0, 3, 1, 0},
	{2, 0, 0, 4, 0},
	{0, 0, 0, 0, 6},
	{1, 0, 0, 5, 0},
	{1, 1, 0, 4, 0},
	{0, 3, 3, 0, 0},
	{1, 0, 0, 5, 0},
	{0, 2, 0, 3, 1},
	{0, 0, 5, 0, 1},
	{3, 0, 0, 1, 2},
	{5, 1, 0, 0, 0},
	{0, 2, 0, 4, 0},
	{1, 0, 2, 0, 3},
	{0, 0, 0, 0, 6},
	{0, 1, 0, 5, 0},
	{0, 2, 0, 1, 3},
	{2, 0, 0, 4, 0},
	{1, 0, 0, 4, 1},
	{0, 5, 0, 1, 0},
	{4, 0, 0, 0, 2},
	{0, 2, 0, 4, 0},
	{1, 0, 5, 0, 0},
	{0, 0, 0, 0, 6},
}

// Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14
// raters, 5 categories. Published: P-bar = 0.378, P-bar_e = 0.213,
// kappa = 0.210.
var fleissWikipedia = [][]int{
	{0, 0, 0, 0, 14},
	{0, 2, 6, 4, 2},
	{0, 0, 3, 5, 6},
	{0, 3, 9, 2, 0},
	{2, 2, 8, 1, 1},
	{7, 7, 0, 0, 0},
	{3, 2, 6, 3, 0},
	{2, 5, 3, 2, 2},
	{6, 5, 2, 1, 0},
	{0, 2, 2, 3, 7},
}

func TestFleissPublished(t *testing.T) {
	totals := make([]int, 5)
	for _, row := range fleiss1971 {
		for j, n := range row {
			totals[j] += n
		}
	}
	if want := []int{26, 26, 30, 55, 43}; !equalInts(totals, want) {
		t.Fatalf("typed Fleiss (1971) table has column totals %v, want %v", totals, want)
	}
	r := Fleiss(fromCounts(t, fleiss1971))
	checkFinite(t, r)
	if !r.Defined || !near(r.Value, 0.430, 0.0005) || r.Units != 30 {
		t.Errorf("Fleiss 1971: kappa = %.4f over %d units (%q), published .430 over 30", r.Value, r.Units, r.Note)
	}
	// By hand from the published marginals: Pe = (26²+26²+30²+55²+43²)/180².
	if !near(r.Pe, 7126.0/32400, 1e-12) {
		t.Errorf("Fleiss 1971: Pe = %v, want 7126/32400", r.Pe)
	}

	w := Fleiss(fromCounts(t, fleissWikipedia))
	checkFinite(t, w)
	if !w.Defined || !near(w.Value, 0.210, 0.0005) || !near(w.Po, 0.378, 0.0005) || !near(w.Pe, 0.213, 0.0005) {
		t.Errorf("Wikipedia: kappa %.4f, P %.4f, Pe %.4f; published 0.210, 0.378, 0.213", w.Value, w.Po, w.Pe)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCohenPublished(t *testing.T) {
	tests := []struct {
		name           string
		table          [][]int
		po, pe, kappa  float64
		tolPo, tolPe   float64
		tolKappa       float64
		units, uncoded int
	}{
		// Wikipedia, "Cohen's kappa", simple example: 50 grant proposals read
		// by A (rows) and B (columns), Yes/No; Yes-Yes 20, Yes-No 5, No-Yes 10,
		// No-No 15. Published: po = 0.7, pe = 0.5, kappa = 0.4.
		{"Wikipedia 50 proposals", [][]int{{20, 5}, {10, 15}}, 0.7, 0.5, 0.4, 1e-12, 1e-12, 1e-12, 50, 0},
		// Wikipedia, "Cohen's kappa", "same percentages but different numbers":
		// two 100-unit tables with po = 0.60 each. Published kappas 0.1304
		// and 0.2593 (pe by hand: .6*.7+.4*.3 = .54 and .6*.3+.4*.7 = .46).
		{"Wikipedia same percentages 1", [][]int{{45, 15}, {25, 15}}, 0.60, 0.54, 0.1304, 1e-12, 1e-12, 0.00005, 100, 0},
		{"Wikipedia same percentages 2", [][]int{{25, 35}, {5, 35}}, 0.60, 0.46, 0.2593, 1e-12, 1e-12, 0.00005, 100, 0},
		// A 3x3 table in which the second coder never uses the first
		// category; simple kappa 0.4842 as printed by SAS PROC FREQ (the
		// printout is reproduced in statsmodels' test_inter_rater.py,
		// UnweightedCohens). po = 13/19 and pe = 140/361 by hand.
		{"SAS 3x3", [][]int{{0, 4, 1}, {0, 8, 0}, {0, 1, 5}}, 13.0 / 19, 140.0 / 361, 0.4842, 1e-12, 1e-12, 0.00005, 19, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Cohen(crosstab(tt.table))
			checkFinite(t, r)
			if !r.Defined || !near(r.Po, tt.po, tt.tolPo) || !near(r.Pe, tt.pe, tt.tolPe) || !near(r.Value, tt.kappa, tt.tolKappa) {
				t.Errorf("po %.5f pe %.5f kappa %.5f (%q); want %.5f %.5f %.5f", r.Po, r.Pe, r.Value, r.Note, tt.po, tt.pe, tt.kappa)
			}
			if r.Units != tt.units || r.Excluded != tt.uncoded {
				t.Errorf("units %d excluded %d, want %d and %d", r.Units, r.Excluded, tt.units, tt.uncoded)
			}
		})
	}
}

// Percent agreement and the free-marginal kappa, worked by hand.
func TestPercentAndBrennanPrediger(t *testing.T) {
	proposals := crosstab([][]int{{20, 5}, {10, 15}})
	binary := transpose(krippendorffA...)
	wiki := fromCounts(t, fleissWikipedia)
	tests := []struct {
		name    string
		d       Data
		q       int
		percent float64
		bp      float64
		tol     float64
	}{
		// 35 of the 50 proposals agree: Po = 0.7. Two categories:
		// (0.7 - 1/2)/(1 - 1/2) = 0.4; three: (0.7 - 1/3)/(2/3) = 0.55.
		{"proposals q=2", proposals, 2, 0.7, 0.4, 1e-12},
		{"proposals q=3", proposals, 3, 0.7, 0.55, 1e-12},
		// Krippendorff's binary data: units 2, 4, 5, 7, 8 and 10 agree, 6 of
		// 10; (0.6 - 0.5)/0.5 = 0.2.
		{"Krippendorff binary", binary, 2, 0.6, 0.2, 1e-12},
		// Wikipedia's Fleiss example, no missing ratings: percent agreement
		// is the mean of the subjects' P_i, published as P-bar = 0.378;
		// with 5 categories (0.378 - 0.2)/0.8 = 0.2225.
		{"Fleiss Wikipedia q=5", wiki, 5, 0.378, 0.2225, 0.0005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Percent(tt.d)
			checkFinite(t, p)
			if !p.Defined || !near(p.Value, tt.percent, tt.tol) || p.Po != p.Value {
				t.Errorf("percent = %.5f (%q), want %.5f", p.Value, p.Note, tt.percent)
			}
			bp := BrennanPrediger(tt.d, tt.q)
			checkFinite(t, bp)
			if !bp.Defined || !near(bp.Value, tt.bp, tt.tol) || !near(bp.Pe, 1/float64(tt.q), 1e-15) {
				t.Errorf("Brennan-Prediger = %.5f (pe %.5f, %q), want %.5f", bp.Value, bp.Pe, bp.Note, tt.bp)
			}
		})
	}
}

// Three coders with a missing value, by hand. Units coded by all three:
// u1 (a a a: 3 of 3 pairs agree), u2 (a a b: 1 of 3), u4 (b c d: 0 of 3).
// u3 lacks coder C's value and is excluded. Po = (1 + 1/3 + 0)/3 = 4/9.
// Per coder pair on u1, u2, u4: AB agree 2/3, AC 1/3, BC 1/3; mean 4/9 too.
// Brennan-Prediger with q = 4: (4/9 - 1/4)/(3/4) = 7/27.
func TestPercentThreeCoders(t *testing.T) {
	d := grid("a a a", "a a b", "a b *", "b c d")
	p := Percent(d)
	if !p.Defined || !near(p.Value, 4.0/9, 1e-12) || p.Units != 3 || p.Excluded != 1 {
		t.Errorf("percent %v over %d units (%d excluded), want 4/9 over 3 (1 excluded)", p.Value, p.Units, p.Excluded)
	}
	if p.Note == "" {
		t.Error("percent: no note about the excluded unit")
	}
	bp := BrennanPrediger(d, 4)
	if !bp.Defined || !near(bp.Value, 7.0/27, 1e-12) {
		t.Errorf("Brennan-Prediger %v (%q), want 7/27", bp.Value, bp.Note)
	}
}
