package export

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// sheetReader serves whole sources to CodingSheet.Read and records the
// reads.
type sheetReader struct {
	mu    sync.Mutex
	byID  map[string]*corpus.Source
	fail  map[string]error // id -> error to return
	reads []string
}

func (r *sheetReader) read(id string) (*corpus.Source, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, id)
	if err := r.fail[id]; err != nil {
		return nil, err
	}
	src := r.byID[id]
	if src == nil {
		return nil, fmt.Errorf("no source %q", id)
	}
	return src, nil
}

func (r *sheetReader) done() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reads)
}

// withRead turns cs into a sheet whose sources are metadata alone, read
// whole through the returned reader, as 'thematic sheet export' makes it.
// Its Cite checks that no more than one source is read ahead of the one
// being written.
func withRead(t *testing.T, cs *CodingSheet) (*CodingSheet, *sheetReader) {
	t.Helper()
	r := &sheetReader{byID: map[string]*corpus.Source{}, fail: map[string]error{}}
	out := *cs
	out.Sources = nil
	for _, s := range cs.Sources {
		r.byID[s.ID] = s
		meta := *s
		meta.Text, meta.Segments = "", nil
		out.Sources = append(out.Sources, &meta)
	}
	out.Read = r.read
	cite := cs.Cite
	out.Cite = func(src *corpus.Source) string {
		if src.Text == "" && len(src.Segments) == 0 {
			t.Errorf("source %s cited without its text: the sheet wrote rows of its metadata", src.ID)
		}
		at := slices.IndexFunc(out.Sources, func(s *corpus.Source) bool { return s.ID == src.ID })
		if n := len(r.done()); n > at+2 {
			t.Errorf("writing source %d (%s), %d sources read: more than one ahead", at+1, src.ID, n)
		}
		if cite == nil {
			return src.ID
		}
		return cite(src)
	}
	return &out, r
}

// xlsxParts returns the parts of a workbook by name.
func xlsxParts(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(b)
	}
	return out
}

func encodeParts(t *testing.T, cs *CodingSheet) (map[string]string, SheetStats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := EncodeCodingSheet(&buf, cs)
	if err != nil {
		t.Fatal(err)
	}
	return xlsxParts(t, buf.Bytes()), st
}

func sameParts(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d parts, want %d", what, len(got), len(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s: no part %s", what, name)
		} else if g != w {
			t.Errorf("%s: part %s differs:\n got %.300q\nwant %.300q", what, name, g, w)
		}
	}
}

// A sheet whose sources are read one at a time (CodingSheet.Read) is the
// workbook of the same sheet made from sources held in memory, part for
// part; each source is read once, in order; and WriteCodingSheet, which
// writes its file as it goes, writes the same parts as EncodeCodingSheet.
func TestCodingSheetReadSourcesOneAtATime(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func(testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook)
		mod  func(cs *CodingSheet)
	}{
		{"codes", codesSheet, nil},
		{"codes paragraphs, all roles", codesSheet, func(cs *CodingSheet) { cs.About.Unit, cs.About.Roles = corpus.UnitParagraph, nil }},
		{"review", reviewSheet, nil},
		{"review participants", reviewSheet, func(cs *CodingSheet) { cs.About.Roles = []string{corpus.RoleParticipant} }},
		{"review turns", reviewSheet, func(cs *CodingSheet) { cs.About.Unit = corpus.UnitTurn }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, srcs, _ := tc.make(t)
			if tc.mod != nil {
				tc.mod(cs)
			}
			want, wantSt := encodeParts(t, cs)
			rcs, r := withRead(t, cs)
			got, st := encodeParts(t, rcs)
			sameParts(t, "with Read", got, want)
			if st != wantSt {
				t.Errorf("stats %+v, want %+v", st, wantSt)
			}
			var ids []string
			for _, s := range srcs {
				ids = append(ids, s.ID)
			}
			if reads := r.done(); !slices.Equal(reads, ids) {
				t.Errorf("reads %v, want each source once in order %v", reads, ids)
			}
			r.reads = nil
			path := filepath.Join(t.TempDir(), "sheet.xlsx")
			if _, err := WriteCodingSheet(path, rcs); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sameParts(t, "WriteCodingSheet", xlsxParts(t, data), want)
		})
	}
}

