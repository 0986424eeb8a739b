package corpus

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fast paths of turn detection and segmentation must give exactly what
// the slow ones give: these tests compare them on every line of the turn
// fixtures and the shared corpora, and on fuzzed input.

// refLabelPrefixRe is what labelPrefix replaces: an optional indent and an
// optional line number set off by a tab or two spaces.
var refLabelPrefixRe = regexp.MustCompile(`^([ \t]*)(?:\d{1,6}(?:\t|  )[ \t]*)?`)

// checkLineFastPaths compares, on one line, each fast path of parseLabel
// and parseEntryLine with the regular expression it stands for.
func checkLineFastPaths(t *testing.T, line string) {
	t.Helper()
	m := refLabelPrefixRe.FindStringSubmatchIndex(line)
	indentEnd, end := labelPrefix(line)
	if indentEnd != m[3] || end != m[1] {
		t.Fatalf("labelPrefix(%q) = %d, %d; the expression gives %d, %d", line, indentEnd, end, m[3], m[1])
	}
	rest := line[end:]
	if got, want := matchInlineLabel(rest), inlineLabelRe.FindStringSubmatchIndex(rest); !slices.Equal(got, want) {
		t.Fatalf("matchInlineLabel(%q) = %v; the expression gives %v", rest, got, want)
	}
	cut := rest[:labelScanEnd(rest)]
	if !strings.HasPrefix(rest, cut) || !utf8.ValidString(cut) && utf8.ValidString(rest) {
		t.Fatalf("labelScanEnd(%q) cuts badly: %q", rest, cut)
	}
	for _, re := range []*regexp.Regexp{inlineLabelRe, standaloneLabelRe, bracketLabelRe} {
		if got, want := re.FindStringSubmatchIndex(cut), re.FindStringSubmatchIndex(rest); !slices.Equal(got, want) {
			t.Fatalf("%s on %q cut to %d bytes: %v; uncut %v", re, rest, len(cut), got, want)
		}
	}
	if got, want := headingMatch(line), headingRe.FindStringSubmatch(line); !slices.Equal(got, want) {
		t.Fatalf("headingMatch(%q) = %q; the expression gives %q", line, got, want)
	}
	for _, s := range []string{line, line[:min(len(line), 100)]} {
		got, gok := findDateIn(s, true)
		want, wok := findDateIn(s, false)
		if got != want || gok != wok {
			t.Fatalf("findDate(%q) = %+v %v; without the quick scans %+v %v", s, got, gok, want, wok)
		}
	}
}

// refTrimByteSpan is trimByteSpan without its ASCII fast path.
func refTrimByteSpan(text string, s, e int) (int, int) {
	for s < e {
		r, n := utf8.DecodeRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		s += n
	}
	for e > s {
		r, n := utf8.DecodeLastRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		e -= n
	}
	return s, e
}

// refCountWords is CountWords without its ASCII fast path.
func refCountWords(text string) int {
	n, in := 0, false
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || (in && (r == '\'' || r == '’')) {
			if !in {
				n++
			}
			in = true
		} else {
			in = false
		}
	}
	return n
}

// refLooksBinary is looksBinary without its ASCII fast path.
func refLooksBinary(s string) bool {
	var runes, ctrl int
	for _, r := range s {
		runes++
		switch {
		case r == 0:
			return true
		case r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			ctrl++
		}
	}
	return ctrl > 0 && ctrl*20 > runes
}

// refSentenceSpans is sentenceSpans as it was before its fast path and
// reused buffers: prose on every paragraph.
func refSentenceSpans(p string) (out [][2]int) {
	whole := [][2]int{{0, len(p)}}
	seg, err := sentenceSegmenter()
	if err != nil {
		return whole
	}
	defer func() {
		if recover() != nil {
			out = whole
		}
	}()
	cuts := []int{0}
	var prevText string
	for _, s := range seg.Segment(p) {
		if s.Start > cuts[len(cuts)-1] && s.Start < len(p) && !joinsNext(prevText) {
			cuts = append(cuts, s.Start)
		}
		prevText = s.Text
	}
	cuts = append(cuts, len(p))
	for i := 0; i+1 < len(cuts); i++ {
		s, e := trimByteSpan(p, cuts[i], cuts[i+1])
		if s < e {
			out = append(out, [2]int{s, e})
		}
	}
	return out
}

