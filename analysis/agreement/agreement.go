// Package agreement computes inter-coder agreement and reliability statistics:
// percent agreement, Cohen's kappa, Fleiss' kappa, Krippendorff's alpha
// (nominal, ordinal, interval, ratio), Brennan and Prediger's free-marginal
// kappa, and a character-level comparison of two coders' spans like NVivo's
// coding comparison.
//
// Every statistic returns a Result. A Result never holds NaN or infinity:
// when a statistic cannot be computed (one coder, nothing coded by enough
// coders, no variation in the values...) Defined is false, Value is 0 and Note
// says why. The functions are pure; ReadTable is the only one that reads.
package agreement

import (
	"fmt"
	"math"
	"strconv"
)

// Value is one coder's value for one unit. The zero Value is missing: the
// coder gave no value for the unit. Build present values with Cat and Num.
//
// Nominal statistics treat two values as the same category when both are
// numbers and the numbers are equal, or when neither is a number and the
// labels are equal; so "1" and "1.0" read from a table are one category.
// Ordinal, interval and ratio alpha need every present value to be a number.
type Value struct {
	Label   string  // the value as written, for reports
	Num     float64 // the number, when Numeric; must be finite
	Numeric bool    // Num holds the value
	Present bool    // false: no value (missing)
}

// Cat returns a present, non-numeric value: a category label.
func Cat(label string) Value { return Value{Label: label, Present: true} }

// Num returns a present numeric value.
func Num(x float64) Value {
	return Value{Label: strconv.FormatFloat(x, 'g', -1, 64), Num: x, Numeric: true, Present: true}
}

// Data is reliability data: Values[u][c] is coder c's value for unit u.
// Every row of Values must have one value per coder. Units may be nil (units
// are then named #1, #2... in notes); otherwise it names each row of Values.
//
// Weights may be nil (every row is one unit); otherwise Weights[u] >= 0 is
// how many units row u stands for, all with the same values. Every statistic
// gives the same result on weighted rows as on the rows repeated (up to
// rounding in the last bits when a unit's share of agreement is not a whole
// number), and its unit counts are counts of units, not rows. Weights make
// large present/absent data small: a million units of two coders have at
// most four distinct rows.
type Data struct {
	Coders  []string
	Units   []string
	Values  [][]Value
	Weights []int
}

// weight is how many units row u stands for.
func (d Data) weight(u int) int {
	if d.Weights == nil {
		return 1
	}
	return d.Weights[u]
}

// Result is the outcome of one statistic.
//
// Statistic is one of "percent", "cohen-kappa", "fleiss-kappa",
// "brennan-prediger", "alpha-nominal", "alpha-ordinal", "alpha-interval",
// "alpha-ratio", "char-percent" and "char-kappa".
type Result struct {
	Statistic string
	Value     float64 // the statistic; 0 when !Defined. Percentages are proportions (0..1).
	Defined   bool    // false: Value means nothing, Note says why
	Note      string  // why the statistic is undefined, or what was left out; may be empty
	Units     int     // units (characters, for the char- statistics) that entered the computation
	Excluded  int     // units left out: missing values, or fewer than two values for alpha
	Pairable  int     // alpha only: the number of pairable values, n
	Po, Pe    float64 // percent and kappas: observed and chance-expected agreement
	Do, De    float64 // alpha only: observed and expected disagreement (alpha = 1 - Do/De)
}

// String formats the result in one line, e.g.
// "alpha-nominal = 0.743 (11 units, 1 excluded, 40 pairable values)".
func (r Result) String() string {
	units := fmt.Sprintf("%d units", r.Units)
	if r.Units == 1 {
		units = "1 unit"
	}
	var s string
	if r.Defined {
		s = fmt.Sprintf("%s = %.3f (%s", r.Statistic, r.Value, units)
	} else {
		s = fmt.Sprintf("%s undefined (%s", r.Statistic, units)
	}
	if r.Excluded > 0 {
		s += fmt.Sprintf(", %d excluded", r.Excluded)
	}
	if r.Pairable > 0 {
		s += fmt.Sprintf(", %d pairable values", r.Pairable)
	}
	s += ")"
	if r.Note != "" {
		s += ": " + r.Note
	}
	return s
}

