package codebook

import (
	"fmt"
	"strings"
	"testing"
)

// bigCodebook writes a codebook of 10 themes x 4 sub-themes x 5 codes (200
// codes), each code with a definition, scope and four rules.
func bigCodebook() []byte {
	var b strings.Builder
	b.WriteString("# Generated for benchmarks.\nname: Benchmark study\nthemes:\n")
	for t := range 10 {
		fmt.Fprintf(&b, "  - id: theme-%d\n    name: Theme %d\n    colour: \"#4E79A7\"\n    subthemes:\n", t, t)
		for s := range 4 {
			fmt.Fprintf(&b, "      - name: Sub-theme %d.%d   # a comment\n        codes:\n", t, s)
			for c := range 5 {
				fmt.Fprintf(&b, "          - name: Code %d.%d.%d\n", t, s, c)
				fmt.Fprintf(&b, "            definition: Talk about thing %d in the context of %d.\n", c, s)
				b.WriteString("            speakers: [participant]\n            kinds: [interview, diary]\n")
				b.WriteString("            rules:\n")
				fmt.Fprintf(&b, "              - words: [word%d, \"stem%d*\"]\n", c, s)
				fmt.Fprintf(&b, "              - near: {terms: [alpha%d, beta], within: 6}\n", c)
				b.WriteString("              - regex: '\\bsick (day|leave)s?\\b'\n")
				b.WriteString("              - not: {phrase: just joking}\n")
			}
		}
	}
	return []byte(b.String())
}

func BenchmarkParse200Codes(b *testing.B) {
	data := bigCodebook()
	if _, probs := Parse("bench.yaml", data); len(probs) > 0 {
		b.Fatal(probs[0])
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Parse("bench.yaml", data)
	}
}

func BenchmarkEditorAddCode200Codes(b *testing.B) {
	data := bigCodebook()
	b.ReportAllocs()
	for b.Loop() {
		e, err := newEditor("bench.yaml", data, true)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.AddCode("sub-theme-5-2", "New code", "", "A definition."); err != nil {
			b.Fatal(err)
		}
	}
}
