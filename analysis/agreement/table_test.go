package agreement

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/thematic-qda/thematic/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/tables")

// render writes what ReadTable made of a table, or its error, for the golden
// files: one line per unit, values as n:NUMBER, s:"LABEL" or NA.
func render(d Data, err error) string {
	if err != nil {
		return "error: " + err.Error() + "\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "coders: %q\n", d.Coders)
	for u, row := range d.Values {
		fmt.Fprintf(&b, "%q:", d.Units[u])
		for _, v := range row {
			switch {
			case !v.Present:
				b.WriteString(" NA")
			case v.Numeric:
				fmt.Fprintf(&b, " n:%v(%q)", v.Num, v.Label)
			default:
				fmt.Fprintf(&b, " s:%q", v.Label)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Every testdata/tables/*.csv against its .golden file (go test -update
// rewrites them; review the diff).
func TestReadTableGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/tables/*.csv")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test tables: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			d, err := ReadTable(filepath.Base(file), bytes.NewReader(in))
			got := render(d, err)
			golden := strings.TrimSuffix(file, ".csv") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// The error cases name the file, the line and, where known, the character
// column; they are InputErrors.
func TestReadTableErrors(t *testing.T) {
	tests := []struct {
		file       string
		line, col  int
		msgContain string
	}{
		// "Zoë," is 4 characters but 5 bytes; the bare quote is the 6th
		// character of line 3.
		{"bare_quote.csv", 3, 6, `a " inside an unquoted cell`},
		{"open_quote.csv", 3, 0, "quoted cell is not closed"},
		{"dup_coder.csv", 1, 16, `coder "alice" appears twice in the header (cells 2 and 4)`},
		{"dup_unit.csv", 4, 1, `unit "u1" appears twice (first on line 2)`},
		{"short_row.csv", 3, 0, "2 cells, want 3"},
		{"empty_unit.csv", 3, 1, "empty unit id"},
		{"empty_coder.csv", 1, 8, "empty coder name"},
		{"header_only.csv", 0, 0, "no units"},
		{"empty.csv", 0, 0, "empty table"},
		{"one_column.csv", 1, 0, "at least one coder column"},
		// "caf" then the Windows-1252 é: character 4 of "u1,caf\xe9" is at column 7.
		{"latin1.csv", 2, 7, "not UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", "tables", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = ReadTable(tt.file, bytes.NewReader(in))
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is not an *errs.InputError", err)
			}
			if ie.File != tt.file || ie.Line != tt.line || (tt.col != 0 && ie.Col != tt.col) {
				t.Errorf("%s: at %s:%d:%d, want %s:%d:%d", err, ie.File, ie.Line, ie.Col, tt.file, tt.line, tt.col)
			}
			if !strings.Contains(ie.Msg, tt.msgContain) {
				t.Errorf("message %q does not mention %q", ie.Msg, tt.msgContain)
			}
			if !strings.HasPrefix(err.Error(), tt.file) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q must be one line starting with the file name", err)
			}
		})
	}
}

// The Krippendorff (2011) example read from a CSV table gives the published
// alphas (see published_test.go).
func TestReadTableKrippendorff(t *testing.T) {
	f, err := os.Open("testdata/tables/krippendorff2011.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ReadTable("krippendorff2011.csv", f)
	if err != nil {
		t.Fatal(err)
	}
	for lvl, want := range map[Level]float64{Nominal: 0.743, Ordinal: 0.815, Interval: 0.849, Ratio: 0.797} {
		if r := Krippendorff(d, lvl); !near(r.Value, want, 0.0005) {
			t.Errorf("%v alpha from the table = %.4f, published %.3f", lvl, r.Value, want)
		}
	}
}

func TestReadTableReadError(t *testing.T) {
	_, err := ReadTable("broken.csv", iotest.ErrReader(errors.New("disk on fire")))
	if err == nil || !strings.HasPrefix(err.Error(), "broken.csv: ") || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("read error: %v", err)
	}
}

// Real CSV files from the shared corpora (absent: skipped). They hold no
// agreement data, but they are real-world CSV: QualCoder's survey table reads
// as four "coders" (its attribute columns) over its cases, and the PDPilot
// coded-segment list, with one row per segment, repeats its document ids,
// which ReadTable must reject at the right line.
func TestReadTableRealCSV(t *testing.T) {
	const dir = "../../../shared/corpora/"
	survey, err := os.ReadFile(dir + "qualcoder-examples/survey456.csv")
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("shared corpora absent: ../../../shared/corpora is not checked out beside the repository")
	}
	if err != nil {
		t.Fatal(err)
	}
	d, err := ReadTable("survey456.csv", bytes.NewReader(survey))
	if err != nil {
		t.Fatalf("survey456.csv: %v", err)
	}
	if want := `["Age" "Gender" "Interest" "freetext"]`; fmt.Sprintf("%q", d.Coders) != want || len(d.Values) == 0 {
		t.Errorf("survey456.csv: coders %q and %d units, want %s", d.Coders, len(d.Values), want)
	}

	segments, err := os.ReadFile(dir + "interviews-pdpilot/coded_segments_parsed.csv")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadTable("coded_segments_parsed.csv", bytes.NewReader(segments))
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.Line != 5 || !strings.Contains(ie.Msg, `unit "P2" appears twice (first on line 4)`) {
		t.Errorf("coded_segments_parsed.csv: %v, want a repeated-unit error on line 5", err)
	}
}

// FuzzReadTable: ReadTable never panics; errors are one-line InputErrors that
// name the file; a table it accepts is well formed, and every statistic on it
// is finite.
func FuzzReadTable(f *testing.F) {
	files, _ := filepath.Glob("testdata/tables/*.csv")
	for _, file := range files {
		if in, err := os.ReadFile(file); err == nil {
			f.Add(in)
		}
	}
	f.Add([]byte("u,a,b\n1,x,y\n2,x,x\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		const name = "fuzz.csv"
		d, err := ReadTable(name, bytes.NewReader(in))
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.File != name {
				t.Fatalf("error %v is not an InputError naming %s", err, name)
			}
			if strings.Contains(err.Error(), "\n") || ie.Line < 0 || ie.Col < 0 {
				t.Fatalf("bad error %q", err)
			}
			return
		}
		if len(d.Coders) == 0 || len(d.Values) == 0 || len(d.Units) != len(d.Values) {
			t.Fatalf("malformed data: %d coders, %d units, %d rows", len(d.Coders), len(d.Units), len(d.Values))
		}
		seen := map[string]bool{}
		for u, row := range d.Values {
			if len(row) != len(d.Coders) || d.Units[u] == "" || seen[d.Units[u]] {
				t.Fatalf("bad row %d: %q %v", u, d.Units[u], row)
			}
			seen[d.Units[u]] = true
			for _, v := range row {
				if v.Numeric && (math.IsNaN(v.Num) || math.IsInf(v.Num, 0)) {
					t.Fatalf("non-finite number %v", v)
				}
			}
		}
		for _, s := range allStats {
			checkFinite(t, s.run(d))
		}
		checkFinite(t, BrennanPrediger(d, 3))
	})
}

func BenchmarkReadTable(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("unit,alice,bob,carol\n")
	for i := range 100000 {
		fmt.Fprintf(&buf, "seg%d,%d,%d,%s\n", i, i%2, (i/3)%2, []string{"0", "1", "NA"}[i%3])
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadTable("bench.csv", bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
