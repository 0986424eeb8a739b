package agreement

import (
	"strconv"
	"testing"
)

// benchData is units x coders of values from gen, with about 1 value in 20
// missing.
func benchData(units, coders int, gen func(u, c int) Value) Data {
	d := Data{Units: make([]string, units), Values: make([][]Value, units)}
	for c := range coders {
		d.Coders = append(d.Coders, "c"+strconv.Itoa(c))
	}
	seed := uint32(7)
	for u := range units {
		d.Units[u] = "u" + strconv.Itoa(u)
		row := make([]Value, coders)
		for c := range row {
			seed = seed*1664525 + 1013904223
			if seed>>27 != 0 { // 31 in 32 present
				row[c] = gen(u, int(seed>>8))
			}
		}
		d.Values[u] = row
	}
	return d
}

// Per-code agreement on segments: present/absent, 100k units x 3 coders.
func BenchmarkKrippendorffNominal100k(b *testing.B) {
	d := benchData(100000, 3, func(u, r int) Value { return Cat([]string{"0", "1"}[(u+r%5/4)%2]) })
	b.ReportAllocs()
	for b.Loop() {
		Krippendorff(d, Nominal)
	}
}

// A 1-7 rating scale, 100k units x 3 coders.
func BenchmarkKrippendorffOrdinal100k(b *testing.B) {
	d := benchData(100000, 3, func(u, r int) Value { return Num(float64(1 + (u+r%3)%7)) })
	b.ReportAllocs()
	for b.Loop() {
		Krippendorff(d, Ordinal)
	}
}

// Continuous measurements: almost every value distinct.
func BenchmarkKrippendorffInterval100k(b *testing.B) {
	d := benchData(100000, 3, func(u, r int) Value { return Num(float64(u) + float64(r%1000)/1000) })
	b.ReportAllocs()
	for b.Loop() {
		Krippendorff(d, Interval)
	}
}

// Ratio's De is quadratic in the distinct values; a 1-100 scale.
func BenchmarkKrippendorffRatio100k(b *testing.B) {
	d := benchData(100000, 3, func(u, r int) Value { return Num(float64(1 + (u+r%7)%100)) })
	b.ReportAllocs()
	for b.Loop() {
		Krippendorff(d, Ratio)
	}
}

func BenchmarkFleiss100k(b *testing.B) {
	d := benchData(100000, 3, func(u, r int) Value { return Cat([]string{"0", "1"}[(u+r%5/4)%2]) })
	b.ReportAllocs()
	for b.Loop() {
		Fleiss(d)
	}
}

func BenchmarkCohen100k(b *testing.B) {
	d := benchData(100000, 2, func(u, r int) Value { return Cat([]string{"0", "1"}[(u+r%5/4)%2]) })
	b.ReportAllocs()
	for b.Loop() {
		Cohen(d)
	}
}
