package export

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// scrambledEach streams codings as analysis.EachCoding does, but harder:
// each coding's strings live in a buffer that is overwritten as soon as fn
// returns, so an export that kept any of them without copying writes
// garbage and fails the comparison with the whole study.
func scrambledEach(cs []analysis.Coding) func(fn func(c *analysis.Coding) error) error {
	return func(fn func(c *analysis.Coding) error) error {
		var buf []byte
		for i := range cs {
			c := cs[i]
			buf = buf[:0]
			fields := []*string{&c.ID, &c.Source, &c.Quote, &c.Prefix, &c.Suffix, &c.Code, &c.Coder, &c.Origin, &c.Segment, &c.Memo}
			at := make([]int, len(fields)+1)
			for k, p := range fields {
				at[k] = len(buf)
				buf = append(buf, *p...)
			}
			at[len(fields)] = len(buf)
			mem := make([]byte, len(buf))
			copy(mem, buf)
			for k, p := range fields {
				if n := at[k+1] - at[k]; n > 0 {
					*p = unsafe.String(&mem[at[k]], n)
				} else {
					*p = ""
				}
			}
			err := fn(&c)
			for k := range mem {
				mem[k] = '#'
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// streamStudy is the fixture as a streamed Study: the sources' metadata
// from SourceInfos, each read on demand (whole, or the text alone), the
// codings given one at a time. reads counts the sources read whole,
// texts those whose text alone was read.
func (f *fixture) streamStudy(t *testing.T, reads *int, coders ...string) *Study {
	return f.streamStudyTexts(t, reads, nil, coders...)
}

func (f *fixture) streamStudyTexts(t *testing.T, reads, texts *int, coders ...string) *Study {
	t.Helper()
	whole := f.study(coders...)
	infos, err := f.p.SourceInfos()
	if err != nil {
		t.Fatal(err)
	}
	st := &Study{Codebook: whole.Codebook, Cases: whole.Cases, Citation: whole.Citation, Each: scrambledEach(whole.Codings)}
	for i := range infos {
		st.Sources = append(st.Sources, &infos[i].Source)
	}
	// Sources are read on several goroutines at once.
	var mu sync.Mutex
	count := func(n *int) {
		if n != nil {
			mu.Lock()
			*n++
			mu.Unlock()
		}
	}
	st.Read = func(id string, withText bool) (*corpus.Source, error) {
		count(reads)
		return f.p.Source(id, withText)
	}
	st.Text = func(id string) (string, error) {
		count(texts)
		src, err := f.p.Source(id, true)
		if err != nil {
			return "", err
		}
		return src.Text, nil
	}
	return st
}

// encodeAll writes a document in every format.
func encodeAll(t *testing.T, d Document) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, format := range []string{FormatXLSX, FormatCSV, FormatJSON, FormatMarkdown} {
		var buf bytes.Buffer
		if err := EncodeDocument(&buf, format, d); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out[format] = buf.Bytes()
	}
	return out
}

// A streamed study gives the same bytes, in every format, as the study
// held whole, for every kind of export and option.
func TestStreamedStudySameOutput(t *testing.T) {
	f := newFixture(t)
	coders := []string{"alice", "bob", "auto"}
	type build func(st *Study) (Document, error)
	var cases []struct {
		name  string
		build build
	}
	add := func(name string, b build) {
		cases = append(cases, struct {
			name  string
			build build
		}{name, b})
	}
	for _, o := range []ExtractOptions{
		{}, {By: ByCode}, {By: BySubtheme}, {Merge: true}, {Roles: []string{corpus.RoleParticipant}},
		{MinWords: 4}, {By: BySubtheme, Merge: true, Roles: []string{corpus.RoleParticipant, corpus.RoleOther}},
	} {
		add(fmt.Sprintf("extracts %+v", o), func(st *Study) (Document, error) { return BuildExtracts(st, o) })
	}
	for _, cell := range []string{CellSegments, CellSources, CellWords, CellPercent, CellExtracts} {
		for _, rows := range []string{RowsCase, RowsSource, "attr:site"} {
			for _, cols := range []string{"theme", "subtheme", "code"} {
				o := MatrixOptions{Rows: rows, Cols: cols, Cell: cell, Unit: corpus.UnitParagraph, About: [][2]string{{"Coders", "all"}}}
				add(fmt.Sprintf("matrix %s %s %s", cell, rows, cols), func(st *Study) (Document, error) { return BuildMatrix(st, o) })
			}
		}
	}
	for _, unit := range []string{corpus.UnitSentence, corpus.UnitTurn} {
		for _, level := range []string{"code", "subtheme", "theme"} {
			o := CooccurrenceOptions{Unit: unit, Level: level}
			add("cooccurrence "+unit+" "+level, func(st *Study) (Document, error) { return BuildCooccurrence(st, o) })
		}
	}
	add("codebook", func(st *Study) (Document, error) {
		ct := BuildCodebookTable(st)
		return ct, ct.Err()
	})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd, err := tc.build(f.study(coders...))
			if err != nil {
				t.Fatal(err)
			}
			want := encodeAll(t, wd)
			sd, err := tc.build(f.streamStudy(t, nil, coders...))
			if err != nil {
				t.Fatal(err)
			}
			got := encodeAll(t, sd)
			for format, w := range want {
				if !bytes.Equal(got[format], w) {
					t.Errorf("%s differs when streamed:\n got %q\nwant %q", format, trimBytes(got[format]), trimBytes(w))
				}
			}
		})
	}
}

