package analysis

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/codebook"
)

const opsTestCodebook = `themes:
  - id: place
    name: Finding a place
    subthemes:
      - id: arriving
        name: Arriving
        codes:
          - id: welcome
            name: Being welcomed
            codes:
              - id: tools
                name: Given tools
  - id: growing
    name: Growing things
    codes:
      - id: plots
        name: Own plots
`

func opsTestParse(t testing.TB, src string) *codebook.Codebook {
	t.Helper()
	cb, probs := codebook.Parse("codebook.yaml", []byte(src))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	return cb
}

var opsTestTime = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// opsTestCoding makes a coding of "abcdefghij"[start:end] in source.
func opsTestCoding(source string, start, end int, code, coder string) Coding {
	text := "abcdefghijklmnopqrstuvwxyz"
	c, err := NewTextIndex(text).NewCoding(source, start, end, code, coder, OriginManual, opsTestTime)
	if err != nil {
		panic(err)
	}
	return c
}

func TestCountCodes(t *testing.T) {
	cb := opsTestParse(t, opsTestCodebook)
	cases := map[string]string{"s1": "P1", "s2": "P1", "s3": "P2"} // s4 has no case
	cs := []Coding{
		opsTestCoding("s1", 0, 3, "welcome", "alice"),
		opsTestCoding("s1", 0, 3, "welcome", "bob"),
		opsTestCoding("s3", 2, 5, "welcome", "alice"),
		opsTestCoding("s2", 0, 1, "tools", "alice"),
		opsTestCoding("s4", 0, 1, "tools", "alice"),
		opsTestCoding("s3", 7, 9, "arriving", "bob"),
		opsTestCoding("s1", 4, 8, "plots", "alice"),
		opsTestCoding("s2", 1, 2, "ghost", "alice"),
		opsTestCoding("s2", 2, 3, "ghost", "bob"),
	}
	got := CountCodes(cb, cs, func(s string) string { return cases[s] })
	// Worked out by hand from the list above.
	tests := []struct {
		id         string
		own, total CodeCount
	}{
		{"place", CodeCount{0, 0, 0}, CodeCount{6, 4, 2}},
		{"arriving", CodeCount{1, 1, 1}, CodeCount{6, 4, 2}},
		{"welcome", CodeCount{3, 2, 2}, CodeCount{5, 4, 2}},
		{"tools", CodeCount{2, 2, 1}, CodeCount{2, 2, 1}},
		{"growing", CodeCount{0, 0, 0}, CodeCount{1, 1, 1}},
		{"plots", CodeCount{1, 1, 1}, CodeCount{1, 1, 1}},
	}
	for _, tt := range tests {
		if got.Own[tt.id] != tt.own || got.Total[tt.id] != tt.total {
			t.Errorf("%s: own %+v total %+v, want %+v %+v", tt.id, got.Own[tt.id], got.Total[tt.id], tt.own, tt.total)
		}
	}
	if len(got.Own) != len(tests) || len(got.Total) != len(tests) {
		t.Errorf("counts for %d and %d nodes, want %d", len(got.Own), len(got.Total), len(tests))
	}
	if !reflect.DeepEqual(got.Unknown, map[string]int{"ghost": 2}) {
		t.Errorf("unknown = %v", got.Unknown)
	}

	// Without cases every case count is 0; with no codings everything is.
	none := CountCodes(cb, cs, nil)
	if none.Total["place"] != (CodeCount{6, 4, 0}) {
		t.Errorf("no cases: place total %+v", none.Total["place"])
	}
	empty := CountCodes(cb, nil, nil)
	if empty.Total["place"] != (CodeCount{}) || len(empty.Unknown) != 0 {
		t.Errorf("no codings: %+v %v", empty.Total["place"], empty.Unknown)
	}
}