// With many sources, the sheet reads one ahead of the one it writes, no
// more (withRead's Cite checks), and stops reading when refused.
func TestCodingSheetReadsOneAhead(t *testing.T) {
	cs, srcs, _ := codesSheet(t)
	cs.Sources = nil
	for i := range 6 {
		cs.Sources = append(cs.Sources, sheetSource(t, fmt.Sprintf("p%02d", i+1), corpus.KindInterview, srcs[0].Text, i+1))
	}
	rcs, r := withRead(t, cs)
	st, err := EncodeCodingSheet(io.Discard, rcs)
	if err != nil || st.Sources != 6 {
		t.Fatalf("got %+v, %v", st, err)
	}
	per := st.Rows / 6
	r.reads = nil
	rcs.MaxRows = 2*per + 1 // passed in the third source
	if _, err := EncodeCodingSheet(io.Discard, rcs); err == nil {
		t.Fatal("not refused")
	}
	if reads := r.done(); len(reads) < 3 || len(reads) > 4 {
		t.Errorf("refused in the third source after reading %v", reads)
	}
}

// noPartialFile checks that dir holds nothing: no sheet, no temporary file.
func noPartialFile(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("%s left in the output folder", e.Name())
	}
}

// A source that cannot be read stops the sheet with the reader's error,
// as it is, and no file is left behind, whichever source it is.
func TestCodingSheetReadError(t *testing.T) {
	broken := errors.New("text does not match its sidecar")
	for _, mk := range []func(testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook){codesSheet, reviewSheet} {
		for _, bad := range []string{"p01", "d01"} {
			cs, _, _ := mk(t)
			rcs, r := withRead(t, cs)
			r.fail[bad] = broken
			dir := t.TempDir()
			_, err := WriteCodingSheet(filepath.Join(dir, "sheet.xlsx"), rcs)
			if err != broken {
				t.Errorf("%s broken: error %v, want the reader's", bad, err)
			}
			noPartialFile(t, dir)
		}
	}
}

// A sheet whose rows pass the limit is refused as soon as they do, before
// the next source is read, and nothing is written.
func TestCodingSheetTooManyRows(t *testing.T) {
	codes, srcs, _ := codesSheet(t)
	// The codes sheet lists first the segments of p01, then those of d01;
	// the review sheet two codings of p01, then two of d01.
	n1 := len(analysis.SheetSegments(srcs[0], codes.About.Unit, codes.About.Roles))
	n2 := len(analysis.SheetSegments(srcs[1], codes.About.Unit, codes.About.Roles))
	if n1 < 2 || n2 < 2 {
		t.Fatalf("fixture: %d and %d segments", n1, n2)
	}
	for _, tc := range []struct {
		name    string
		make    func(testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook)
		max     int
		refused bool
		reads   []string
	}{
		{"codes within", codesSheet, n1 + n2, false, []string{"p01", "d01"}},
		{"codes past in the second source", codesSheet, n1 + n2 - 1, true, []string{"p01", "d01"}},
		{"codes past in the first source", codesSheet, n1 - 1, true, []string{"p01"}},
		{"review within", reviewSheet, 4, false, []string{"p01", "d01"}},
		{"review past in the second source", reviewSheet, 3, true, []string{"p01", "d01"}},
		{"review past in the first source", reviewSheet, 1, true, []string{"p01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, _, _ := tc.make(t)
			cs.MaxRows = tc.max
			rcs, r := withRead(t, cs)
			dir := t.TempDir()
			st, err := WriteCodingSheet(filepath.Join(dir, "sheet.xlsx"), rcs)
			if !tc.refused {
				if err != nil || st.Rows != tc.max {
					t.Fatalf("got %+v, %v; want %d rows", st, err, tc.max)
				}
				return
			}
			want := fmt.Sprintf("more than %d rows, more than a worksheet holds", tc.max)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v, want %q", err, want)
			}
			noPartialFile(t, dir)
			// The reader may have read one source ahead; never further.
			if reads := r.done(); len(reads) < len(tc.reads) || len(reads) > len(tc.reads)+1 || !slices.Equal(reads[:len(tc.reads)], tc.reads) {
				t.Errorf("reads %v, want %v (and at most one more)", reads, tc.reads)
			}
		})
	}
}

// Nothing to list is an error found once every source is read, with
// nothing written.
func TestCodingSheetReadNothingToList(t *testing.T) {
	cs, _, _ := codesSheet(t)
	cs.About.Roles = []string{"nobody"}
	rcs, r := withRead(t, cs)
	dir := t.TempDir()
	if _, err := WriteCodingSheet(filepath.Join(dir, "sheet.xlsx"), rcs); err == nil || !strings.Contains(err.Error(), "no segments") {
		t.Errorf("got %v", err)
	}
	if reads := r.done(); len(reads) != 2 {
		t.Errorf("reads %v", reads)
	}
	noPartialFile(t, dir)
}

