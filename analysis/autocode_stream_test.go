package analysis

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/corpus"
)

// TestAutocodeEachGivesWhatAutocodeSourcesGives codes generated sources both
// ways, with and without the index, and compares the codings, their order
// and the counts; then writes them with SaveSorted and checks the file is
// the one Save writes of the collected codings.
func TestAutocodeEachGivesWhatAutocodeSourcesGives(t *testing.T) {
	srcs, yaml, _ := generatedSources(9, 1500)
	// In order of id, as a project lists them: SaveSorted wants the
	// batches in canonical order.
	slices.SortFunc(srcs, func(a, b *corpus.Source) int { return strings.Compare(a.ID, b.ID) })
	cb := parseCodebook(t, yaml)
	ix := syncedIndex(t, srcs)
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	load := func(i int) (*corpus.Source, error) { return srcs[i], nil }
	for _, withIndex := range []bool{false, true} {
		opts := AutocodeOptions{Analyzer: ix.Analyzer(), Time: at}
		if withIndex {
			opts.Index = ix
		}
		want, err := AutocodeSources(cb, len(srcs), load, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Codings) == 0 {
			t.Fatal("bad test: no codings")
		}
		var got []Coding
		batches := 0
		res, err := AutocodeEach(cb, len(srcs), load, opts, func(batch []Coding) error {
			for i := range batch {
				if batch[i].Source != batch[0].Source {
					t.Errorf("a batch holds sources %s and %s", batch[0].Source, batch[i].Source)
				}
			}
			batches++
			got = append(got, batch...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want.Codings) {
			t.Errorf("index %v: AutocodeEach gave %d codings, AutocodeSources %d, or in another order", withIndex, len(got), len(want.Codings))
		}
		if !reflect.DeepEqual(res.Counts, want.Counts) || !reflect.DeepEqual(res.Vetoed, want.Vetoed) || res.FromIndex != want.FromIndex {
			t.Errorf("index %v: counts %v %v %d, want %v %v %d", withIndex, res.Counts, res.Vetoed, res.FromIndex, want.Counts, want.Vetoed, want.FromIndex)
		}
		if withIndex && res.FromIndex != len(srcs) {
			t.Errorf("%d sources coded from the index, want all %d", res.FromIndex, len(srcs))
		}
		if batches < 2 {
			t.Errorf("%d batches for %d sources", batches, len(srcs))
		}

		saved, streamed := newStore(t), newStore(t)
		if err := saved.Save(AutoCoder, want.Codings); err != nil {
			t.Fatal(err)
		}
		err = streamed.SaveSorted(AutoCoder, func(yield func([]Coding) error) error {
			_, err := AutocodeEach(cb, len(srcs), load, opts, yield)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(saved.path(AutoCoder))
		b, _ := os.ReadFile(streamed.path(AutoCoder))
		if !bytes.Equal(a, b) {
			t.Errorf("index %v: SaveSorted wrote %d bytes, Save %d, not the same", withIndex, len(b), len(a))
		}
		// The cache written beside the file answers as one built from it.
		cached, err := CodingsCache{Store: streamed}.Open(AutoCoder)
		if err != nil {
			t.Fatal(err)
		}
		if n := cached.Summary().Codings; n != len(want.Codings) {
			t.Errorf("the cache counts %d codings, want %d", n, len(want.Codings))
		}
		cached.Close()
	}
}

// TestAutocodeEachStops checks that a failing source or emit stops the work
// early and is the error returned.
func TestAutocodeEachStops(t *testing.T) {
	srcs, yaml, _ := generatedSources(40, 300)
	cb := parseCodebook(t, yaml)
	an, _ := corpus.NewAnalyzer("en", false)
	bad := errors.New("sidecar broken")
	var loaded atomic.Int32
	_, err := AutocodeEach(cb, len(srcs), func(i int) (*corpus.Source, error) {
		loaded.Add(1)
		if i == 3 {
			return nil, fmt.Errorf("source %d: %w", i, bad)
		}
		return srcs[i], nil
	}, AutocodeOptions{Analyzer: an}, func([]Coding) error { return nil })
	if !errors.Is(err, bad) || !strings.HasPrefix(err.Error(), "source 3:") {
		t.Errorf("err = %v, want source 3's error", err)
	}
	if n := loaded.Load(); n >= int32(len(srcs)) {
		t.Errorf("all %d sources were read after source 3 failed", n)
	}

	full := errors.New("disk full")
	emitted := 0
	loaded.Store(0)
	_, err = AutocodeEach(cb, len(srcs), func(i int) (*corpus.Source, error) {
		loaded.Add(1)
		return srcs[i], nil
	}, AutocodeOptions{Analyzer: an}, func([]Coding) error {
		emitted++
		if emitted == 2 {
			return full
		}
		return nil
	})
	if !errors.Is(err, full) {
		t.Errorf("err = %v, want the emitter's", err)
	}
	if n := loaded.Load(); n >= int32(len(srcs)) {
		t.Errorf("all %d sources were read after the emitter failed", n)
	}
	if _, err := AutocodeEach(cb, len(srcs), func(i int) (*corpus.Source, error) { return srcs[i], nil },
		AutocodeOptions{Analyzer: an, Explain: true}, func([]Coding) error { return nil }); err == nil {
		t.Error("AutocodeEach accepted Explain")
	}
}

// TestSaveSortedFailureWritesNothing checks that an invalid coding, an
// error of the producer, and batches out of order leave the file and its
// cache as they were.
func TestSaveSortedFailureWritesNothing(t *testing.T) {
	s := newStore(t)
	cs := sample()
	if err := s.Save("alice", cs); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(s.path("alice"))
	bySource := func(src string) []Coding {
		var out []Coding
		for _, c := range cs {
			if c.Source == src {
				out = append(out, c)
			}
		}
		return out
	}
	invalid := bySource("int02")
	invalid[0].End = invalid[0].Start
	stop := errors.New("stopped")
	tests := []struct {
		name    string
		batches [][]Coding
		err     error
		want    string
	}{
		{"invalid coding", [][]Coding{bySource("diary-1"), invalid}, nil, "not before end"},
		{"producer error", [][]Coding{bySource("diary-1")}, stop, "stopped"},
		{"out of order", [][]Coding{bySource("int02"), bySource("int01")}, nil, "out of order"},
	}
	for _, tt := range tests {
		err := s.SaveSorted("alice", func(yield func([]Coding) error) error {
			for _, b := range tt.batches {
				if err := yield(b); err != nil {
					return err
				}
			}
			return tt.err
		})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		after, _ := os.ReadFile(s.path("alice"))
		if !bytes.Equal(before, after) {
			t.Errorf("%s: the file changed", tt.name)
		}
		if left, _ := filepath.Glob(filepath.Join(s.Dir, ".*tmp*")); len(left) > 0 {
			t.Errorf("%s: temporary files left: %v", tt.name, left)
		}
	}
	// In order, the batches give what Save gives.
	err := s.SaveSorted("alice", func(yield func([]Coding) error) error {
		for _, src := range []string{"diary-1", "int01", "int02"} {
			if err := yield(bySource(src)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(s.path("alice")); !bytes.Equal(before, after) {
		t.Errorf("SaveSorted wrote\n%s\nSave wrote\n%s", after, before)
	}
}

// Progress is told of every source, in order, once each.
func TestAutocodeProgress(t *testing.T) {
	srcs, yaml, _ := generatedSources(7, 300)
	cb := parseCodebook(t, yaml)
	an, _ := corpus.NewAnalyzer("en", false)
	for _, each := range []bool{false, true} {
		var seen []int
		opts := AutocodeOptions{Analyzer: an, Progress: func(done, total int) {
			if total != len(srcs) {
				t.Errorf("total %d, want %d", total, len(srcs))
			}
			seen = append(seen, done)
		}}
		load := func(i int) (*corpus.Source, error) { return srcs[i], nil }
		var err error
		if each {
			_, err = AutocodeEach(cb, len(srcs), load, opts, func([]Coding) error { return nil })
		} else {
			_, err = AutocodeSources(cb, len(srcs), load, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{1, 2, 3, 4, 5, 6, 7}; !slices.Equal(seen, want) {
			t.Errorf("each %v: progress %v, want %v", each, seen, want)
		}
	}
}