func trimBytes(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

// Exports read only the sources they need, and only once.
func TestStreamedStudyReads(t *testing.T) {
	f := newFixture(t)
	// bob coded two of the three sources.
	for _, tc := range []struct {
		name         string
		build        func(st *Study) error
		reads, texts int // sources read whole, and texts read alone
	}{
		{"extracts", func(st *Study) error { _, err := BuildExtracts(st, ExtractOptions{}); return err }, 2, 0},
		{"matrix of segments", func(st *Study) error { _, err := BuildMatrix(st, MatrixOptions{}); return err }, 2, 0},
		{"matrix of sources", func(st *Study) error { _, err := BuildMatrix(st, MatrixOptions{Cell: CellSources}); return err }, 0, 0},
		{"matrix of percentages", func(st *Study) error { _, err := BuildMatrix(st, MatrixOptions{Cell: CellPercent}); return err }, 3, 0},
		{"matrix of words", func(st *Study) error { _, err := BuildMatrix(st, MatrixOptions{Cell: CellWords}); return err }, 0, 2},
		{"framework", func(st *Study) error {
			mx, err := BuildMatrix(st, MatrixOptions{Cell: CellExtracts})
			if err != nil {
				return err
			}
			return EncodeCSV(&bytes.Buffer{}, mx.Table(), CSVOptions{})
		}, 0, 2},
		{"cooccurrence", func(st *Study) error { _, err := BuildCooccurrence(st, CooccurrenceOptions{}); return err }, 3, 0},
		{"codebook", func(st *Study) error { return BuildCodebookTable(st).Err() }, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reads, texts := 0, 0
			if err := tc.build(f.streamStudyTexts(t, &reads, &texts, "bob")); err != nil {
				t.Fatal(err)
			}
			if reads != tc.reads || texts != tc.texts {
				t.Errorf("%d sources read whole and %d texts alone, want %d and %d", reads, texts, tc.reads, tc.texts)
			}
		})
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// An error reading a source or the codings ends the export with that error,
// and a writer's error stops the sources being read.
func TestStreamedStudyErrors(t *testing.T) {
	f := newFixture(t)
	broken := errors.New("sources/p02-int.txt: text does not match its sidecar's sha256")
	failing := func() *Study {
		st := f.streamStudy(t, nil, "alice", "bob")
		read := st.Read
		st.Read = func(id string, withText bool) (*corpus.Source, error) {
			if id == "p02-int" {
				return nil, broken
			}
			return read(id, withText)
		}
		text := st.Text
		st.Text = func(id string) (string, error) {
			if id == "p02-int" {
				return "", broken
			}
			return text(id)
		}
		return st
	}
	if _, err := BuildExtracts(failing(), ExtractOptions{}); !errors.Is(err, broken) {
		t.Errorf("extracts: %v", err)
	}
	for _, cell := range []string{CellSegments, CellWords, CellPercent} {
		if _, err := BuildMatrix(failing(), MatrixOptions{Cell: cell}); !errors.Is(err, broken) {
			t.Errorf("matrix of %s: %v", cell, err)
		}
	}
	if _, err := BuildCooccurrence(failing(), CooccurrenceOptions{}); !errors.Is(err, broken) {
		t.Errorf("cooccurrence: %v", err)
	}
	mx, err := BuildMatrix(failing(), MatrixOptions{Cell: CellExtracts, Rows: RowsSource})
	if err != nil {
		t.Fatal(err)
	}
	if err := EncodeCSV(&bytes.Buffer{}, mx.Table(), CSVOptions{}); !errors.Is(err, broken) {
		t.Errorf("framework: %v", err)
	}

	scanErr := errors.New("codings/alice.jsonl:3: bad line")
	st := f.streamStudy(t, nil, "alice")
	st.Each = func(fn func(c *analysis.Coding) error) error { return scanErr }
	if _, err := BuildExtracts(st, ExtractOptions{}); !errors.Is(err, scanErr) {
		t.Errorf("extracts with broken codings: %v", err)
	}
	if err := BuildCodebookTable(st).Err(); !errors.Is(err, scanErr) {
		t.Errorf("codebook with broken codings: %v", err)
	}
	if err := EncodeCSV(&bytes.Buffer{}, BuildCodebookTable(st).Table(), CSVOptions{}); !errors.Is(err, scanErr) {
		t.Errorf("writing a codebook table with broken codings: %v", err)
	}

	// A framework matrix whose writer fails stops reading and returns.
	mx, err = BuildMatrix(f.streamStudy(t, nil, "alice", "bob"), MatrixOptions{Cell: CellExtracts, Rows: RowsSource})
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	done := make(chan error, 2)
	go func() {
		n := 0
		done <- mx.Table().Rows(func([]any) error {
			if n++; n == 1 {
				return stop
			}
			return nil
		})
		done <- EncodeCSV(errWriter{}, mx.Table(), CSVOptions{})
	}()
	for _, want := range []string{"stop", "disk full"} {
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("framework rows stopped by %q: %v", want, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("framework rows stopped early did not return")
		}
	}
}
