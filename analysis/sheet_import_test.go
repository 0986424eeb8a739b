package analysis

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
	"weak"

	"github.com/thematic-qda/thematic/corpus"
)

// SheetRows keeps the header rows whole and, of the other rows, those not
// blank with the cells an import reads: not Citation, Speaker or Line, not
// empty ones. Cells read before more rows are added stay as they were,
// whatever the size of a cell.
func TestSheetRows(t *testing.T) {
	big := strings.Repeat("é", sheetChunk) // twice a chunk's bytes
	grid := [][]string{
		{"Key", "Citation", "Speaker", "Line", "Text", "limits"},
		{SheetNamesMarker, "", "", "", "", "Setting limits"},
		{"p01:t1", "(Interview 1)", "P", "3", "Text.", "", "x"}, // row 3
		{},                                   // row 4: blank
		{" ", "\t", "", "", "  "},            // row 5: blank
		{"", "only a citation"},              // row 6: kept, with no cell
		{"p01:t2", "", "", "", big, "x"},     // row 7: a cell larger than a chunk
		{"p01:t3", "", "", "", "After.", ""}, // row 8
	}
	for i := range 20000 { // rows 9 to 20008, over several chunks
		grid = append(grid, []string{fmt.Sprintf("p02:t%d", i), "(Diary)", "", "1", strings.Repeat("w", i%300), "", fmt.Sprint(i)})
	}
	var r SheetRows
	var early string
	for i, row := range grid {
		r.Add(row)
		if i == 2 {
			l := r.line(0)
			early = l.cell(sheetColText)
		}
	}
	if !slices.EqualFunc(r.head, grid[:2], slices.Equal) {
		t.Errorf("head %q", r.head)
	}
	for _, tc := range []struct {
		row, col int
		want     string
	}{{1, 5, "limits"}, {2, 0, SheetNamesMarker}, {1, 6, ""}, {3, 0, ""}} {
		if got := r.headCell(tc.row, tc.col); got != tc.want {
			t.Errorf("headCell(%d, %d) = %q, want %q", tc.row, tc.col, got, tc.want)
		}
	}
	wantRows := []int{3, 6, 7, 8}
	for n := 9; n <= len(grid); n++ {
		wantRows = append(wantRows, n)
	}
	if len(r.rows) != len(wantRows) {
		t.Fatalf("%d rows kept, want %d", len(r.rows), len(wantRows))
	}
	for i, num := range wantRows {
		l := r.line(i)
		if l.num != num {
			t.Fatalf("row %d kept as row %d", num, l.num)
		}
		src := grid[num-1]
		nonEmpty := 0
		for col := range 8 {
			want := ""
			if col < len(src) && sheetKept(col) {
				want = src[col]
			}
			if want != "" {
				nonEmpty++
			}
			if got := l.cell(col); got != want {
				t.Fatalf("row %d column %s: %.20q, want %.20q", num, columnName(col), got, want)
			}
		}
		if len(l.cells) != nonEmpty {
			t.Errorf("row %d: %d cells kept, want %d", num, len(l.cells), nonEmpty)
		}
	}
	if early != "Text." {
		t.Errorf("a cell read early now reads %q", early)
	}
	if len(r.chunks) < 3 {
		t.Errorf("%d chunks for %d MB of cells", len(r.chunks), 5)
	}
}

// sheetDiary is a diary of three sentences.
func sheetDiary(t testing.TB) *corpus.Source {
	t.Helper()
	text := "2025-03-03\nFelt naïve. Said no twice. Slept well.\n"
	segs, _ := corpus.Segments(corpus.Document{Text: text}, corpus.KindDiary, nil)
	return &corpus.Source{ID: "d01", Kind: corpus.KindDiary, Text: text, SHA: corpus.HashText(text), Segments: segs}
}

// twoSourceGrid is a codes sheet of p01 (sheetTestSource) and d01
// (sheetDiary), both listed on the About sheet in that order, with the
// given data rows.
func twoSourceGrid(p01, d01 *corpus.Source, rows ...[]string) *testGrid {
	about := &SheetAbout{Mode: SheetModeCodes, Project: "t", Coder: "bob", Unit: corpus.UnitSentence,
		Codes: []string{"limits", "naivety"}, Sources: []SheetSource{{ID: p01.ID, SHA: p01.SHA}, {ID: d01.ID, SHA: d01.SHA}}}
	return &testGrid{
		About: about.Rows(),
		Coding: append([][]string{
			{"Key", "Citation", "Speaker", "Line", "Text", "limits", "naivety"},
			{SheetNamesMarker, "", "", "", "", "Setting limits", "Feeling naive"},
		}, rows...),
	}
}