// undefined marks r undefined with a note, clearing Value.
func undefined(r Result, format string, args ...any) Result {
	r.Defined = false
	r.Value = 0
	r.Note = fmt.Sprintf(format, args...)
	return r
}

// finish sets Value and Defined, refusing to report a non-finite number.
func finish(r Result, v float64) Result {
	for _, x := range []float64{v, r.Po, r.Pe, r.Do, r.De} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			r.Po, r.Pe, r.Do, r.De = 0, 0, 0, 0
			return undefined(r, "numerical overflow: values too large or too small to compute")
		}
	}
	r.Value = v
	r.Defined = true
	return r
}

// unitName names unit u in notes.
func (d Data) unitName(u int) string {
	if u < len(d.Units) {
		return strconv.Quote(d.Units[u])
	}
	return "#" + strconv.Itoa(u+1)
}

// coderName names coder c in notes.
func (d Data) coderName(c int) string {
	if c < len(d.Coders) {
		return strconv.Quote(d.Coders[c])
	}
	return "#" + strconv.Itoa(c+1)
}

// check validates the shape of d and its numbers; it returns a note when d
// cannot be used.
func (d Data) check() string {
	k := len(d.Coders)
	switch {
	case k == 0:
		return "no coders"
	case len(d.Values) == 0:
		return "no units"
	case d.Units != nil && len(d.Units) != len(d.Values):
		return fmt.Sprintf("%d unit names for %d rows of values", len(d.Units), len(d.Values))
	case d.Weights != nil && len(d.Weights) != len(d.Values):
		return fmt.Sprintf("%d weights for %d rows of values", len(d.Weights), len(d.Values))
	}
	for u, w := range d.Weights {
		if w < 0 {
			return fmt.Sprintf("unit %s has a negative weight, %d", d.unitName(u), w)
		}
	}
	for u, row := range d.Values {
		if len(row) != k {
			return fmt.Sprintf("unit %s has %d values for %d coders", d.unitName(u), len(row), k)
		}
		for c, v := range row {
			if v.Present && v.Numeric && (math.IsNaN(v.Num) || math.IsInf(v.Num, 0)) {
				return fmt.Sprintf("unit %s, coder %s: %v is not a finite number", d.unitName(u), d.coderName(c), v.Num)
			}
		}
	}
	return ""
}

// nominal holds d's values as category ids: ids[u*k+c] is the category of
// coder c's value for unit u, or -1 when missing.
type nominal struct {
	k, ncat int
	ids     []int32
}

// categories maps d's values to nominal category ids. d must have passed check.
func categories(d Data) nominal {
	k := len(d.Coders)
	nm := nominal{k: k, ids: make([]int32, len(d.Values)*k)}
	var nums map[float64]int32
	var labels map[string]int32
	for u, row := range d.Values {
		for c, v := range row {
			id := int32(-1)
			if v.Present {
				var ok bool
				if v.Numeric {
					if nums == nil {
						nums = make(map[float64]int32)
					}
					if id, ok = nums[v.Num]; !ok {
						id = int32(nm.ncat)
						nums[v.Num] = id
						nm.ncat++
					}
				} else {
					if labels == nil {
						labels = make(map[string]int32)
					}
					if id, ok = labels[v.Label]; !ok {
						id = int32(nm.ncat)
						labels[v.Label] = id
						nm.ncat++
					}
				}
			}
			nm.ids[u*k+c] = id
		}
	}
	return nm
}

// row returns unit u's category ids.
func (nm nominal) row(u int) []int32 { return nm.ids[u*nm.k : (u+1)*nm.k] }

// complete reports whether every coder gave unit u a value.
func (nm nominal) complete(u int) bool {
	for _, id := range nm.row(u) {
		if id < 0 {
			return false
		}
	}
	return true
}