// A coding listed twice makes one row, in memory or read.
func TestReviewSheetTwice(t *testing.T) {
	cs, _, _ := reviewSheet(t)
	cs.Review = append(cs.Review, cs.Review[1], cs.Review[0])
	for _, c := range []*CodingSheet{cs, func() *CodingSheet { r, _ := withRead(t, cs); return r }()} {
		st, err := EncodeCodingSheet(io.Discard, c)
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 4 || st.Sources != 2 || st.Skipped != 1 {
			t.Errorf("stats %+v; want 4 rows of 2 sources, the orphan skipped", st)
		}
	}
}

// localVersions returns the version needed to extract of each local header
// of the zip package in data, by part name.
func localVersions(t *testing.T, data []byte) map[string]uint16 {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint16{}
	for _, f := range zr.File {
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		h := data[off-30-int64(len(f.Name)):]
		if string(h[:4]) != "PK\x03\x04" {
			t.Fatalf("%s: no local header", f.Name)
		}
		out[f.Name] = binary.LittleEndian.Uint16(h[4:])
	}
	return out
}

// markZip64 marks the local headers of the parts named, and no other, in
// a package that need not start the file; the package stays readable.
func TestMarkZip64(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parts.zip")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	prefix := "not part of the package"
	if _, err := file.WriteString(prefix); err != nil {
		t.Fatal(err)
	}
	zw := &sheetZip{zw: zip.NewWriter(file)}
	parts := map[string]string{"xl/a.xml": "<a/>", "xl/worksheets/sheet1.xml": strings.Repeat("<row/>", 1000), "z.xml": ""}
	for _, name := range []string{"xl/a.xml", "xl/worksheets/sheet1.xml", "z.xml"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, parts[name]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if len(zw.big) != 0 {
		t.Errorf("small parts counted as zip64: %v", zw.big)
	}
	end, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		t.Fatal(err)
	}
	start := int64(len(prefix))
	if err := markZip64(file, start, end-start, []string{"xl/worksheets/sheet1.xml"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), prefix) {
		t.Error("the bytes before the package changed")
	}
	pkg := data[start:]
	want := map[string]uint16{"xl/a.xml": 20, "xl/worksheets/sheet1.xml": 45, "z.xml": 20}
	if got := localVersions(t, pkg); !maps.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	got := xlsxParts(t, pkg)
	for name, body := range parts {
		if got[name] != body {
			t.Errorf("part %s reads %q after marking", name, got[name])
		}
	}
}

// BenchmarkEncodeReviewSheet writes a review sheet of 10,000 codings of
// 20 sources, each read when its rows are written.
func BenchmarkEncodeReviewSheet(b *testing.B) {
	cs, srcs, _ := benchSheet(b)
	cs.About.From = "alice"
	cs.Codes = nil
	for _, src := range srcs {
		for i, seg := range src.Segments {
			if seg.Unit == corpus.UnitSentence && i%2 == 0 {
				cs.Review = append(cs.Review, SheetCoding{Source: src.ID, Start: seg.Start, End: seg.End, Code: fmt.Sprintf("code-%d", i%12)})
			}
		}
	}
	byID := map[string]*corpus.Source{}
	var meta []*corpus.Source
	for _, s := range srcs {
		byID[s.ID] = s
		m := *s
		m.Text, m.Segments = "", nil
		meta = append(meta, &m)
	}
	cs.Sources = meta
	cs.Read = func(id string) (*corpus.Source, error) { return byID[id], nil }
	b.ResetTimer()
	for b.Loop() {
		st, err := EncodeCodingSheet(io.Discard, cs)
		if err != nil {
			b.Fatal(err)
		}
		if st.Rows == 0 {
			b.Fatal("no rows")
		}
	}
}

// readSheetRows passes every row to add in order, the n-th call row n,
// rows missing from the file or with no value as empty rows, and leaves
// out the empty rows at the end.
func TestReadSheetRows(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "S"); err != nil {
		t.Fatal(err)
	}
	for cell, v := range map[string]any{"A1": "one", "C2": "two", "A5": " five ", "B7": 7, "A8": ""} {
		if err := f.SetCellValue("S", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	style, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.SetCellStyle("S", "A9", "C10", style); err != nil { // rows with a style, no value
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	var got [][]string
	if err := readSheetRows(g, "S", func(cells []string) { got = append(got, cells) }); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"one"}, {"", "", "two"}, nil, nil, {" five "}, nil, {"", "7"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows %q, want %q", got, want)
	}
}