// opsTestFiles reads every file of the store's folder.
func opsTestFiles(t *testing.T, s Store) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(s.Dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// opsTestStore saves the codings of a rename or merge test: alice and bob
// code "limits" and "bounds", auto has rule codings, carol has neither.
func opsTestStore(t *testing.T) (Store, map[string][]Coding) {
	t.Helper()
	s := Store{Dir: filepath.Join(t.TempDir(), "codings")}
	rekeyed := opsTestCoding("s1", 9, 12, "limits", "alice")
	rekeyed.ID = "keepthisid00" // an id that is not CodingID's, as after re-anchoring
	rekeyed.Memo = "early on"
	auto := opsTestCoding("s2", 0, 4, "limits", AutoCoder)
	auto.Origin = "rule:limits/2"
	autoB := opsTestCoding("s2", 5, 8, "bounds", AutoCoder)
	autoB.Origin = "rule:bounds/1"
	orphan := opsTestCoding("s3", 1, 3, "limits", "bob")
	orphan.Orphan = true
	both := opsTestCoding("s1", 0, 5, "bounds", "alice")
	both.Memo = "bounds memo"
	bothL := opsTestCoding("s1", 0, 5, "limits", "alice")
	bothL.Memo = "limits memo"
	all := map[string][]Coding{
		"alice": {
			opsTestCoding("s1", 2, 4, "limits", "alice"),
			rekeyed,
			both, bothL,
			opsTestCoding("s2", 3, 6, "other", "alice"),
		},
		"bob":   {orphan, opsTestCoding("s1", 2, 4, "bounds", "bob")},
		"auto":  {auto, autoB},
		"carol": {opsTestCoding("s1", 1, 2, "other", "carol")},
	}
	for coder, cs := range all {
		if err := s.Save(coder, cs); err != nil {
			t.Fatal(err)
		}
	}
	return s, all
}

func opsTestFind(cs []Coding, source string, start, end int, code string) *Coding {
	for i := range cs {
		if c := &cs[i]; c.Source == source && c.Start == start && c.End == end && c.Code == code {
			return c
		}
	}
	return nil
}

func TestRecodeRename(t *testing.T) {
	s, _ := opsTestStore(t)
	saved := 0
	counts, err := Recode{Store: s, IDs: map[string]string{"limits": "boundaries"}, SaveCodebook: func() error { saved++; return nil }}.Run()
	if err != nil {
		t.Fatal(err)
	}
	if saved != 1 {
		t.Errorf("codebook saved %d times", saved)
	}
	want := []RecodeCount{{"alice", 3, 0}, {"auto", 1, 0}, {"bob", 1, 0}}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts = %+v, want %+v", counts, want)
	}
	all, err := s.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	for coder, cs := range all {
		for _, c := range cs {
			if c.Code == "limits" {
				t.Errorf("%s still has %s at %d-%d", coder, c.Code, c.Start, c.End)
			}
		}
	}
	alice := all["alice"]
	if len(alice) != 5 {
		t.Errorf("alice has %d codings, want 5", len(alice))
	}
	if c := opsTestFind(alice, "s1", 2, 4, "boundaries"); c == nil || c.ID != CodingID("s1", 2, 4, "boundaries", "alice") {
		t.Errorf("made id not carried to the new code: %+v", c)
	}
	if c := opsTestFind(alice, "s1", 9, 12, "boundaries"); c == nil || c.ID != "keepthisid00" || c.Memo != "early on" {
		t.Errorf("own id or memo lost: %+v", c)
	}
	if c := opsTestFind(all["auto"], "s2", 0, 4, "boundaries"); c == nil || c.Origin != "rule:boundaries/2" {
		t.Errorf("rule origin: %+v", c)
	}
	if c := opsTestFind(all["bob"], "s3", 1, 3, "boundaries"); c == nil || !c.Orphan {
		t.Errorf("orphan not carried as orphan: %+v", c)
	}
	if !reflect.DeepEqual(all["carol"], []Coding{opsTestCoding("s1", 1, 2, "other", "carol")}) {
		t.Errorf("carol changed: %+v", all["carol"])
	}
}

func TestRecodeMerge(t *testing.T) {
	s, _ := opsTestStore(t)
	counts, err := Recode{Store: s, IDs: map[string]string{"limits": "bounds"}, RuleShift: map[string]int{"limits": 1},
		SaveCodebook: func() error { return nil }}.Run()
	if err != nil {
		t.Fatal(err)
	}
	want := []RecodeCount{{"alice", 3, 1}, {"auto", 1, 0}, {"bob", 1, 0}}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts = %+v, want %+v", counts, want)
	}
	all, _ := s.LoadAll()
	alice := all["alice"]
	if len(alice) != 4 {
		t.Errorf("alice has %d codings, want 4 (two of one span joined): %+v", len(alice), alice)
	}
	c := opsTestFind(alice, "s1", 0, 5, "bounds")
	if c == nil || c.ID != CodingID("s1", 0, 5, "bounds", "alice") || c.Memo != "bounds memo\nlimits memo" {
		t.Errorf("joined coding: %+v", c)
	}
	// auto's bounds rule 1 stays; limits rule 2 becomes bounds rule 3.
	if c := opsTestFind(all["auto"], "s2", 0, 4, "bounds"); c == nil || c.Origin != "rule:bounds/3" {
		t.Errorf("shifted origin: %+v", c)
	}
	if c := opsTestFind(all["auto"], "s2", 5, 8, "bounds"); c == nil || c.Origin != "rule:bounds/1" {
		t.Errorf("own origin: %+v", c)
	}
}