// Percent is the pairwise percent agreement, as a proportion from 0 to 1, over
// the units that every coder coded (units with a missing value are left out and
// counted in Excluded).
//
// For c coders, a unit's agreement is the share of its c(c-1)/2 coder pairs
// that gave the same value; with n_uk the coders giving value k to unit u:
//
//	a_u = (sum_k n_uk(n_uk - 1)/2) / (c(c-1)/2)
//	Po  = mean of a_u over the units
//
// This equals the mean over all coder pairs of each pair's percent agreement
// on those units; for two coders it is simply (units they agree on) / (units
// both coded). Value = Po; Pe is not used.
// Reference: the simple and average pairwise percent agreement described in
// Lombard, Snyder-Duch and Bracken (2002), "Content analysis in mass
// communication", Human Communication Research 28(4).
func Percent(d Data) Result {
	r := Result{Statistic: "percent"}
	po, units, excl, _, note := meanPairwise(d)
	r.Units, r.Excluded = units, excl
	if note != "" {
		return undefined(r, "%s", note)
	}
	r.Po = po
	r = finish(r, po)
	r.Note = joinNotes(r.Note, excludedNote(excl, "missing a value from at least one coder"))
	return r
}

// meanPairwise is Percent's Po, shared with Brennan-Prediger; distinct is
// the number of distinct values in the units used.
func meanPairwise(d Data) (po float64, units, excluded, distinct int, note string) {
	if note = d.check(); note != "" {
		return 0, 0, 0, 0, note
	}
	k := len(d.Coders)
	if k < 2 {
		return 0, 0, 0, 0, fmt.Sprintf("agreement needs at least 2 coders, got %d", k)
	}
	nm := categories(d)
	counts := make([]int, nm.ncat)
	seen := make([]bool, nm.ncat)
	pairs := float64(k*(k-1)) / 2
	var sum float64
	for u := range d.Values {
		w := d.weight(u)
		if w == 0 {
			continue
		}
		if !nm.complete(u) {
			excluded += w
			continue
		}
		units += w
		agree := 0
		row := nm.row(u)
		for _, id := range row {
			agree += counts[id] // pairs this value makes with earlier equal values
			counts[id]++
			if !seen[id] {
				seen[id] = true
				distinct++
			}
		}
		for _, id := range row {
			counts[id] = 0
		}
		sum += float64(w) * (float64(agree) / pairs)
	}
	if units == 0 {
		return 0, 0, excluded, 0, "no unit was coded by every coder"
	}
	return sum / float64(units), units, excluded, distinct, ""
}

// excludedNote describes excluded units, or returns "".
func excludedNote(n int, why string) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 unit excluded: " + why
	}
	return fmt.Sprintf("%d units excluded: %s", n, why)
}

// Cohen is Cohen's kappa for exactly two coders and nominal values, over the
// units both coded (others are counted in Excluded).
//
// With N units, n_kk the units both coders put in category k, and n_k. and
// n_.k the units the first and the second coder put in k:
//
//	Po = sum_k n_kk / N
//	Pe = sum_k (n_k./N)(n_.k/N)
//	kappa = (Po - Pe)/(1 - Pe)
//
// When Pe = 1 (both coders used one and the same category throughout) kappa
// is undefined; Po is still reported.
// Reference: Cohen (1960), "A coefficient of agreement for nominal scales",
// Educational and Psychological Measurement 20(1), 37-46.
func Cohen(d Data) Result {
	r := Result{Statistic: "cohen-kappa"}
	if note := d.check(); note != "" {
		return undefined(r, "%s", note)
	}
	if len(d.Coders) != 2 {
		return undefined(r, "Cohen's kappa needs exactly 2 coders, got %d (use Fleiss' kappa or Krippendorff's alpha)", len(d.Coders))
	}
	nm := categories(d)
	first := make([]int, nm.ncat)
	second := make([]int, nm.ncat)
	agree := 0
	for u := range d.Values {
		w := d.weight(u)
		row := nm.row(u)
		if row[0] < 0 || row[1] < 0 {
			r.Excluded += w
			continue
		}
		r.Units += w
		first[row[0]] += w
		second[row[1]] += w
		if row[0] == row[1] {
			agree += w
		}
	}
	why := excludedNote(r.Excluded, "not coded by both coders")
	if r.Units == 0 {
		return undefined(r, "no unit was coded by both coders")
	}
	n := float64(r.Units)
	r.Po = float64(agree) / n
	same := -1 // the single category both coders used throughout, if any
	for k := range first {
		r.Pe += (float64(first[k]) / n) * (float64(second[k]) / n)
		if first[k] == r.Units && second[k] == r.Units {
			same = k
		}
	}
	if same >= 0 {
		r.Pe = 1
		return undefined(r, "%s", joinNotes("no variation: both coders gave every unit the same value, kappa undefined", why))
	}
	r = finish(r, (r.Po-r.Pe)/(1-r.Pe))
	r.Note = joinNotes(r.Note, why)
	return r
}

