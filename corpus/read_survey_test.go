package corpus

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxOf builds a workbook whose first sheet holds rows (row 1 first); a
// second sheet that must be ignored is added after it.
func xlsxOf(t testing.TB, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.NewSheet("Ignored"); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellValue("Ignored", "A1", "not read"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var surveyOpts = ReadOptions{TextColumns: []string{"Q1 experience", "Q2 suggestions"}, IDColumn: "Respondent"}

func TestReadCSVGolden(t *testing.T) {
	data := readFixture(t, "survey.csv")
	docs, err := Read("survey.csv", data, surveyOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		checkDocInvariants(t, d)
	}
	checkReadGolden(t, docs, "survey.golden")

	// The same sheet as Excel saves it in Europe: semicolons, CRLF,
	// Windows-1252, a BOM-less file.
	euro := strings.NewReplacer(`,"`, `;"`, `",`, `";`, "R01,34,North,", "R01;34;North;", "R02,,South,", "R02;;South;",
		",51,North,   ,", ";51;North;   ;", "R04,29,,Fine.,", "R04;29;;Fine.;", "Respondent,Age,Site,Q1 experience,Q2 suggestions", "Respondent;Age;Site;Q1 experience;Q2 suggestions",
		"\n", "\r\n").Replace(string(data))
	docs2, err := Read("survey.csv", []byte(euro), surveyOpts)
	if err != nil {
		t.Fatalf("semicolon copy: %v\n%s", err, euro)
	}
	checkReadGolden(t, docs2, "survey.golden")
}

func TestReadCSVOptions(t *testing.T) {
	csv := "id;Answer;Group\n" +
		"A;\x93Caf\xe9\x94 was fine;x\n" + // Windows-1252 quotes and é
		"B;Too loud;y\n" +
		"C;;z\n"
	tests := []struct {
		name  string
		opts  ReadOptions
		cases []string
		names []string
		texts []string
	}{
		{"one text column, names are ids", ReadOptions{TextColumns: []string{"Answer"}, IDColumn: "id"},
			[]string{"A", "B"}, []string{"A", "B"}, []string{"“Café” was fine", "Too loud"}},
		{"no id column, rows are named", ReadOptions{TextColumns: []string{"answer"}},
			[]string{"row 2", "row 3"}, []string{"row 2", "row 3"}, []string{"“Café” was fine", "Too loud"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Read("s.csv", []byte(csv), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tc.cases) {
				t.Fatalf("got %d documents, want %d:\n%s", len(docs), len(tc.cases), dumpDocuments(docs))
			}
			for i, d := range docs {
				checkDocInvariants(t, d)
				if d.Case != tc.cases[i] || d.Name != tc.names[i] || d.Text != tc.texts[i] || d.Format != "csv" {
					t.Errorf("doc %d = case %q name %q text %q format %q; want %q %q %q csv", i, d.Case, d.Name, d.Text, d.Format, tc.cases[i], tc.names[i], tc.texts[i])
				}
			}
			if g := docs[0].Attrs["Group"]; g != "x" {
				t.Errorf("attribute Group = %q, want x", g)
			}
		})
	}
}

func TestReadSurveyErrors(t *testing.T) {
	base := "Respondent,Age,Answer\nR1,30,Yes\nR2,40,No\n"
	tests := []struct {
		name, in string
		opts     ReadOptions
		line     int
		want     []string
	}{
		{"missing text column", base, ReadOptions{TextColumns: []string{"Comments"}}, 0,
			[]string{`column "Comments" not found`, `"Respondent", "Age", "Answer"`}},
		{"missing id column", base, ReadOptions{TextColumns: []string{"Answer"}, IDColumn: "ID"}, 0,
			[]string{`column "ID" not found`}},
		{"no text columns given", base, ReadOptions{}, 0, []string{"columns that hold the answers"}},
		{"duplicate id", "Respondent,Answer\nR1,a\nR2,b\nR1,c\n", ReadOptions{TextColumns: []string{"Answer"}, IDColumn: "Respondent"}, 4,
			[]string{`id "R1"`, "lines 2 and 4"}},
		{"id is also a text column", base, ReadOptions{TextColumns: []string{"Answer"}, IDColumn: "answer"}, 0,
			[]string{"both the id and a text column"}},
		{"ambiguous header", "A,a,B\n1,2,3\n", ReadOptions{TextColumns: []string{"A "}}, 0, nil},
		{"duplicate header", "A,A,B\n1,2,3\n", ReadOptions{TextColumns: []string{"A"}}, 0, []string{"appears 2 times"}},
		{"no answers", "Respondent,Answer\nR1,\nR2,  \n", ReadOptions{TextColumns: []string{"Answer"}}, 0, []string{"no answers"}},
		{"bare quote", "Respondent,Answer\nR1,\"unclosed\nR2,fine\n", ReadOptions{TextColumns: []string{"Answer"}}, 0, []string{"malformed csv"}},
		{"header only", "Respondent,Answer\n", ReadOptions{TextColumns: []string{"Answer"}}, 0, []string{"no answers"}},
		{"empty", "", ReadOptions{TextColumns: []string{"Answer"}}, 0, []string{msgEmptyFile}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Read("s.csv", []byte(tc.in), tc.opts)
			if tc.want == nil { // must succeed: "A " is trimmed and matches A exactly
				if err != nil || len(docs) != 1 || docs[0].Text != "1" {
					t.Fatalf("got %v, %v", docs, err)
				}
				return
			}
			wantReadError(t, err, "s.csv", tc.line, tc.want...)
		})
	}
}

func TestReadXLSX(t *testing.T) {
	data := xlsxOf(t, [][]any{
		{}, // a blank first row: the header is the first non-empty row
		{"Respondent", "Age", "Site", "Q1 experience", "Q2 suggestions"},
		{"R01", 34, "North", "The staff were kind, and quick.", "More evening slots."},
		{"R02", nil, "South", "Long wait.\r\nSecond line of the answer.", ""},
		{},
		{nil, 51, "North", "   ", "Parking, please"},
		{"R04", 29, nil, "Fine.", nil},
	})
	docs, err := Read("survey.xlsx", data, surveyOpts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		checkDocInvariants(t, d)
	}
	// The same answers as the csv golden file, as xlsx and with sheet rows:
	// the unnamed respondent is on sheet row 6.
	want := strings.ReplaceAll(string(readFixture(t, "survey.golden")), "format: csv", "format: xlsx")
	if got := dumpDocuments(docs); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	dup := xlsxOf(t, [][]any{{"id", "text"}, {"P1", "a"}, {"P2", "b"}, {"P1", "c"}})
	_, err = Read("dup.xlsx", dup, ReadOptions{TextColumns: []string{"text"}, IDColumn: "id"})
	wantReadError(t, err, "dup.xlsx", 0, `id "P1"`, "rows 2 and 4")

	_, err = Read("s.xlsx", data, ReadOptions{TextColumns: []string{"Q3"}})
	wantReadError(t, err, "s.xlsx", 0, `column "Q3" not found`, `"Q1 experience"`)

	_, err = Read("s.xlsx", []byte("Respondent,Answer\n"), surveyOpts)
	wantReadError(t, err, "s.xlsx", 0, "not a .xlsx file (not a zip archive)")

	_, err = Read("s.xlsx", zipOf(t, map[string]string{"hello.txt": "hi"}), surveyOpts)
	wantReadError(t, err, "s.xlsx", 0, "workbook")

	bomb := zipOneMember(t, "xl/worksheets/sheet1.xml", make([]byte, 2<<20), 8)
	_, err = Read("bomb.xlsx", bomb, ReadOptions{TextColumns: []string{"x"}, MaxBytes: 1 << 20})
	wantReadError(t, err, "bomb.xlsx", 0, "zip bomb")
}

func TestReadSurveyCorpus(t *testing.T) {
	p := readerCorpus(t, "qualcoder-examples/survey456.csv")
	docs, err := readDiskFile(t, p, ReadOptions{TextColumns: []string{"freetext"}, IDColumn: "Case"})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) < 3 {
		t.Fatalf("got %d answers, want at least 3", len(docs))
	}
	for _, d := range docs {
		checkDocInvariants(t, d)
		if d.Name != d.Case || d.Format != "csv" {
			t.Errorf("doc %q: case %q format %q", d.Name, d.Case, d.Format)
		}
		if _, ok := d.Attrs["freetext"]; ok {
			t.Errorf("doc %q: the answer column is also an attribute", d.Name)
		}
	}
	first := docs[0]
	if first.Case != "ID4" || first.Attrs["Age"] != "24" || first.Attrs["Gender"] != "f" || first.Attrs["Interest"] != "shopping" ||
		!strings.HasPrefix(first.Text, "I wanted to do some more studies") {
		t.Errorf("first answer = %+v", first)
	}
	// ID5 has no age: the empty cell gives no attribute.
	if _, ok := docs[1].Attrs["Age"]; docs[1].Case != "ID5" || ok {
		t.Errorf("second answer = %+v", docs[1])
	}
	// ID6's answer ends with a space inside the quotes: trimmed.
	if strings.HasSuffix(docs[2].Text, " ") {
		t.Errorf("answer not trimmed: %q", docs[2].Text)
	}
}