// segmentRow is a row of a codes sheet for a source's sentence, with marks.
func segmentRow(t *testing.T, src *corpus.Source, seg string, marks ...string) []string {
	t.Helper()
	for _, s := range src.Segments {
		if s.ID == seg {
			return append([]string{src.ID + ":" + seg, "", "", "", string([]rune(src.Text)[s.Start:s.End])}, marks...)
		}
	}
	t.Fatalf("%s has no segment %s", src.ID, seg)
	return nil
}

// recordReads serves srcs to an import and records the ids asked for.
func recordReads(srcs ...*corpus.Source) (func(id string) (*corpus.Source, error), *[]string) {
	var reads []string
	serve := sourcesByID(srcs...)
	return func(id string) (*corpus.Source, error) {
		reads = append(reads, id)
		return serve(id)
	}, &reads
}

func codingList(cs []Coding) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Source+":"+c.Segment+" "+c.Code)
	}
	return out
}

// Rows need not come grouped by source: each source is read once, in the
// About sheet's order, and the codings come in row order all the same;
// the same rows in another order make the same codings, in that order.
func TestImportSheetRowsInAnyOrder(t *testing.T) {
	p01, d01 := sheetTestSource(t), sheetDiary(t)
	rows := [][]string{
		segmentRow(t, d01, "e1.p1.s1", "x", "x"),
		segmentRow(t, p01, "t2.p1.s1", "", "x"),
		segmentRow(t, d01, "e1.p1.s2"),
		segmentRow(t, p01, "t2.p1.s2", "1"),
	}
	want := []string{"d01:e1.p1.s1 limits", "d01:e1.p1.s1 naivety", "p01:t2.p1.s1 naivety", "p01:t2.p1.s2 limits"}
	for _, perm := range [][]int{{0, 1, 2, 3}, {1, 3, 0, 2}, {3, 2, 1, 0}} {
		var permuted [][]string
		var wantPerm []string
		for _, i := range perm {
			permuted = append(permuted, rows[i])
			for _, w := range want {
				if strings.HasPrefix(w, strings.TrimSpace(rows[i][0])+" ") {
					wantPerm = append(wantPerm, w)
				}
			}
		}
		opts := sheetOpts(p01)
		var reads *[]string
		opts.Source, reads = recordReads(p01, d01)
		imp, err := ImportSheet(twoSourceGrid(p01, d01, permuted...).data(), opts)
		if err != nil {
			t.Fatalf("order %v: %v", perm, err)
		}
		if got := codingList(imp.Codings); !slices.Equal(got, wantPerm) {
			t.Errorf("order %v: codings\n%q\nwant\n%q", perm, got, wantPerm)
		}
		// p01's "Why?" and d01's third sentence are not listed.
		if imp.Rows != 4 || imp.Missing != 2 {
			t.Errorf("order %v: %d rows, %d missing; want 4, 2", perm, imp.Rows, imp.Missing)
		}
		if !slices.Equal(*reads, []string{"p01", "d01"}) {
			t.Errorf("order %v: reads %v, want each source once in About order", perm, *reads)
		}
	}
}

