package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadSubtitleGolden(t *testing.T) {
	tests := []struct{ file, golden string }{
		{"voices.vtt", "voices.golden"},
		{"zoom.vtt", "zoom.golden"},
		{"film.srt", "film.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data := readFixture(t, tc.file)
			// The same file with CRLF line ends, and as UTF-16 with a BOM,
			// reads the same.
			variants := map[string][]byte{
				"LF":     data,
				"CRLF":   bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")),
				"UTF-16": utf16Bytes(string(data), true),
			}
			for v, b := range variants {
				docs, err := Read(tc.file, b, ReadOptions{})
				if err != nil {
					t.Fatalf("%s: %v", v, err)
				}
				checkDocInvariants(t, docs[0])
				checkReadGolden(t, docs, tc.golden)
			}
		})
	}
}

func TestZoomLabel(t *testing.T) {
	tests := []struct {
		in, who, rest string
	}{
		{"Barnabas: Hello, hello.", "Barnabas", "Hello, hello."},
		{"Rafael Matias (skylenet): yes", "Rafael Matias (skylenet)", "yes"},
		{"Mega | Lambda: ok", "Mega | Lambda", "ok"},
		{"Danno Ferrin - Tectonic.xyz: right", "Danno Ferrin - Tectonic.xyz", "right"},
		{"Łukasz Rozmej: tak", "Łukasz Rozmej", "tak"},
		{"one two three four five: fits", "one two three four five", "fits"},
		{"one two three four five six: too many words", "", ""},
		{"A name that is far too long to be a name at all: x", "", ""},
		{"2 things: numbers are not names", "", ""},
		{"Well, you know: a clause", "", ""},
		{"Really? Yes: no", "", ""},
		{"no colon here", "", ""},
		{"Bob:no space", "", ""},
		{"Bob: ", "", ""},
		{": empty name", "", ""},
	}
	for _, tc := range tests {
		who, rest, ok := zoomLabel(tc.in)
		if ok != (tc.who != "") || who != tc.who || rest != tc.rest {
			t.Errorf("zoomLabel(%q) = %q, %q, %v; want %q, %q", tc.in, who, rest, ok, tc.who, tc.rest)
		}
	}
}

func TestReadSubtitleBadInput(t *testing.T) {
	tests := []struct {
		name, file, in string
		line           int
		want           []string
	}{
		{"bad timing", "a.vtt", "WEBVTT\n\n1\n00:00:01.000 --> 00:00:0x.000\nHello\n", 4, []string{"malformed WebVTT file"}},
		{"missing end time", "a.vtt", "WEBVTT\n\n00:00:01.000 -->\nHello\n", 3, []string{"malformed WebVTT file", "end time"}},
		{"no WEBVTT header", "a.vtt", "1\n00:00:01.000 --> 00:00:02.000\nHello\n", 0, []string{"no cues found", "WEBVTT"}},
		{"header only", "a.vtt", "WEBVTT\n\nNOTE nothing here\n", 0, []string{"no cues found"}},
		{"srt bad timing", "a.srt", "1\n00:00:01,000 --> 00:0a:02,000\nHello\n", 2, []string{"malformed SRT file"}},
		{"srt no cues", "a.srt", "Just a paragraph of text.\n", 0, []string{"no cues found", "SRT"}},
		{"cues without text", "a.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n2\n00:00:03,000 --> 00:00:04,000\n", 0, []string{"no text"}},
		{"empty", "a.vtt", "", 0, []string{msgEmptyFile}},
		{"binary", "a.srt", "\x00\x01\x02\x03", 0, []string{msgBinaryFile}},
		{"line too long", "a.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n" + strings.Repeat("word ", 20000) + "\n", 4, []string{"too long"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.file, []byte(tc.in), ReadOptions{})
			wantReadError(t, err, tc.file, tc.line, tc.want...)
		})
	}
}

func TestReadZoomCorpus(t *testing.T) {
	dir := readerCorpus(t, "zoom-vtt-ethereum/meetings/acdt/2026-03-30_076")
	path := filepath.Join(dir, "transcript.vtt")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := Read("transcript.vtt", raw, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDocInvariants(t, d)
	cues := bytes.Count(raw, []byte("-->"))
	if len(d.Turns) == 0 || len(d.Turns) >= cues {
		t.Fatalf("%d cues gave %d turns: consecutive cues of one speaker should merge", cues, len(d.Turns))
	}
	speakers := map[string]int{}
	for i, tr := range d.Turns {
		if tr.Speaker == "" {
			t.Errorf("turn %d has no speaker: every cue of this file is labelled", i)
		}
		if i > 0 && d.Turns[i-1].Speaker == tr.Speaker {
			t.Errorf("turns %d and %d are both %q: they should have merged", i-1, i, tr.Speaker)
		}
		speakers[tr.Speaker]++
	}
	for _, who := range []string{"Barnabas", "jochem-brouwer"} {
		if speakers[who] == 0 {
			t.Errorf("speaker %q missing; got %v", who, speakers)
		}
	}
	// The file opens with two Barnabas cues (00:02:02 and 00:02:04) that make
	// the first turn.
	first := d.Turns[0]
	runes := []rune(d.Text)
	if first.Speaker != "Barnabas" || first.Time != "00:02:02" || string(runes[first.Start:first.End]) != "Hello, hello. Can you guys hear me?" {
		t.Errorf("first turn = %+v %q", first, string(runes[first.Start:first.End]))
	}
	if !strings.HasPrefix(d.Text, "[00:02:02] Barnabas: Hello, hello. Can you guys hear me?\n\n[00:02:06] jochem-brouwer: Yes, I can hear you.") {
		t.Errorf("text starts %.120q", d.Text)
	}
}

func TestReadZoomCorpusAll(t *testing.T) {
	root := readerCorpus(t, "zoom-vtt-ethereum")
	files, _ := filepath.Glob(filepath.Join(root, "meetings", "*", "*", "transcript*.vtt"))
	srts, _ := filepath.Glob(filepath.Join(root, "derived_srt", "*.srt"))
	files = append(files, srts...)
	if len(files) == 0 {
		t.Skip("no transcripts in the Zoom corpus")
	}
	for _, f := range files {
		docs, err := readDiskFile(t, f, ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		d := docs[0]
		checkDocInvariants(t, d)
		named := 0
		for _, tr := range d.Turns {
			if tr.Speaker != "" {
				named++
			}
		}
		if named*10 < len(d.Turns)*9 {
			t.Errorf("%s: only %d of %d turns have a speaker", f, named, len(d.Turns))
		}
	}
}

func TestReadSintelCorpus(t *testing.T) {
	p := readerCorpus(t, "srt-sintel/sintel_en.srt")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\r\n")) {
		t.Fatalf("expected the Sintel file to have CRLF line ends")
	}
	docs, err := Read("sintel_en.srt", raw, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDocInvariants(t, d)
	cues := bytes.Count(raw, []byte("-->"))
	if len(d.Turns) != cues {
		t.Errorf("%d cues without speakers gave %d turns; each should stay a turn", cues, len(d.Turns))
	}
	for i, tr := range d.Turns {
		if tr.Speaker != "" {
			t.Errorf("turn %d has speaker %q in a film subtitle", i, tr.Speaker)
		}
	}
	// Cue 3 has two lines, joined with a space.
	want := "[00:02:28] You're a fool for traveling alone, so completely unprepared.\n"
	if !strings.Contains(d.Text, want) {
		t.Errorf("text lacks the two-line cue %q:\n%.400s", want, d.Text)
	}
}
