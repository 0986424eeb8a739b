package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

const ingestInterview = "---\ncase: P01\nwave: \"1\"\n---\nI: How did you start?\n\nP: A neighbour showed me the compost bays. I didn’t know anyone.\n\nI: And now?\n\nP: Now I know the café crowd. Zoë runs the rota.\n"

func TestIngestAddsUpdatesAndSkips(t *testing.T) {
	p, open := mainTestProject(t)
	dir := t.TempDir()
	a := mainWriteFile(t, dir, "in/p01-w1.txt", ingestInterview)
	mainWriteFile(t, dir, "in/notes.pdf", "%PDF-1.4")
	ios, _, errOut := mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{filepath.Join(dir, "in")}, Kind: "interview"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "notes.pdf: skipped (unsupported format)") || !strings.Contains(errOut.String(), "1 added") {
		t.Errorf("stderr = %q", errOut.String())
	}
	src, err := p.Source("p01-w1", true)
	if err != nil {
		t.Fatal(err)
	}
	if src.Case != "P01" || src.Attrs["wave"] != "1" || src.Kind != "interview" || src.Number != 1 {
		t.Errorf("source meta = case %q attrs %v kind %q number %d", src.Case, src.Attrs, src.Kind, src.Number)
	}
	// Every segment's offsets slice the stored text to exactly its text,
	// with no surrounding white space.
	runes := []rune(src.Text)
	for _, s := range src.Segments {
		seg := string(runes[s.Start:s.End])
		if seg == "" || strings.TrimSpace(seg) != seg {
			t.Errorf("segment %s [%d,%d) = %q", s.ID, s.Start, s.End, seg)
		}
	}

	// Code something, then change the text before it: the coding moves.
	ti := analysis.NewTextIndex(src.Text)
	start := strings.Index(string(runes), "Zoë runs the rota")
	start = len([]rune(src.Text[:start]))
	c, err := ti.NewCoding(src.ID, start, start+len([]rune("Zoë runs the rota")), "rota", "alice", analysis.OriginManual, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if err := store.Save("alice", []analysis.Coding{c}); err != nil {
		t.Fatal(err)
	}

	// Unchanged: a no-op.
	ios, _, errOut = mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{a}, Kind: "interview", NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "0 added, 0 updated, 1 unchanged") {
		t.Errorf("re-ingest: %q", errOut.String())
	}
	// Changed: updated, old hash kept, coding re-anchored.
	os.WriteFile(a, []byte(strings.Replace(ingestInterview, "How did you start?", "So, how did you first start out here?", 1)), 0o644)
	ios, _, errOut = mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{a}, Kind: "interview", NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "1 updated") || !strings.Contains(errOut.String(), "1 moved, 0 orphaned") {
		t.Errorf("changed re-ingest: %q", errOut.String())
	}
	src2, _ := p.Source("p01-w1", true)
	if len(src2.PrevSHA) != 1 || src2.PrevSHA[0] != src.SHA || src2.Number != 1 {
		t.Errorf("PrevSHA = %v (want [%s]), number %d", src2.PrevSHA, src.SHA, src2.Number)
	}
	cs, _ := store.Load("alice")
	if len(cs) != 1 || string([]rune(src2.Text)[cs[0].Start:cs[0].End]) != "Zoë runs the rota" || cs[0].Orphan {
		t.Errorf("coding after re-anchoring = %+v", cs)
	}
}

func TestIngestBadInputWritesNothing(t *testing.T) {
	p, open := mainTestProject(t)
	dir := t.TempDir()
	good := mainWriteFile(t, dir, "good.txt", "P: fine words here.\n")
	notZip := mainWriteFile(t, dir, "broken.docx", "this is not a zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>unclosed`))
	zw.Close()
	badXML := mainWriteFile(t, dir, "badxml.docx", buf.String())
	empty := mainWriteFile(t, dir, "empty.txt", "  \n")
	binary := mainWriteFile(t, dir, "bin.txt", "\x00\x01\x02\x03binary\x00\x00")
	unknown := mainWriteFile(t, dir, "x.pages", "whatever")
	tests := []struct {
		path string
		want string
	}{
		{notZip, "broken.docx: not a .docx file"},
		{badXML, "badxml.docx"},
		{empty, "empty.txt: empty file"},
		{binary, "bin.txt: binary file"},
		{unknown, "x.pages: unsupported format"},
		{filepath.Join(dir, "missing.txt"), "missing.txt: no such file"},
	}
	for _, tt := range tests {
		ios, _, _ := mainTestIO()
		err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{good, tt.path}, NoIndex: true})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ingest %s: err = %v, want %q", filepath.Base(tt.path), err, tt.want)
		}
		if strings.Contains(oneLine(err), "\n") {
			t.Errorf("error is not one line: %q", err)
		}
		ids, _ := p.SourceIDs()
		if len(ids) != 0 {
			t.Fatalf("after a failed ingest the project holds %v; want nothing written", ids)
		}
	}
}

