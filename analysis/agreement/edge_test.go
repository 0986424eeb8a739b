package agreement

import (
	"math"
	"strings"
	"testing"
)

// stat runs one statistic on d.
type stat struct {
	name string
	run  func(Data) Result
}

var allStats = []stat{
	{"percent", Percent},
	{"cohen", Cohen},
	{"fleiss", Fleiss},
	{"bp", func(d Data) Result { return BrennanPrediger(d, 2) }},
	{"alpha-nominal", func(d Data) Result { return Krippendorff(d, Nominal) }},
	{"alpha-ordinal", func(d Data) Result { return Krippendorff(d, Ordinal) }},
	{"alpha-interval", func(d Data) Result { return Krippendorff(d, Interval) }},
	{"alpha-ratio", func(d Data) Result { return Krippendorff(d, Ratio) }},
}

// Inputs no statistic can use: every one must be undefined and say why.
func TestUnusableData(t *testing.T) {
	tests := []struct {
		name string
		d    Data
		note string // in every statistic's note
	}{
		{"no coders", Data{Values: [][]Value{{}}}, "no coders"},
		{"no units", Data{Coders: []string{"A", "B"}}, "no units"},
		{"short row", Data{Coders: []string{"A", "B"}, Units: []string{"x", "y"},
			Values: [][]Value{{Num(1), Num(2)}, {Num(1)}}}, `unit "y" has 1 values for 2 coders`},
		{"long row", Data{Coders: []string{"A", "B"},
			Values: [][]Value{{Num(1), Num(2), Num(3)}}}, "unit #1 has 3 values for 2 coders"},
		{"unit names", Data{Coders: []string{"A", "B"}, Units: []string{"x"},
			Values: [][]Value{{Num(1), Num(2)}, {Num(1), Num(1)}}}, "1 unit names for 2 rows"},
		{"NaN", Data{Coders: []string{"A", "B"},
			Values: [][]Value{{Num(1), Num(math.NaN())}, {Num(1), Num(2)}}}, "not a finite number"},
		{"Inf", Data{Coders: []string{"A", "B"},
			Values: [][]Value{{Num(math.Inf(-1)), Num(0)}, {Num(1), Num(2)}}}, "not a finite number"},
		{"one coder", grid("1", "2", "1"), "coders, got 1"},
		{"all missing", grid("* *", "* *"), ""},
	}
	for _, tt := range tests {
		for _, s := range allStats {
			t.Run(tt.name+"/"+s.name, func(t *testing.T) {
				r := s.run(tt.d)
				checkFinite(t, r)
				if r.Defined {
					t.Fatalf("defined: %+v", r)
				}
				if !strings.Contains(r.Note, tt.note) {
					t.Errorf("note %q does not mention %q", r.Note, tt.note)
				}
			})
		}
	}
}