// joinNotes joins non-empty notes with "; ".
func joinNotes(notes ...string) string {
	s := ""
	for _, n := range notes {
		if n == "" {
			continue
		}
		if s != "" {
			s += "; "
		}
		s += n
	}
	return s
}

// Fleiss is Fleiss' kappa for nominal values and a fixed number of raters per
// unit: every coder of d rates every unit. Units lacking a rating from any
// coder are left out, counted in Excluded and mentioned in Note.
//
// With N units, n raters, and n_ij the raters putting unit i in category j:
//
//	P_i = (sum_j n_ij^2 - n) / (n(n-1)),  Po = mean of P_i
//	p_j = sum_i n_ij / (N n),             Pe = sum_j p_j^2
//	kappa = (Po - Pe)/(1 - Pe)
//
// When Pe = 1 (one category only) kappa is undefined; Po is still reported.
// Reference: Fleiss (1971), "Measuring nominal scale agreement among many
// raters", Psychological Bulletin 76(5), 378-382.
func Fleiss(d Data) Result {
	r := Result{Statistic: "fleiss-kappa"}
	if note := d.check(); note != "" {
		return undefined(r, "%s", note)
	}
	k := len(d.Coders)
	if k < 2 {
		return undefined(r, "Fleiss' kappa needs at least 2 coders, got %d", k)
	}
	nm := categories(d)
	total := make([]int, nm.ncat)
	counts := make([]int, nm.ncat)
	var sumP float64
	for u := range d.Values {
		w := d.weight(u)
		if w == 0 {
			continue
		}
		if !nm.complete(u) {
			r.Excluded += w
			continue
		}
		r.Units += w
		row := nm.row(u)
		for _, id := range row {
			counts[id]++
		}
		sq := 0
		for _, id := range row {
			if c := counts[id]; c > 0 {
				sq += c * c
				total[id] += w * c
				counts[id] = 0
			}
		}
		sumP += float64(w) * (float64(sq-k) / float64(k*(k-1)))
	}
	why := excludedNote(r.Excluded, "missing a rating")
	if r.Units == 0 {
		return undefined(r, "%s", joinNotes("no unit was rated by every rater", why))
	}
	r.Po = sumP / float64(r.Units)
	all := float64(r.Units) * float64(k)
	used := 0
	for _, t := range total {
		p := float64(t) / all
		r.Pe += p * p
		if t > 0 {
			used++
		}
	}
	if used == 1 {
		r.Pe = 1
		return undefined(r, "%s", joinNotes("no variation: every rating is the same category, kappa undefined", why))
	}
	r = finish(r, (r.Po-r.Pe)/(1-r.Pe))
	r.Note = joinNotes(r.Note, why)
	return r
}

// BrennanPrediger is Brennan and Prediger's free-marginal kappa for nominal
// values with q possible categories: chance agreement is taken as 1/q rather
// than estimated from the coders' marginals.
//
// Po is Percent's observed agreement (mean pairwise agreement over the units
// every coder coded) and
//
//	Pe = 1/q,  kappa = (Po - 1/q)/(1 - 1/q)
//
// For more than
// two coders this is the multi-rater form given in Gwet (2014), Handbook of
// Inter-Rater Reliability, 4th ed. q must be at least 2 and at least the number
// of distinct values in the units used.
// Reference: Brennan and Prediger (1981), "Coefficient kappa: some uses,
// misuses, and alternatives", Educational and Psychological Measurement 41,
// 687-699.
func BrennanPrediger(d Data, q int) Result {
	r := Result{Statistic: "brennan-prediger"}
	po, units, excl, used, note := meanPairwise(d)
	r.Units, r.Excluded = units, excl
	if note != "" {
		return undefined(r, "%s", note)
	}
	r.Po = po
	if q < 2 {
		return undefined(r, "free-marginal kappa needs at least 2 categories, got q=%d", q)
	}
	if used > q {
		return undefined(r, "the data have %d distinct values but q=%d categories", used, q)
	}
	r.Pe = 1 / float64(q)
	r = finish(r, (po-r.Pe)/(1-r.Pe))
	r.Note = joinNotes(r.Note, excludedNote(excl, "missing a value from at least one coder"))
	return r
}
