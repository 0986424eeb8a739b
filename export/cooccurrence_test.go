package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
)

// Presence of the code columns in the fixture's sentences (alice and bob):
//
//	p01-diary "I felt like an outsider."   Outsider
//	          "It was freezing."           Cold (its child counts), Freezing
//	p01-int   [26,44)  "I joined in March." First visit (A1, B1), Outsider (A8)
//	          [45,100) "=HYPERLINK..."      First visit
//	          [105,121) [126,145) [146,160) Cold (B2, A3)
//	p02-int   [59,72)  "I was lonely."      Outsider
//	          [73,91)  welcome is a sub-theme: no code column
//
// So First visit is in 2 sentences, Outsider 3, Cold 4, Freezing 1; First
// visit with Outsider 1 (Jaccard 1/(2+3-1) = 0.25), Cold with Freezing 1
// (1/(4+1-1) = 0.25).
func TestCooccurrenceSentences(t *testing.T) {
	f := newFixture(t)
	co, err := BuildCooccurrence(f.study("alice", "bob"), CooccurrenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := openXLSX(t, co.Sheets())
	sameLines(t, "counts", joinRecs(sheetRows(t, wb, "Co-occurrence", 5)), []string{
		"Code|First visit|Outsider|Cold|Cold › Freezing",
		"First visit|2|1|0|0",
		"Outsider|1|3|0|0",
		"Cold|0|0|4|1",
		"Cold › Freezing|0|0|1|1",
	})
	sameLines(t, "jaccard", joinRecs(sheetRows(t, wb, "Jaccard", 5)), []string{
		"Code|First visit|Outsider|Cold|Cold › Freezing",
		"First visit|1.00|0.25|0.00|0.00",
		"Outsider|0.25|1.00|0.00|0.00",
		"Cold|0.00|0.00|1.00|0.25",
		"Cold › Freezing|0.00|0.00|0.25|1.00",
	})
	if cf, _ := wb.GetConditionalFormats("Co-occurrence"); len(cf["B2:E5"]) != 1 {
		t.Errorf("counts heat map %v, want one on B2:E5", cf)
	}
	about := joinRecs(sheetRows(t, wb, "About", 2))
	if len(about) < 4 || about[2] != "Unit|sentence" || about[3] != "Segments|14" {
		t.Errorf("about %q", about)
	}

	// CSV and JSON: one row per pair.
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatCSV, co); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sameLines(t, "pairs", joinRecs(recs), []string{
		"Code A|ID A|Code B|ID B|Both|With A|With B|Jaccard",
		"First visit|first-visit|Outsider|outsider|1|2|3|0.25",
		"First visit|first-visit|Cold|cold|0|2|4|0",
		"First visit|first-visit|Cold › Freezing|freezing|0|2|1|0",
		"Outsider|outsider|Cold|cold|0|3|4|0",
		"Outsider|outsider|Cold › Freezing|freezing|0|3|1|0",
		"Cold|cold|Cold › Freezing|freezing|1|4|1|0.25",
	})
	buf.Reset()
	if err := EncodeDocument(&buf, FormatJSON, co); err != nil {
		t.Fatal(err)
	}
	var pairs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &pairs); err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 6 || pairs[5]["id_a"] != "cold" || pairs[5]["jaccard"] != 0.25 || pairs[5]["both"] != 1.0 {
		t.Errorf("JSON pairs %v", pairs)
	}
}

func TestCooccurrenceUnitsAndLevels(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		coders []string
		opts   CooccurrenceOptions
		want   []string // the pairs: ids, both, with A, with B, Jaccard
	}{
		{
			// Paragraphs: p01-int t2.p1 [26,100) holds First visit and
			// Outsider; the diary's paragraphs hold Outsider, and Cold with
			// Freezing; p01-int t3.p1, t4.p1 Cold; p02-int t2.p1 Outsider.
			name:   "paragraphs",
			coders: []string{"alice", "bob"},
			opts:   CooccurrenceOptions{Unit: corpus.UnitParagraph},
			want: []string{
				"first-visit|outsider|1|1|3|0.3333",
				"first-visit|cold|0|1|3|0",
				"first-visit|freezing|0|1|1|0",
				"outsider|cold|0|3|3|0",
				"outsider|freezing|0|3|1|0",
				"cold|freezing|1|3|1|0.3333",
			},
		},
		{
			// Turns: p02-int's Ruth turn has auto's First visit; Ana's turn
			// has Outsider and (bob's) Welcome.
			name:   "themes in turns, every coder",
			coders: []string{"alice", "bob", "auto"},
			opts:   CooccurrenceOptions{Unit: corpus.UnitTurn, Level: "theme"},
			// Belonging: p01-int t2, diary e1, p02-int t1, t2 = 4. Weather:
			// p01-int t3 (B2 starts there), t4, diary e2 = 3. Together: none.
			want: []string{"belonging|weather|0|4|3|0"},
		},
		{
			name:   "no codings",
			coders: nil,
			opts:   CooccurrenceOptions{Level: "theme"},
			want:   []string{"belonging|weather|0|0|0|"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			co, err := BuildCooccurrence(f.study(tc.coders...), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := EncodeDocument(&buf, FormatCSV, co); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs[1:] {
				got = append(got, r[1]+"|"+r[3]+"|"+r[4]+"|"+r[5]+"|"+r[6]+"|"+r[7])
			}
			sameLines(t, "pairs", got, tc.want)
		})
	}
	for _, opts := range []CooccurrenceOptions{{Unit: "page"}, {Level: "case"}} {
		if _, err := BuildCooccurrence(f.study("alice"), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

func TestCooccurrenceMarkdown(t *testing.T) {
	f := newFixture(t)
	co, err := BuildCooccurrence(f.study("alice", "bob"), CooccurrenceOptions{About: [][2]string{{"Coders", "alice, bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatMarkdown, co); err != nil {
		t.Fatal(err)
	}
	golden(t, "cooccurrence_sentences.md", buf.Bytes())
}

// BenchmarkCooccurrence counts co-occurrence of 24 codes over 100,000
// codings in 200 sources of 60 turns each.
func BenchmarkCooccurrence(b *testing.B) {
	st := benchStudy(b, 200, 100000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildCooccurrence(st, CooccurrenceOptions{Unit: corpus.UnitTurn}); err != nil {
			b.Fatal(err)
		}
	}
}