// The problems of rows in no order by source are reported in row order,
// after those of the sources; a key listed twice names the first row that
// lists it.
func TestImportSheetProblemsInRowOrder(t *testing.T) {
	p01, d01 := sheetTestSource(t), sheetDiary(t)
	edited := segmentRow(t, p01, "t2.p1.s1", "x")
	edited[sheetColText] = "Because!"
	g := twoSourceGrid(p01, d01,
		segmentRow(t, d01, "e1.p1.s1", "?"),                // row 3
		edited,                                             // row 4
		segmentRow(t, p01, "t2.p1.s2"),                     // row 5
		segmentRow(t, d01, "e1.p1.s1", "x"),                // row 6: listed twice
		[]string{"zz:t1.p1.s1", "", "", "", "x"},           // row 7: a source not listed
		[]string{"p01:", "", "", "", "", "x"},              // row 8: a key that does not read
		segmentRow(t, p01, "t2.p1.s2"),                     // row 9: listed twice
		[]string{"gone:t1.p1.s1", "", "", "", "Text", "x"}, // row 10
	)
	// A third source, listed and no longer in the project.
	g.About = append(g.About, []string{"source", "gone", strings.Repeat("0", 64)})
	goneRow := len(g.About)
	_, err := ImportSheet(g.data(), SheetImportOptions{File: "s.xlsx", Source: sourcesByID(p01, d01),
		Known: func(c string) bool { return c == "limits" || c == "naivety" }})
	var se *SheetError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SheetError", err)
	}
	want := []string{
		fmt.Sprintf(`About!B%d: source "gone" is no longer in the project (row 10); the sheet cannot be imported`, goneRow),
		`Coding!F3: unknown mark "?"`,
		`Coding!E4: text differs from segment p01:t2.p1.s1 at character 8`,
		`Coding!A6: key "d01:e1.p1.s1" is listed twice (also row 3)`,
		`Coding!A7: key "zz:t1.p1.s1": source "zz" is not listed on the About sheet`,
		`Coding!A8: key "p01:" has an invalid segment id`,
		`Coding!A9: key "p01:t2.p1.s2" is listed twice (also row 5)`,
	}
	var got []string
	for _, p := range se.Problems {
		got = append(got, p.String())
	}
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A source that cannot be read stops the import with the reader's error,
// as it is, before the sheet's problems and the coder's; the sources
// before it are read once each, in the About sheet's order.
func TestImportSheetReadError(t *testing.T) {
	p01, d01 := sheetTestSource(t), sheetDiary(t)
	broken := errors.New("text does not match its sidecar")
	for _, tc := range []struct {
		name  string
		coder string
		mark  string
	}{
		{"valid sheet", "", "x"},
		{"problem in the sheet", "", "?"},
		{"coder refused", AutoCoder, "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reads []string
			opts := sheetOpts(p01)
			opts.Coder = tc.coder
			opts.Source = func(id string) (*corpus.Source, error) {
				reads = append(reads, id)
				if id == "d01" {
					return nil, broken
				}
				return p01, nil
			}
			g := twoSourceGrid(p01, d01, segmentRow(t, p01, "t2.p1.s1", tc.mark), segmentRow(t, d01, "e1.p1.s1", "x"))
			if _, err := ImportSheet(g.data(), opts); err != broken {
				t.Errorf("error %v, want the reader's", err)
			}
			if !slices.Equal(reads, []string{"p01", "d01"}) {
				t.Errorf("reads %v", reads)
			}
		})
	}
}

// addrIn reports whether the bytes of s lie in those of in.
func addrIn(s, in string) bool {
	if s == "" || in == "" {
		return false
	}
	p, b := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(in)))
	return p >= b && p < b+uintptr(len(in))
}

// The codings of an import share no memory with a source's text or
// segments, nor with the sheet's cells: once its rows are checked, nothing
// of a source is held, however many the sheet lists.
func TestImportSheetHoldsNoSource(t *testing.T) {
	p01, d01 := sheetTestSource(t), sheetDiary(t)
	var texts []weak.Pointer[byte]
	var srcs []weak.Pointer[corpus.Source]
	fresh := func(id string) (*corpus.Source, error) {
		src := *p01
		if id == d01.ID {
			src = *d01
		}
		// A copy of its own, as read from the project.
		src.Text = strings.Clone(src.Text)
		src.Segments = slices.Clone(src.Segments)
		for i := range src.Segments {
			src.Segments[i].ID = strings.Clone(src.Segments[i].ID)
		}
		texts = append(texts, weak.Make(unsafe.StringData(src.Text)))
		srcs = append(srcs, weak.Make(&src))
		return &src, nil
	}
	g := twoSourceGrid(p01, d01, segmentRow(t, d01, "e1.p1.s1", "x", "x"), segmentRow(t, p01, "t2.p1.s2", "", "x"))
	d := g.data()
	opts := sheetOpts(p01)
	opts.Source = fresh
	imp, err := ImportSheet(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Codings) != 3 {
		t.Fatalf("%d codings", len(imp.Codings))
	}
	for _, c := range imp.Codings {
		for _, s := range []string{c.Quote, c.Prefix, c.Suffix, c.Segment, c.Memo, c.Source, c.Code} {
			for _, chunk := range d.Coding.chunks {
				if addrIn(s, chunk.String()) {
					t.Errorf("coding %s %d-%d: %q is in the sheet's cells", c.Source, c.Start, c.End, s)
				}
			}
		}
	}
	runtime.GC()
	runtime.GC()
	for i := range srcs {
		if srcs[i].Value() != nil || texts[i].Value() != nil {
			t.Errorf("source %d read is still held after the import", i+1)
		}
	}
	runtime.KeepAlive(imp)
	runtime.KeepAlive(d)
}