// checkTextFastPaths compares the whole-text fast paths with their
// references on text.
func checkTextFastPaths(t *testing.T, text string) {
	t.Helper()
	if got, want := CountWords(text), refCountWords(text); got != want {
		t.Fatalf("CountWords(%q) = %d, want %d", text, got, want)
	}
	if got, want := looksBinary(text), refLooksBinary(text); got != want {
		t.Fatalf("looksBinary(%q) = %v, want %v", text, got, want)
	}
	for _, span := range [][2]int{{0, len(text)}, {len(text) / 3, len(text)}, {0, len(text) / 2}} {
		s, e := span[0], span[1]
		gs, ge := trimByteSpan(text, s, e)
		ws, we := refTrimByteSpan(text, s, e)
		if gs != ws || ge != we {
			t.Fatalf("trimByteSpan(%q, %d, %d) = %d, %d; want %d, %d", text, s, e, gs, ge, ws, we)
		}
	}
}

// fastPathTexts are the turn fixtures and, when present, the shared
// corpora's plain-text files (their first 12 KB each: enough of every style).
func fastPathTexts(t *testing.T) map[string]string {
	texts := map[string]string{}
	for name, text := range turnFixtures(t) {
		texts[name] = text
	}
	root := filepath.Join("..", "..", "shared", "corpora")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".txt") || strings.HasSuffix(path, ".md")) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		texts[path] = normalizeText(string(data[:min(len(data), 12<<10)]))
		return nil
	})
	return texts
}

func TestFastPathsMatchReferences(t *testing.T) {
	var sp sentenceSplitter
	for name, text := range fastPathTexts(t) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			checkTextFastPaths(t, text)
			for _, l := range splitTextLines(text) {
				checkLineFastPaths(t, text[l.start:l.end])
			}
			for _, p := range paragraphSpans(text, 0, len(text)) {
				para := text[p[0]:p[1]]
				if got, want := sp.spans(para), refSentenceSpans(para); !slices.Equal(got, want) {
					t.Fatalf("sentence spans of %q:\n got %v\nwant %v", para, got, want)
				}
			}
		})
	}
}

func TestLineFastPathsEdgeCases(t *testing.T) {
	long := strings.Repeat("word ", 200)
	for _, line := range []string{
		"", "Interviewer: yes", "P3:", "P3:\tso", "Dan:  [00:01:02] hi", "Dan: (0:25) hi", "Dan:x", "Dan: **x**", "Dan:**",
		"  12  Dan: hi", "\t1234567\tDan: hi", "123456  Dan: hi", "12 Dan: hi", "12\t", "42",
		"Jane Smith: hi", "jane: hi", "Dr. Who: hi", "Ärzte: hi", "Dan" + strings.Repeat(" ", 500) + ": hi",
		"[00:01:02]" + strings.Repeat(" ", 600) + "Jane Smith: hi", strings.Repeat("x", 500) + ": hi",
		"Ann" + strings.Repeat("\t", 1000) + "(00:01): hi", "Speaker 1  00:12", "Speaker" + strings.Repeat(" ", 400) + "0:12",
		"[id1] hello " + long, "[" + strings.Repeat("é", 30) + "] hi", "Name: " + long, "😀" + strings.Repeat("😀", 200) + ":",
		"## 2025-01-02", "# Week 2 – 12/03/2025", "#no", "####### 2025-01-02", "Monday 3 March 2025: went out",
		"3 MARCH 2025", "march 3, 2025", "Tue 4 Mar", "Au\u017Fu\u017Ft 3", "3 \u212Aan", "12.03.2025 - ok", "1660-01-11 x",
		"Sep 31", "31/04/2024", "nothing here at all", long + "2025-01-02",
	} {
		checkLineFastPaths(t, line)
	}
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range []string{
		"Interviewer: How did it go?\n\nParticipant: Fine. Really fine!\n",
		"## 2025-01-02\n\nWent out. 3 March 2025: again.\n12/03/2025 - rain\n",
		"  12  Dan [00:01:02]: hi\n[P1] ok\nSpeaker 1  0:25\nwords\n",
		"Dr. Smith said e.g. this... and then? No! \u00a0 Caf\u00e9\u2019s \x01 ok",
	} {
		f.Add(s)
	}
	var sp sentenceSplitter
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			text = strings.ToValidUTF8(text, "\uFFFD")
		}
		checkTextFastPaths(t, text)
		for _, l := range splitTextLines(text) {
			checkLineFastPaths(t, text[l.start:l.end])
		}
		if p := strings.TrimSpace(text); p != "" {
			if got, want := sp.spans(p), refSentenceSpans(p); !slices.Equal(got, want) {
				t.Fatalf("sentence spans of %q:\n got %v\nwant %v", p, got, want)
			}
		}
	})
}
