package agreement

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// grid builds Data from rows of cells, one row per unit and one cell per
// coder, as ReadTable would read them ("*" is missing, numbers are numeric).
func grid(rows ...string) Data {
	var d Data
	for u, row := range rows {
		cells := strings.Fields(row)
		if u == 0 {
			for c := range cells {
				d.Coders = append(d.Coders, string(rune('A'+c)))
			}
		}
		vals := make([]Value, len(cells))
		for c, cell := range cells {
			vals[c] = parseCell(cell, false)
		}
		d.Units = append(d.Units, "u"+strconv.Itoa(u+1))
		d.Values = append(d.Values, vals)
	}
	return d
}

// transpose builds Data from rows of cells, one row per coder and one cell per
// unit, the layout Krippendorff (2011) prints his reliability data in.
func transpose(coderRows ...string) Data {
	cells := make([][]string, len(coderRows))
	for c, row := range coderRows {
		cells[c] = strings.Fields(row)
	}
	units := make([]string, len(cells[0]))
	for u := range units {
		var b strings.Builder
		for c := range cells {
			b.WriteString(cells[c][u])
			b.WriteByte(' ')
		}
		units[u] = b.String()
	}
	return grid(units...)
}

// fromCounts builds Data from a subjects x categories table of counts (how
// many raters put the subject in each category), the layout Fleiss (1971)
// prints. Every row must sum to the same number of raters; rater r of a
// subject gets the r-th rating in category order (Fleiss' kappa does not
// depend on which rater gave which rating).
func fromCounts(t *testing.T, counts [][]int) Data {
	t.Helper()
	raters := 0
	for _, n := range counts[0] {
		raters += n
	}
	var d Data
	for r := range raters {
		d.Coders = append(d.Coders, "r"+strconv.Itoa(r+1))
	}
	for i, row := range counts {
		var vals []Value
		for j, n := range row {
			for range n {
				vals = append(vals, Cat("cat"+strconv.Itoa(j+1)))
			}
		}
		if len(vals) != raters {
			t.Fatalf("subject %d has %d ratings, want %d: check the typed table", i+1, len(vals), raters)
		}
		d.Values = append(d.Values, vals)
	}
	return d
}

// crosstab builds two-coder Data from a contingency table: table[i][j] units
// that the first coder put in category i and the second in category j.
func crosstab(table [][]int) Data {
	d := Data{Coders: []string{"first", "second"}}
	for i, row := range table {
		for j, n := range row {
			for range n {
				d.Values = append(d.Values, []Value{Cat("c" + strconv.Itoa(i)), Cat("c" + strconv.Itoa(j))})
			}
		}
	}
	return d
}

// near reports whether got is within tol of want.
func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// checkFinite fails if any number in r is NaN or infinite, or if an undefined
// result carries a value or no note.
func checkFinite(t *testing.T, r Result) {
	t.Helper()
	for _, x := range []float64{r.Value, r.Po, r.Pe, r.Do, r.De} {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("%s: non-finite number in %+v", r.Statistic, r)
		}
	}
	if !r.Defined && (r.Value != 0 || r.Note == "") {
		t.Fatalf("%s: undefined result needs Value 0 and a note: %+v", r.Statistic, r)
	}
}