// TestRecodeCrash stops Recode after every file it writes, as if the
// process died there, and checks that every coding still has a version
// under a code the codebook holds at that moment, and that running again
// finishes with exactly the files of an uninterrupted run.
func TestRecodeCrash(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ids   map[string]string
		shift map[string]int
		// inCodebook says whether the codebook has code, before and after
		// it is saved.
		inCodebook func(code string, switched bool) bool
	}{
		{"rename", map[string]string{"limits": "boundaries"}, nil, func(code string, switched bool) bool {
			if switched {
				return code != "limits"
			}
			return code != "boundaries"
		}},
		{"merge", map[string]string{"limits": "bounds"}, map[string]int{"limits": 1}, func(code string, switched bool) bool {
			return !switched || code != "limits"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, _ := opsTestStore(t)
			if _, err := (Recode{Store: ref, IDs: tc.ids, RuleShift: tc.shift, SaveCodebook: func() error { return nil }}).Run(); err != nil {
				t.Fatal(err)
			}
			want := opsTestFiles(t, ref)

			// The writes of an uninterrupted run.
			var writes []string
			probe, _ := opsTestStore(t)
			Recode{Store: probe, IDs: tc.ids, RuleShift: tc.shift, SaveCodebook: func() error { return nil },
				AfterWrite: func(step int, file string) error { writes = append(writes, fmt.Sprint(step, file)); return nil }}.Run()
			wantWrites := "[1codings/alice.jsonl 1codings/auto.jsonl 1codings/bob.jsonl 2 3codings/alice.jsonl 3codings/auto.jsonl 3codings/bob.jsonl]"
			if fmt.Sprint(writes) != wantWrites {
				t.Fatalf("writes = %v, want %s", writes, wantWrites)
			}
			crash := errors.New("killed")
			for k := range writes {
				s, before := opsTestStore(t)
				switched := false // the codebook is saved
				n := 0
				_, err := Recode{Store: s, IDs: tc.ids, RuleShift: tc.shift,
					SaveCodebook: func() error { switched = true; return nil },
					AfterWrite: func(int, string) error {
						if n == k {
							return crash
						}
						n++
						return nil
					}}.Run()
				if !errors.Is(err, crash) {
					t.Fatalf("crash after %s: err = %v", writes[k], err)
				}
				all, err := s.LoadAll()
				if err != nil {
					t.Fatal(err)
				}
				for coder, cs := range before {
					for _, o := range cs {
						found := false
						for _, c := range all[coder] {
							if c.Source == o.Source && c.Start == o.Start && c.End == o.End && c.Orphan == o.Orphan &&
								(c.Code == o.Code || c.Code == tc.ids[o.Code]) && tc.inCodebook(c.Code, switched) {
								found = true
							}
						}
						if !found {
							t.Errorf("crash after %s: %s's coding %s %d-%d of %s has no code in the codebook", writes[k], coder, o.Source, o.Start, o.End, o.Code)
						}
					}
				}
				// Run again, as the command does: saving the codebook only
				// when that was not done yet.
				again := Recode{Store: s, IDs: tc.ids, RuleShift: tc.shift}
				if !switched {
					again.SaveCodebook = func() error { switched = true; return nil }
				}
				if _, err := again.Run(); err != nil {
					t.Fatal(err)
				}
				if !switched {
					t.Errorf("crash after %s: codebook never saved", writes[k])
				}
				if got := opsTestFiles(t, s); !reflect.DeepEqual(got, want) {
					t.Errorf("crash after %s, then finished:\n%v\nwant\n%v", writes[k], got, want)
				}
			}
		})
	}
}

func TestRecodeSaveCodebookFails(t *testing.T) {
	s, _ := opsTestStore(t)
	before := opsTestFiles(t, s)
	fail := errors.New("codebook changed on disk")
	_, err := Recode{Store: s, IDs: map[string]string{"limits": "bounds"}, SaveCodebook: func() error { return fail }}.Run()
	if !errors.Is(err, fail) {
		t.Fatalf("err = %v", err)
	}
	if got := opsTestFiles(t, s); !reflect.DeepEqual(got, before) {
		t.Errorf("files not put back:\n%v\nwant\n%v", got, before)
	}
}

func TestRecodeBrokenFileWritesNothing(t *testing.T) {
	s, _ := opsTestStore(t)
	if err := os.WriteFile(filepath.Join(s.Dir, "zed.jsonl"), []byte("{\"id\": \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := opsTestFiles(t, s)
	saved := false
	_, err := Recode{Store: s, IDs: map[string]string{"limits": "bounds"}, SaveCodebook: func() error { saved = true; return nil }}.Run()
	if err == nil || !strings.Contains(err.Error(), "codings/zed.jsonl:1") {
		t.Fatalf("err = %v", err)
	}
	if saved || !reflect.DeepEqual(opsTestFiles(t, s), before) {
		t.Error("something was written")
	}
}

func TestRecodeBadIDs(t *testing.T) {
	s, _ := opsTestStore(t)
	for _, ids := range []map[string]string{
		{"a": "a"},
		{"a": ""},
		{"a": "b", "b": "c"},
	} {
		if _, err := (Recode{Store: s, IDs: ids}).Run(); err == nil {
			t.Errorf("%v accepted", ids)
		}
	}
}

func BenchmarkCountCodes(b *testing.B) {
	cb := opsTestParse(b, opsTestCodebook)
	codes := []string{"place", "arriving", "welcome", "tools", "growing", "plots"}
	cs := make([]Coding, 100_000)
	for i := range cs {
		cs[i] = Coding{Source: fmt.Sprintf("s%03d", i%500), Start: i, End: i + 1, Code: codes[i%len(codes)], Coder: "alice"}
	}
	caseOf := func(s string) string { return "P" + s[1:3] }
	b.ReportAllocs()
	for b.Loop() {
		CountCodes(cb, cs, caseOf)
	}
}