func TestIngestDuplicateIDsAndLock(t *testing.T) {
	p, open := mainTestProject(t)
	dir := t.TempDir()
	a := mainWriteFile(t, dir, "a/p01.txt", "P: one.\n")
	b := mainWriteFile(t, dir, "b/p01.txt", "P: two.\n")
	ios, _, _ := mainTestIO()
	err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{a, b}, NoIndex: true})
	if err == nil || !strings.Contains(err.Error(), `source id "p01" is also made from`) {
		t.Errorf("duplicate ids: err = %v", err)
	}
	// Another process holds the lock: a clear message, not a hang.
	unlock, err := p.Lock(0)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	start := time.Now()
	_, err = p.Lock(200 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "another thematic process is changing this project") {
		t.Errorf("locked: err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("waited %v for the lock", time.Since(start))
	}
}

func TestSearchJSONOffsets(t *testing.T) {
	_, open := mainTestProject(t)
	dir := t.TempDir()
	f := mainWriteFile(t, dir, "p01-w1.txt", ingestInterview)
	ios, _, _ := mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: []string{f}, Kind: "interview"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		query string
		role  []string
		want  []string // matched words, in order
	}{
		{"cafe", nil, nil}, // accents are not folded by default
		{"café", nil, []string{"café"}},
		{"don't OR didn't", nil, []string{"didn’t"}}, // straight apostrophes find curly ones
		{"zoë", []string{"participant"}, []string{"Zoë"}},
		{"how", []string{"participant"}, nil},
		{"neighbours", nil, []string{"neighbour"}}, // stemming
	} {
		ios, out, _ := mainTestIO()
		err := runSearch(&SearchOptions{IO: ios, Project: open, Query: tt.query, Roles: tt.role, JSON: true, Context: 10})
		if err != nil {
			t.Fatalf("%q: %v", tt.query, err)
		}
		var res struct {
			Hits []searchHit `json:"hits"`
		}
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			p, _ := open()
			s, _ := p.Source(h.Source, true)
			runes := []rune(s.Text)
			for _, m := range h.Matches {
				got = append(got, string(runes[m.Start:m.End]))
			}
			if string(runes[h.Start:h.End]) != h.Text {
				t.Errorf("hit span [%d,%d) does not slice its text", h.Start, h.End)
			}
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("search %q: matched %q, want %q", tt.query, got, tt.want)
		}
	}
	ios, _, _ = mainTestIO()
	err := runSearch(&SearchOptions{IO: ios, Project: open, Query: `"unclosed`})
	if err == nil || !strings.Contains(err.Error(), "invalid query") {
		t.Errorf("bad query: err = %v", err)
	}
}

// A re-ingest that changes many sources re-anchors their codings in
// batches; every batch moves its own sources' codings, and only those.
func TestIngestReanchorsInBatches(t *testing.T) {
	p, open := mainTestProject(t)
	dir := t.TempDir()
	files := map[string]string{"a": "P: the rota is fair.\n", "b": "P: the shed is locked.\n", "c": "P: the gate squeaks.\n"}
	var paths []string
	for id, text := range files {
		paths = append(paths, mainWriteFile(t, dir, id+".txt", text))
	}
	ios, _, _ := mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: paths, NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	phrase := map[string]string{"a": "rota is fair", "b": "shed is locked", "c": "gate squeaks"}
	var cs []analysis.Coding
	for id, ph := range phrase {
		src, err := p.Source(id, true)
		if err != nil {
			t.Fatal(err)
		}
		start := len([]rune(src.Text[:strings.Index(src.Text, ph)]))
		c, err := analysis.NewTextIndex(src.Text).NewCoding(id, start, start+len([]rune(ph)), "x", "alice", analysis.OriginManual, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if err := store.Save("alice", cs); err != nil {
		t.Fatal(err)
	}
	// a and b change, c does not.
	mainWriteFile(t, dir, "a.txt", "I: Go on.\n\nP: well, the rota is fair.\n")
	mainWriteFile(t, dir, "b.txt", "I: And?\n\nP: so the shed is locked.\n")
	defer func(n int) { ingestReanchorBatch = n }(ingestReanchorBatch)
	ingestReanchorBatch = 1
	ios, _, errOut := mainTestIO()
	if err := runIngest(&IngestOptions{IO: ios, Project: open, Paths: paths, NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(errOut.String(), "Re-anchored alice's codings: 1 moved, 0 orphaned"); n != 2 || !strings.Contains(errOut.String(), "2 updated, 1 unchanged") {
		t.Errorf("stderr = %q, want two batches of one moved coding", errOut.String())
	}
	got, err := store.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		src, _ := p.Source(c.Source, true)
		if s := string([]rune(src.Text)[c.Start:c.End]); s != phrase[c.Source] || c.Orphan {
			t.Errorf("coding on %s covers %q (orphan %v), want %q", c.Source, s, c.Orphan, phrase[c.Source])
		}
	}
}
