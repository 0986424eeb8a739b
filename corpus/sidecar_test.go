package corpus

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// sidecarSamples are sources whose sidecars exercise every field and the
// awkward strings: HTML characters, control characters, line and paragraph
// separators, invalid UTF-8, astral characters, empty versus absent lists.
func sidecarSamples(t testing.TB) []*Source {
	g := gencorpus.New(gencorpus.Options{Seed: 3, Sources: 2, Words: 400, Rules: 1})
	var out []*Source
	for i := 0; i < 2; i++ {
		d := g.Doc(i)
		segs, speakers := Segments(Document{Text: d.Text}, d.Kind, nil)
		out = append(out, &Source{ID: Slug(d.Name), Title: d.Name, Kind: d.Kind, Case: d.Case, Number: i + 1,
			Format: "txt", OrigPath: "docs/" + d.Name, RawSHA: HashText(d.Text), SHA: HashText(d.Text),
			Speakers: speakers, Ingested: time.Date(2026, 3, 4, 5, 6, 7, 891000000, time.UTC),
			Words: CountWords(d.Text), Segments: segs})
	}
	odd := "a<b>&c \"q\" back\\slash \b\f\n\r\t \x01\x1f \u2028\u2029 caf\u00e9 \U0001F600 bad\xff\xfe end\x7f"
	out = append(out,
		&Source{ID: "odd", Title: odd, Kind: KindDiary, Case: odd, Number: -3,
			Attrs:  map[string]string{"site": "Leeds & York", "z": "", "a": odd, "<": ">"},
			Format: "md", OrigPath: "d/é.md", PrevSHA: []string{"x", odd},
			Speakers: []Speaker{{Name: odd, Role: RoleOther, Turns: 0}},
			Ingested: time.Date(1999, 12, 31, 23, 59, 59, 1, time.FixedZone("X", -(3*3600+1800))),
			Segments: []Segment{{ID: "e1", Unit: UnitTurn, Start: 0, End: 1 << 40, Line: 1, EndLine: 2, Time: "00:01:02", Date: "2020-01-31"},
				{ID: "e1.p1", Unit: UnitParagraph, Parent: "e1", Speaker: odd, Role: odd}}},
		&Source{ID: "empty-lists", Kind: KindNotes, Attrs: map[string]string{}, PrevSHA: []string{}, Speakers: []Speaker{}, Segments: []Segment{}},
		&Source{ID: "nil-segments"},
	)
	return out
}

func TestSidecarEncodeMatchesEncodingJSON(t *testing.T) {
	for _, src := range sidecarSamples(t) {
		want, err := json.MarshalIndent(src, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeSidecar(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: encoding differs at byte %d:\n got %q\nwant %q", src.ID, i, got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
		}
	}
}

func TestSidecarEncodeBadTimeFails(t *testing.T) {
	src := &Source{ID: "x", Ingested: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := encodeSidecar(src); err == nil {
		t.Fatal("a year past 9999 was encoded; encoding/json refuses it")
	}
}

func TestSidecarDecodeMatchesEncodingJSON(t *testing.T) {
	for _, src := range sidecarSamples(t) {
		data, err := json.MarshalIndent(src, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, data); err != nil {
			t.Fatal(err)
		}
		for _, form := range [][]byte{data, compact.Bytes()} {
			var want, got Source
			if err := json.Unmarshal(form, &want); err != nil {
				t.Fatal(err)
			}
			if !decodeSidecar(form, &got) {
				t.Fatalf("%s: the fast path refused a sidecar encoding/json wrote", src.ID)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: decoded\n%+v\nwant\n%+v", src.ID, got, want)
			}
		}
	}
}

// The fast path refuses what it does not handle, so that encoding/json
// decides (and, for broken files, reports).
func TestSidecarDecodeRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"null value":          `{"id": null}`,
		"unknown key":         `{"id": "a", "extra": 1}`,
		"other case key":      `{"ID": "a"}`,
		"fraction":            `{"number": 1.0}`,
		"exponent":            `{"words": 1e3}`,
		"leading zero":        `{"words": 01}`,
		"too big":             `{"words": 99999999999999999999}`,
		"string for int":      `{"words": "3"}`,
		"repeated segments":   `{"segments": [], "segments": []}`,
		"invalid utf-8":       "{\"id\": \"a\xffb\"}",
		"raw control":         "{\"id\": \"a\tb\"}",
		"bad escape":          `{"id": "a\qb"}`,
		"trailing garbage":    `{"id": "a"} x`,
		"trailing comma":      `{"id": "a",}`,
		"unterminated":        `{"id": "a`,
		"bad time":            `{"ingested": "yesterday"}`,
		"array for object":    `[]`,
		"segment unknown key": `{"segments": [{"id": "t1", "x": 1}]}`,
	} {
		var s Source
		if decodeSidecar([]byte(in), &s) {
			t.Errorf("%s: %q accepted by the fast path", name, in)
		}
	}
}

