package agreement_test

import (
	"fmt"
	"strings"

	"github.com/thematic-qda/thematic/analysis/agreement"
)

// Krippendorff's (2011) binary example: two coders, ten units.
func ExampleKrippendorff() {
	first := []float64{0, 1, 0, 0, 0, 0, 0, 0, 1, 0}
	second := []float64{1, 1, 1, 0, 0, 1, 0, 0, 0, 0}
	d := agreement.Data{Coders: []string{"first", "second"}}
	for u := range first {
		d.Values = append(d.Values, []agreement.Value{agreement.Num(first[u]), agreement.Num(second[u])})
	}
	r := agreement.Krippendorff(d, agreement.Nominal)
	fmt.Printf("alpha = %.3f over %d pairable values (Do %.3f, De %.3f)\n", r.Value, r.Pairable, r.Do, r.De)
	// Output:
	// alpha = 0.095 over 20 pairable values (Do 0.400, De 0.442)
}

// Fifty proposals read by two reviewers: 20 yes/yes, 5 yes/no, 10 no/yes and
// 15 no/no.
func ExampleCohen() {
	d := agreement.Data{Coders: []string{"A", "B"}}
	add := func(n int, a, b string) {
		for range n {
			d.Values = append(d.Values, []agreement.Value{agreement.Cat(a), agreement.Cat(b)})
		}
	}
	add(20, "yes", "yes")
	add(5, "yes", "no")
	add(10, "no", "yes")
	add(15, "no", "no")
	r := agreement.Cohen(d)
	fmt.Printf("po %.2f, pe %.2f, kappa %.2f\n", r.Po, r.Pe, r.Value)
	// Output:
	// po 0.70, pe 0.50, kappa 0.40
}

// Two coders' spans for one code in a 20-character text.
func ExampleCharAgreement() {
	first := []agreement.Span{{Start: 2, End: 10}, {Start: 15, End: 18}}
	second := []agreement.Span{{Start: 4, End: 12}, {Start: 16, End: 20}}
	percent, kappa := agreement.CharAgreement(20, first, second)
	fmt.Printf("agreement %.0f%%, kappa %.3f\n", 100*percent.Value, kappa.Value)
	// Output:
	// agreement 65%, kappa 0.286
}

// A table as `thematic agree --table` reads it; "NA" is missing. By hand:
// alpha has n = 11 pairable values, 5 yes and 6 no, and one yes-no coincidence
// each way (from s2), so alpha = 1 - 10*1/(5*6) = 2/3. Fleiss' kappa uses s1,
// s2 and s4: P = (1 + 1/3 + 1)/3 = 7/9, Pe = (5/9)² + (4/9)² = 41/81, kappa =
// (7/9 - 41/81)/(1 - 41/81) = 22/40.
func ExampleReadTable() {
	table := "segment,alice,bob,carol\n" +
		"s1,yes,yes,yes\n" +
		"s2,yes,no,yes\n" +
		"s3,no,no,NA\n" +
		"s4,no,no,no\n"
	d, err := agreement.ReadTable("codes.csv", strings.NewReader(table))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(agreement.Krippendorff(d, agreement.Nominal))
	fmt.Println(agreement.Fleiss(d))

	_, err = agreement.ReadTable("bad.csv", strings.NewReader("segment,alice\ns1,yes,no\n"))
	fmt.Println(err)
	// Output:
	// alpha-nominal = 0.667 (4 units, 11 pairable values)
	// fleiss-kappa = 0.550 (3 units, 1 excluded): 1 unit excluded: missing a rating
	// bad.csv:2: 3 cells, want 2 (a unit id and one value for each of the 1 coders in the header)
}