// BenchmarkImportSheet checks a codes sheet of 20 sources of 500
// sentences, a mark in every fifth row, its rows grouped by source, and
// the same rows with the sources interleaved.
func BenchmarkImportSheet(b *testing.B) {
	var srcs []*corpus.Source
	about := &SheetAbout{Mode: SheetModeCodes, Project: "t", Coder: "bob", Unit: corpus.UnitSentence, Codes: []string{"limits"}}
	var rows [][]string
	for s := range 20 {
		var text strings.Builder
		for i := range 500 {
			fmt.Fprintf(&text, "Sentence %d of an answer, with ordinary words in it.\n\n", i)
		}
		segs, _ := corpus.Segments(corpus.Document{Text: text.String()}, corpus.KindDiary, nil)
		src := &corpus.Source{ID: fmt.Sprintf("d%02d", s), Kind: corpus.KindDiary, Text: text.String(), SHA: corpus.HashText(text.String()), Segments: segs}
		srcs = append(srcs, src)
		about.Sources = append(about.Sources, SheetSource{ID: src.ID, SHA: src.SHA})
		runes := []rune(src.Text)
		for _, seg := range segs {
			if seg.Unit == corpus.UnitSentence {
				row := []string{src.ID + ":" + seg.ID, "(Diary)", "", "1", string(runes[seg.Start:seg.End])}
				if len(rows)%5 == 0 {
					row = append(row, "x")
				}
				rows = append(rows, row)
			}
		}
	}
	head := [][]string{{"Key", "Citation", "Speaker", "Line", "Text", "limits"}, {SheetNamesMarker}}
	interleaved := make([][]string, 0, len(rows))
	for i := range len(rows) / 20 {
		for s := range 20 {
			interleaved = append(interleaved, rows[s*len(rows)/20+i])
		}
	}
	opts := SheetImportOptions{Source: sourcesByID(srcs...), Known: func(string) bool { return true }}
	for _, tc := range []struct {
		name string
		rows [][]string
	}{{"grouped", rows}, {"interleaved", interleaved}} {
		g := &testGrid{About: about.Rows(), Coding: append(slices.Clone(head), tc.rows...)}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				imp, err := ImportSheet(g.data(), opts)
				if err != nil || len(imp.Codings) != len(rows)/5 {
					b.Fatalf("%v", err)
				}
			}
		})
	}
}

// FuzzImportSheetOrder fills a codes sheet of two sources with arbitrary
// rows (split at newlines, cells at tabs) and imports them as given and
// backwards: the sheet is refused both ways or neither, and imports to the
// same codings, rows and missing segments.
func FuzzImportSheetOrder(f *testing.F) {
	f.Add("d01:e1.p1.s1\t\t\t\tFelt naïve.\tx\np01:t2.p1.s1\t\t\t\tBecause I can.\t\tx\nd01:e1.p1.s2\t\t\t\tSaid no twice.\t1")
	f.Add("p01:t2.p1.s2\t\t\t\tNaïve, maybe 😀.\tx\tx\nd01:e1.p1.s1\t\t\t\tFelt naïve.\nzz:t1\t\t\t\tx\tx")
	f.Add("d01:e1.p1.s1\t\t\t\tFelt naïve.\tx\nd01:e1.p1.s1\t\t\t\tFelt naïve.\tx")
	f.Add("\n \np01:t1.p1.s1\t(Interview 1)\tI\t1\tWhy?\tyes\n")
	p01, d01 := sheetTestSource(f), sheetDiary(f)
	f.Fuzz(func(t *testing.T, cells string) {
		var rows [][]string
		for _, line := range strings.Split(cells, "\n") {
			rows = append(rows, strings.Split(line, "\t"))
		}
		opts := sheetOpts(p01)
		opts.Source = sourcesByID(p01, d01)
		imp, err := ImportSheet(twoSourceGrid(p01, d01, rows...).data(), opts)
		back := slices.Clone(rows)
		slices.Reverse(back)
		imp2, err2 := ImportSheet(twoSourceGrid(p01, d01, back...).data(), opts)
		if (err == nil) != (err2 == nil) {
			t.Fatalf("as given: %v; backwards: %v", err, err2)
		}
		if err != nil {
			return
		}
		got, got2 := codingList(imp.Codings), codingList(imp2.Codings)
		slices.Sort(got)
		slices.Sort(got2)
		if !slices.Equal(got, got2) || imp.Rows != imp2.Rows || imp.Missing != imp2.Missing {
			t.Fatalf("as given %q (%d rows, %d missing), backwards %q (%d, %d)", got, imp.Rows, imp.Missing, got2, imp2.Rows, imp2.Missing)
		}
	})
}
