package suggest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// With Load the sources need hold only their metadata, and with Coverage
// the codings only their spans: the suggestions are the same as with the
// sources and codings whole, for every kind of suggestion and reference.
func TestSuggestLoadEqualsWhole(t *testing.T) {
	_, srcs, _ := exampleProject(t)
	byID := map[string]*corpus.Source{}
	meta := make([]*corpus.Source, len(srcs))
	for i, s := range srcs {
		byID[s.ID] = s
		m := *s
		m.Text, m.Segments = "", nil
		meta[i] = &m
	}
	// Codings: one sentence in four of every source.
	var codings []analysis.Coding
	for _, s := range srcs {
		for k, g := range s.Segments {
			if g.Unit == corpus.UnitSentence && k%4 == 0 {
				codings = append(codings, analysis.Coding{Source: s.ID, Start: g.Start, End: g.End, Code: "c"})
			}
		}
	}
	loads := 0
	load := func(id string) (*corpus.Source, error) {
		loads++
		s := byID[id]
		if s == nil {
			return nil, errors.New("no source " + id)
		}
		cp := *s
		cp.Text = strings.Clone(s.Text)
		return &cp, nil
	}
	an := testAnalyzer(t)
	for _, base := range []Options{
		{Analyzer: an, NoEntities: true, Seed: 3},
		{Analyzer: an, Uncoded: true, CorpusReference: true, Clusters: 3, ClusterUnit: corpus.UnitSentence, NoEntities: true},
	} {
		whole := base
		whole.Codings = codings
		want, err := Suggest(srcs, whole)
		if err != nil {
			t.Fatal(err)
		}
		lazy := base
		lazy.Coverage = NewCoverage()
		lazy.Coverage.Add(codings[:len(codings)/2])
		lazy.Coverage.Add(codings[len(codings)/2:])
		lazy.Load = load
		got, err := Suggest(meta, lazy)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("uncoded %v: with Load and Coverage\n got %+v\nwant %+v", base.Uncoded, got, want)
		}
		if len(want.Phrases) == 0 || len(want.Phrases[0].Extracts) == 0 {
			t.Errorf("no phrases with extracts: the test checks too little: %+v", want)
		}
	}
	if loads <= len(srcs) {
		t.Errorf("%d loads for %d sources: extracts should read sources again", loads, len(srcs))
	}
	bad := Options{Analyzer: an, NoEntities: true, Load: func(id string) (*corpus.Source, error) {
		if id == meta[3].ID {
			return nil, errors.New("disk on fire")
		}
		return load(id)
	}}
	if _, err := Suggest(meta, bad); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("a source that cannot be read: %v", err)
	}
}

// Counting n-grams in parts, or through a sketch so small that it lets
// nearly everything through, gives the counts of counting them at once.
func TestNgramsCountedInParts(t *testing.T) {
	_, srcs, _ := exampleProject(t)
	opts := Options{Analyzer: testAnalyzer(t), NoEntities: true, CorpusReference: true, Clusters: 2, MinCount: 2}
	want, err := Suggest(srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.InVivo) == 0 {
		t.Error("no in-vivo expressions: the test checks too little")
	}
	defer func(n, b int) { ngramPart, ngramSketchBits = n, b }(ngramPart, ngramSketchBits)
	for _, tt := range []struct{ part, bits int }{{500, 0}, {4 << 20, 2}, {50, 3}, {4 << 20, 20}} {
		ngramPart, ngramSketchBits = tt.part, tt.bits
		got, err := Suggest(srcs, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("parts of %d, sketch of 2^%d:\n got %+v\nwant %+v", tt.part, tt.bits, got, want)
		}
	}
}