// A sidecar the fast path refuses still reads, through encoding/json.
func TestSourceReadsSidecarWithUnknownKey(t *testing.T) {
	dir := t.TempDir()
	p, err := Init(dir, "t")
	if err != nil {
		t.Fatal(err)
	}
	src := &Source{ID: "s1", Kind: KindInterview, Format: "txt", Text: "Hello there.", Segments: []Segment{{ID: "t1", Unit: UnitTurn, End: 12}}}
	if err := p.SaveSource(src); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SourcesDir, "s1.json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = []byte(strings.Replace(string(data), `"kind":`, `"added_by_hand": [1, {"a": null}], "Kind": "diary", "kind":`, 1))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := p.Source("s1", true)
	if err != nil {
		t.Fatal(err)
	}
	if got.Kind != KindInterview || len(got.Segments) != 1 || got.Text != src.Text {
		t.Fatalf("read %+v", got)
	}
}

func FuzzSidecarDecode(f *testing.F) {
	for _, src := range sidecarSamples(f) {
		data, _ := json.MarshalIndent(src, "", "  ")
		f.Add(data)
	}
	f.Add([]byte(`{"id":"\ud83d\ude00\ud800\u0041","segments":[{"id":"t1","start":-0}]}`))
	f.Add([]byte(`{"attributes":{"a":"1","a":"2"},"speakers":[{"name":"x","name":"y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Source
		if !decodeSidecar(data, &got) {
			return
		}
		var want Source
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("fast path accepted what encoding/json rejects (%v): %q", err, data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded %+v, encoding/json %+v, from %q", got, want, data)
		}
	})
}

func FuzzSidecarEncode(f *testing.F) {
	f.Add("P01", "a<b>&c", "\u2028x\xff", "t1.p1", 3, int64(1700000000123456789))
	f.Add("", "", "", "", 0, int64(0))
	f.Fuzz(func(t *testing.T, id, title, speaker, seg string, n int, nanos int64) {
		src := &Source{ID: id, Title: title, Kind: KindInterview, Number: n, Attrs: map[string]string{title: speaker, "k": id},
			Speakers: []Speaker{{Name: speaker, Role: RoleParticipant, Turns: n}},
			Ingested: time.Unix(0, nanos).UTC(), Segments: []Segment{{ID: seg, Unit: UnitTurn, Start: n, End: -n, Speaker: speaker},
				// Neighbours sharing and changing the strings the encoder
				// quotes once, and every optional field.
				{ID: id, Unit: seg, Parent: seg, Line: n, EndLine: n + 1, Speaker: speaker, Role: title, Time: id, Date: speaker},
				{ID: title, Unit: UnitSentence, Parent: id, Speaker: title, Role: title, Time: seg, Date: speaker},
				{ID: "", Unit: "", Speaker: speaker, Date: id}}}
		want, werr := json.MarshalIndent(src, "", "  ")
		got, gerr := encodeSidecar(src)
		if (werr != nil) != (gerr != nil) {
			t.Fatalf("errors differ: %v / %v", gerr, werr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("encoding differs:\n got %s\nwant %s", got, want)
		}
		var back, ref Source
		if werr == nil && decodeSidecar(want, &back) {
			if err := json.Unmarshal(want, &ref); err != nil || !reflect.DeepEqual(back, ref) {
				t.Fatalf("round trip differs: %+v / %+v", back, ref)
			}
		}
	})
}

// BenchmarkSidecarDecode reads a sidecar of a 10,000-word transcript (about
// 300 KB, 1,400 segments) with the fast path; BenchmarkSidecarDecodeJSON
// with encoding/json, for comparison.
func BenchmarkSidecarDecode(b *testing.B) {
	data := benchSidecar(b)
	b.SetBytes(int64(len(data)))
	defer reportCPU(b)()
	for b.Loop() {
		var s Source
		if !decodeSidecar(data, &s) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkSidecarDecodeJSON(b *testing.B) {
	data := benchSidecar(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var s Source
		if err := json.Unmarshal(data, &s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSidecarEncode(b *testing.B) {
	var s Source
	if err := json.Unmarshal(benchSidecar(b), &s); err != nil {
		b.Fatal(err)
	}
	defer reportCPU(b)()
	for b.Loop() {
		if _, err := encodeSidecar(&s); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSidecar(b *testing.B) []byte {
	g := gencorpus.New(gencorpus.Options{Seed: 1, Sources: 1, Words: 10000, Rules: 1})
	d := g.Doc(0)
	segs, speakers := Segments(Document{Text: d.Text}, d.Kind, nil)
	src := &Source{ID: "p0001", Kind: d.Kind, Case: d.Case, Format: "txt", Speakers: speakers, Segments: segs, Ingested: time.Now()}
	data, err := json.MarshalIndent(src, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	return data
}
