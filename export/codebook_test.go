package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
)

func TestCodebookTable(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	st.Codings = append(st.Codings, analysis.Coding{ID: "x1", Source: "p02-int", Start: 24, End: 41, Quote: "Why did you join?", Code: "motive", Coder: "carol", Origin: "manual"})
	ct := BuildCodebookTable(st)
	wb, _ := openXLSX(t, ct.Sheets())
	rows := sheetRows(t, wb, "Codebook", 12)
	// Counts take in everything under a node: belonging has A1, A2, A8, B1
	// (p01-int), A4, B3 (p02-int) and A5 (p01-diary): 7 in 3 sources of 2
	// cases.
	sameLines(t, "codebook", joinRecs(rows), []string{
		"Theme|Sub-theme|Code|ID|Definition|When to use|When not to use|Examples|Colour|Codings|Sources|Cases",
		"Belonging|||belonging|Feeling part of the garden.|||||7|3|2",
		"Belonging|Welcome||welcome|Being received.|||||4|2|2",
		"Belonging|Welcome|First visit|first-visit|The first time at the garden.|Arrival stories.||I joined in March\nfirst day||3|1|1",
		"Belonging||Outsider|outsider|Feeling apart.||||#FF0000|3|3|2",
		"Weather|||weather|Talk about the weather.|||||3|2|1",
		"Weather||Cold|cold|Cold weather.||Cold people.|||3|2|1",
		"Weather||Cold › Freezing|freezing||||||1|1|1",
		"||motive|motive|(not in the codebook)|||||1|1|1",
	})
	panes, _ := wb.GetPanes("Codebook")
	if !panes.Freeze {
		t.Error("header not frozen")
	}

	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatJSON, ct); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if r := recs[2]; r["id"] != "first-visit" || r["when_to_use"] != "Arrival stories." || r["codings"] != 3.0 || r["examples"] != "I joined in March\nfirst day" {
		t.Errorf("JSON record %v", r)
	}
	buf.Reset()
	if err := EncodeDocument(&buf, FormatCSV, ct); err != nil {
		t.Fatal(err)
	}
	csvRecs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil || len(csvRecs) != 9 {
		t.Fatalf("CSV: %d records (%v)", len(csvRecs), err)
	}
}

func TestCodebookTableMarkdown(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatMarkdown, BuildCodebookTable(f.study("alice", "bob", "auto"))); err != nil {
		t.Fatal(err)
	}
	golden(t, "codebook_table.md", buf.Bytes())
}

func TestCodebookTableWithoutCodebook(t *testing.T) {
	f := newFixture(t)
	st := f.study("bob")
	st.Codebook = nil
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatCSV, BuildCodebookTable(st)); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// bob's codes, all unknown without a codebook, by id.
	sameLines(t, "rows", joinRecs(recs[1:]), []string{
		"||cold|cold|(not in the codebook)|||||1|1|1",
		"||first-visit|first-visit|(not in the codebook)|||||1|1|1",
		"||welcome|welcome|(not in the codebook)|||||1|1|1",
	})
}
