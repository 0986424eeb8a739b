package suggest

import (
	"math"
	"strings"
	"testing"
)

func TestKeynessHandWorked(t *testing.T) {
	// A word seen a = 20 times in a target of c = 1,000 words and b = 100
	// times in a reference of d = 100,000 words (Rayson & Garside's
	// two-cell G2):
	//   E1 = c(a+b)/(c+d) = 1000 * 120 / 101000   = 1.188119
	//   E2 = d(a+b)/(c+d) = 100000 * 120 / 101000 = 118.811881
	//   a ln(a/E1) = 20 ln(16.833333)  = 20 * 2.823361   =  56.467221
	//   b ln(b/E2) = 100 ln(0.841667)  = 100 * -0.172371 = -17.237123
	//   G2 = 2 (56.467221 - 17.237123) = 78.460197
	// The target uses it at 20 per thousand, the reference at 1 per
	// thousand: over-use, so the sign is positive.
	cases := []struct {
		name       string
		a, b, c, d float64
		want       float64
	}{
		{"over-use", 20, 100, 1000, 100000, 78.460197},
		// the same table from the reference's side: under-use, negative
		{"under-use", 100, 20, 100000, 1000, -78.460197},
		// equal rates (5 per 1,000 in both): E1 = 5, E2 = 50, G2 = 0
		{"equal", 5, 50, 1000, 10000, 0},
		// absent from the reference: only the target's term counts:
		// E1 = 1000*10/11000 = 0.909091; G2 = 2 * 10 ln(11) = 47.957901
		{"absent from reference", 10, 0, 1000, 10000, 47.957901},
		{"nothing seen", 0, 0, 1000, 10000, 0},
		{"empty target", 3, 3, 0, 10, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Keyness(tc.a, tc.b, tc.c, tc.d); math.Abs(got-tc.want) > 1e-5 {
				t.Errorf("Keyness(%v, %v, %v, %v) = %.6f, want %.6f", tc.a, tc.b, tc.c, tc.d, got, tc.want)
			}
		})
	}
}

func TestPoissonG2(t *testing.T) {
	// Six occurrences where chance expects 1.5:
	//   2 (6 ln(6/1.5) - (6 - 1.5)) = 2 (6 * 1.386294 - 4.5) = 7.635532
	cases := []struct{ o, e, want float64 }{
		{6, 1.5, 7.635532},
		{1.5, 1.5, 0}, // what chance expects
		{1, 3, 0},     // fewer than chance: not a collocation
		{4, 0, 0},     // no expectation: undefined, 0
	}
	for _, tc := range cases {
		if got := PoissonG2(tc.o, tc.e); math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("PoissonG2(%v, %v) = %.6f, want %.6f", tc.o, tc.e, got, tc.want)
		}
	}
}

func TestGeneralReference(t *testing.T) {
	an := testAnalyzer(t)
	ref := General(an)
	if ref == nil {
		t.Fatal("no English reference")
	}
	if ref.Total < 1_000_000 {
		t.Errorf("total %d: the shipped list is counted over more than a million words", ref.Total)
	}
	// Forms are summed under their analysed term: "meeting" and
	// "meetings" both count towards "meet".
	if ref.Counts[an.Term("meetings")] <= ref.Counts[an.Term("xylophone")] {
		t.Errorf("meet %d", ref.Counts[an.Term("meetings")])
	}
	if _, ok := ref.Counts[an.Term("the")]; ok {
		t.Error("stop words are not terms and must not be in the counts")
	}
	fr, err := corpusAnalyzer("fr")
	if err != nil {
		t.Fatal(err)
	}
	if General(fr) != nil {
		t.Error("no list ships for French; the corpus is the reference")
	}
}

func TestParseReferenceErrors(t *testing.T) {
	an := testAnalyzer(t)
	for _, tc := range []struct{ text, want string }{
		{"# nothing\n", "no total"},
		{"garden 3\ntotal 10\n", ":1: want \"total N\""},
		{"total 10\ngarden x\n", ":2: want \"word count\""},
		{"total 0\n", ":1: want \"total N\""},
	} {
		_, err := parseReference("ref.txt", tc.text, an)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}