// Each case is worked by hand in its comment.
func TestEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		r       Result
		defined bool
		value   float64
		note    string // substring of the note; "" for none expected
		po      float64
	}{
		// Every value "yes": agreement is perfect but there is nothing to
		// beat chance with.
		{"percent no variation", Percent(grid("yes yes", "yes yes")), true, 1, "", 1},
		{"cohen no variation", Cohen(grid("yes yes", "yes yes")), false, 0, "no variation", 1},
		{"fleiss no variation", Fleiss(grid("yes yes yes", "yes yes yes")), false, 0, "no variation", 1},
		{"alpha no variation", Krippendorff(grid("yes yes", "yes *"), Nominal), false, 0, "no variation", 0},
		{"interval no variation", Krippendorff(grid("4 4", "4 4"), Interval), false, 0, "no variation", 0},
		// With q = 2, Pe = 1/2 whatever the data: (1 - 1/2)/(1/2) = 1.
		{"bp no variation", BrennanPrediger(grid("yes yes", "yes yes"), 2), true, 1, "", 1},
		// Each coder used a single but different category: po = 0,
		// pe = 1*0 + 0*1 = 0, kappa = 0.
		{"cohen constant coders", Cohen(grid("a b", "a b")), true, 0, "", 0},
		// A single unit with two different values: n = 2, Do = 2/2 = 1,
		// De = (4 - 2)/(2*1) = 1, alpha = 0.
		{"alpha single unit", Krippendorff(grid("a b"), Nominal), true, 0, "", 0},
		// A single unit on which two coders agree.
		{"percent single unit", Percent(grid("a a")), true, 1, "", 1},
		// Only one unit has two values; the others have one or none.
		{"alpha one pairable unit", Krippendorff(grid("1 2 *", "1 * *", "* * *"), Interval), true, 0, "2 units excluded", 0},
		// No unit has two values: nothing is pairable.
		{"alpha nothing pairable", Krippendorff(grid("1 * *", "* 2 *", "* * 3"), Nominal), false, 0, "nothing is pairable", 0},
		// Cohen over the 2 units both coded: a/a and b/a: po = 1/2,
		// pe = (1/2)(1) + (1/2)(0) = 1/2, kappa = 0.
		{"cohen missing", Cohen(grid("a a", "b a", "* b", "a *")), true, 0, "2 units excluded", 0.5},
		{"cohen three coders", Cohen(grid("a a a", "b b b")), false, 0, "exactly 2 coders", 0},
		{"cohen nothing shared", Cohen(grid("a *", "* b")), false, 0, "no unit was coded by both", 0},
		// Fleiss over the complete units a a b and a b b: P_i = 1/3 each;
		// p_a = p_b = 1/2, Pe = 1/2; kappa = (1/3 - 1/2)/(1/2) = -1/3.
		{"fleiss missing", Fleiss(grid("a a b", "a b b", "a * b")), true, -1.0 / 3, "1 unit excluded: missing a rating", 1.0 / 3},
		{"fleiss nothing complete", Fleiss(grid("a * b", "* b b")), false, 0, "no unit was rated by every rater", 0},
		{"percent nothing complete", Percent(grid("a * b", "* b b")), false, 0, "no unit was coded by every coder", 0},
		{"bp q too small", BrennanPrediger(grid("a b", "c c"), 2), false, 0, "3 distinct values but q=2", 0.5},
		{"bp q below 2", BrennanPrediger(grid("a b"), 1), false, 0, "at least 2 categories", 0},
		{"interval needs numbers", Krippendorff(grid("1 2", "3 x"), Interval), false, 0, `unit "u2", coder "B" has "x"`, 0},
		{"ordinal needs numbers", Krippendorff(grid("low high"), Ordinal), false, 0, "ordinal alpha needs numbers", 0},
		{"ratio needs non-negative", Krippendorff(grid("1 2", "-3 4"), Ratio), false, 0, "values >= 0", 0},
		{"unknown level", Krippendorff(grid("1 2"), Level(9)), false, 0, "unknown level", 0},
		// Ratio with zeros: delta(0,0) = 0, delta(0,x) = 1. Units (0,0) and
		// (0,5): n = 4, n_0 = 3, n_5 = 1; Do = (1/4)(0 + 2*1/1) = 1/2,
		// De = 2*3*1*1/(4*3) = 1/2, alpha = 0.
		{"ratio zeros", Krippendorff(grid("0 0", "0 5"), Ratio), true, 0, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r
			checkFinite(t, r)
			if r.Defined != tt.defined || !near(r.Value, tt.value, 1e-12) {
				t.Errorf("defined %v value %v, want %v %v (%+v)", r.Defined, r.Value, tt.defined, tt.value, r)
			}
			if tt.note != "" && !strings.Contains(r.Note, tt.note) {
				t.Errorf("note %q does not mention %q", r.Note, tt.note)
			}
			if tt.note == "" && r.Note != "" {
				t.Errorf("unexpected note %q", r.Note)
			}
			if !near(r.Po, tt.po, 1e-12) {
				t.Errorf("Po = %v, want %v", r.Po, tt.po)
			}
		})
	}
}

// Numbers and labels: "1" and "1.0" from a table are one category; a number
// and a label that reads the same are not.
func TestNominalCategories(t *testing.T) {
	d := grid("1 1.0", "2 2e0")
	if r := Percent(d); r.Value != 1 {
		t.Errorf("1 vs 1.0: percent %v, want 1", r.Value)
	}
	mixed := Data{Coders: []string{"A", "B"}, Values: [][]Value{{Num(1), Cat("1")}}}
	if r := Percent(mixed); r.Value != 0 {
		t.Errorf("Num(1) vs Cat(\"1\"): percent %v, want 0", r.Value)
	}
	// Negative zero is zero.
	z := Data{Coders: []string{"A", "B"}, Values: [][]Value{{Num(0), Num(math.Copysign(0, -1))}}}
	if r := Percent(z); r.Value != 1 {
		t.Errorf("0 vs -0: percent %v, want 1", r.Value)
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{Nominal, Ordinal, Interval, Ratio} {
		got, err := ParseLevel(" " + strings.ToUpper(l.String()) + " ")
		if err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseLevel("cardinal"); err == nil || !strings.Contains(err.Error(), `"cardinal"`) {
		t.Errorf("ParseLevel(cardinal): %v", err)
	}
	if s := Level(7).String(); s != "Level(7)" {
		t.Errorf("Level(7).String() = %q", s)
	}
}

func TestResultString(t *testing.T) {
	r := Krippendorff(transpose(krippendorffC...), Nominal)
	want := "alpha-nominal = 0.743 (11 units, 1 excluded, 40 pairable values): 1 unit excluded: fewer than two values (not pairable)"
	if got := r.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
	u := Cohen(grid("yes yes"))
	if got := u.String(); !strings.HasPrefix(got, "cohen-kappa undefined (1 unit): no variation") {
		t.Errorf("String() = %s", got)
	}
}
