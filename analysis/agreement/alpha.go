package agreement

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Level is a level of measurement: it chooses Krippendorff's difference
// function.
type Level int

// Levels of measurement.
const (
	Nominal  Level = iota // categories; any two different values differ by 1
	Ordinal               // ranked values; differences count the values ranked between
	Interval              // numbers; differences are squared distances
	Ratio                 // non-negative numbers with a true zero; differences are relative
)

var levelNames = [...]string{"nominal", "ordinal", "interval", "ratio"}

// String returns the level's lower-case name, e.g. "interval".
func (l Level) String() string {
	if l < 0 || int(l) >= len(levelNames) {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel parses a level name (nominal, ordinal, interval or ratio, in any
// case), as given to a command-line flag.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return 0, errs.New("", 0, 0, "unknown level of measurement %q: use nominal, ordinal, interval or ratio", s)
}

// Krippendorff is Krippendorff's alpha for any number of coders, with missing
// values allowed, at the given level of measurement. It follows the
// coincidence-matrix formulation of Krippendorff (2011), "Computing
// Krippendorff's Alpha-Reliability", Annenberg School for Communication,
// University of Pennsylvania (also Krippendorff (2004), Content Analysis, 2nd
// ed., ch. 11).
//
// A unit with m_u >= 2 values is pairable; units with fewer values are left out
// (Excluded). Over the pairable units, with n the number of pairable values,
// n_c the pairable values equal to c, and delta^2(c,k) the level's difference:
//
//	Do = (1/n) sum_u 1/(m_u - 1) sum over ordered pairs i != j in u of delta^2(v_ui, v_uj)
//	   = (1/n) sum_c sum_k o_ck delta^2(c,k)     (o is the coincidence matrix)
//	De = 1/(n(n-1)) sum_c sum_k n_c n_k delta^2(c,k)
//	alpha = 1 - Do/De
//
// The differences: nominal delta^2 = 0 if c = k, else 1; ordinal
// delta^2 = (sum_{g=c..k} n_g - (n_c + n_k)/2)^2 over the values ranked from c
// to k; interval delta^2 = (c - k)^2; ratio delta^2 = ((c - k)/(c + k))^2
// (0 when c = k = 0). Ordinal, interval and ratio need numeric values (ordinal
// ranks them by number), and ratio needs them non-negative; otherwise the
// result is undefined with a note naming the first offending value.
//
// When all pairable values are equal, De = 0 and alpha is undefined ("no
// variation"). Interval and ratio values whose largest magnitude exceeds 1e100
// or falls below 1e-100 are divided by that magnitude, which leaves alpha
// unchanged; Do and De are then in the rescaled units and Note says so.
// Time grows with the number of values (times its logarithm for the numeric
// levels, which sort them) and with the square of the number of values in a
// unit; ratio's De also takes time quadratic in the number of distinct values.
func Krippendorff(d Data, lvl Level) Result {
	r := Result{Statistic: "alpha-" + lvl.String()}
	if lvl < Nominal || lvl > Ratio {
		return undefined(r, "unknown level of measurement %d", int(lvl))
	}
	if note := d.check(); note != "" {
		return undefined(r, "%s", note)
	}
	if len(d.Coders) < 2 {
		return undefined(r, "alpha needs at least 2 coders, got %d", len(d.Coders))
	}
	if lvl != Nominal {
		for u, row := range d.Values {
			for c, v := range row {
				switch {
				case !v.Present:
				case !v.Numeric:
					return undefined(r, "%s alpha needs numbers: unit %s, coder %s has %q", lvl, d.unitName(u), d.coderName(c), v.Label)
				case lvl == Ratio && v.Num < 0:
					return undefined(r, "ratio alpha needs values >= 0: unit %s, coder %s has %v", d.unitName(u), d.coderName(c), v.Num)
				}
			}
		}
	}

	// Pairable values as ids into the distinct values: vals[offs[i]:offs[i+1]]
	// are the values of the i-th pairable row, which stands for wts[i] units;
	// count[id] is n_c and, for the numeric levels, num[id] is the number
	// (num is then sorted ascending).
	var (
		vals     []int32
		offs     = []int{0}
		wts      []int
		count    []int
		num      []float64
		raw      []float64 // numeric levels: the pairable numbers, in row order
		pairable int       // n: the pairable values, weighted
	)
	k := len(d.Coders)
	if lvl == Nominal {
		vals = make([]int32, 0, len(d.Values)*k)
	} else {
		raw = make([]float64, 0, len(d.Values)*k)
	}
	nums := make(map[float64]int32)
	labels := make(map[string]int32)
	nominalID := func(v Value) int32 {
		var i int32
		var ok bool
		if v.Numeric {
			if i, ok = nums[v.Num]; !ok {
				i = int32(len(count))
				nums[v.Num] = i
			}
		} else if i, ok = labels[v.Label]; !ok {
			i = int32(len(count))
			labels[v.Label] = i
		}
		if !ok {
			count = append(count, 0)
		}
		return i
	}
	for u, row := range d.Values {
		w := d.weight(u)
		if w == 0 {
			continue
		}
		m := 0
		for _, v := range row {
			if v.Present {
				m++
			}
		}
		if m < 2 {
			r.Excluded += w
			continue
		}
		for _, v := range row {
			switch {
			case !v.Present:
			case lvl == Nominal:
				i := nominalID(v)
				count[i] += w
				vals = append(vals, i)
			default:
				raw = append(raw, v.Num)
			}
		}
		offs = append(offs, len(vals)+len(raw))
		wts = append(wts, w)
		r.Units += w
		pairable += w * m
	}
	if lvl != Nominal {
		// Sorting rather than hashing: faster for many distinct numbers, and
		// it ranks them for the ordinal metric.
		num = slices.Clone(raw)
		slices.Sort(num)
		num = slices.Compact(num)
		count = make([]int, len(num))
		vals = make([]int32, len(raw))
		row := 0
		for j, x := range raw {
			for j >= offs[row+1] {
				row++
			}
			i, _ := slices.BinarySearch(num, x)
			count[i] += wts[row]
			vals[j] = int32(i)
		}
	}
	r.Pairable = pairable
	why := excludedNote(r.Excluded, "fewer than two values (not pairable)")
	if r.Units == 0 {
		return undefined(r, "%s", joinNotes("no unit has values from two or more coders: nothing is pairable", why))
	}
	if len(count) == 1 {
		return undefined(r, "%s", joinNotes("no variation: every pairable value is the same, alpha undefined (De = 0)", why))
	}

	n := float64(pairable)
	var pos []float64 // interval-like positions for ordinal, interval and ratio
	scaled := false
	switch lvl {
	case Ordinal:
		pos = midranks(count)
	case Interval, Ratio:
		pos, scaled = rescale(num)
	}

	var delta func(a, b int32) float64
	switch lvl {
	case Nominal:
		delta = func(a, b int32) float64 {
			if a == b {
				return 0
			}
			return 1
		}
	case Ordinal, Interval:
		delta = func(a, b int32) float64 {
			x := pos[a] - pos[b]
			return x * x
		}
	case Ratio:
		delta = func(a, b int32) float64 { return ratioDelta(pos[a], pos[b]) }
	}

	var do float64
	for i := 0; i+1 < len(offs); i++ {
		u := vals[offs[i]:offs[i+1]]
		var s float64
		for x := range u {
			for y := x + 1; y < len(u); y++ {
				s += delta(u[x], u[y])
			}
		}
		do += float64(wts[i]) * (2 * s / float64(len(u)-1))
	}
	r.Do = do / n

	var de float64
	switch lvl {
	case Nominal:
		var sq float64
		for _, c := range count {
			sq += float64(c) * float64(c)
		}
		de = (n*n - sq) / (n * (n - 1))
	case Ordinal, Interval:
		var mean float64
		for i, c := range count {
			mean += float64(c) * pos[i]
		}
		mean /= n
		var ss float64
		for i, c := range count {
			x := pos[i] - mean
			ss += float64(c) * x * x
		}
		de = 2 * ss / (n - 1)
	case Ratio:
		var s float64
		for a := range count {
			for b := a + 1; b < len(count); b++ {
				s += float64(count[a]) * float64(count[b]) * ratioDelta(pos[a], pos[b])
			}
		}
		de = 2 * s / (n * (n - 1))
	}
	r.De = de
	if de <= 0 {
		return undefined(r, "%s", joinNotes("no variation: expected disagreement is 0, alpha undefined", why))
	}
	r = finish(r, 1-r.Do/r.De)
	if scaled && r.Defined {
		why = joinNotes("values rescaled to avoid overflow: Do and De are in rescaled units", why)
	}
	r.Note = joinNotes(r.Note, why)
	return r
}

// ratioDelta is Krippendorff's squared ratio difference ((a-b)/(a+b))^2.
func ratioDelta(a, b float64) float64 {
	if a+b == 0 {
		return 0
	}
	x := (a - b) / (a + b)
	return x * x
}

// midranks returns each distinct value's ordinal position, given the counts
// of the values in ascending order: the number of pairable values ranked below
// it plus half its own count. The difference of two midranks is
// sum_{g=c..k} n_g - (n_c + n_k)/2, Krippendorff's ordinal difference before
// squaring.
func midranks(count []int) []float64 {
	pos := make([]float64, len(count))
	below := 0.0
	for i, c := range count {
		pos[i] = below + float64(c)/2
		below += float64(c)
	}
	return pos
}

// rescale returns the values divided by a common factor when their largest
// magnitude is outside [1e-100, 1e100], so that squared differences neither
// overflow nor underflow; alpha is invariant to the factor.
func rescale(num []float64) ([]float64, bool) {
	var s float64
	for _, x := range num {
		s = max(s, math.Abs(x))
	}
	if s == 0 || (s >= 1e-100 && s <= 1e100) {
		return num, false
	}
	pos := make([]float64, len(num))
	for i, x := range num {
		pos[i] = x / s
	}
	return pos, true
}
