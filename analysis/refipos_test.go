package analysis

import (
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/thematic-qda/thematic/corpus"
)

func TestRefiTextPositions(t *testing.T) {
	// As stored: BOM, "a", an emoji (two UTF-16 units), "b", CR LF, "c",
	// "e" + combining acute (one "é" in NFC), "f".
	raw := "\xEF\xBB\xBFa\U0001F600b\r\nce\u0301f"
	tx := newRefiText([]byte(raw))
	if want := "a\U0001F600b\nc\u00e9f"; tx.text != want {
		t.Fatalf("text %q, want %q", tx.text, want)
	}
	if tx.text != corpus.NormalizeString(raw) {
		t.Fatal("the text differs from ingest's normalisation")
	}
	tests := []struct {
		conv              RefiPositions
		pos               int
		floor, ceil       int
		exact, onBoundary bool
	}{
		{RefiCodePoints, 0, 0, 0, true, true},
		{RefiCodePoints, 2, 2, 2, true, true},  // between the emoji and b
		{RefiCodePoints, 3, 3, 3, true, true},  // before CR
		{RefiCodePoints, 4, 3, 4, false, true}, // between CR and LF
		{RefiCodePoints, 5, 4, 4, true, true},  // before c
		{RefiCodePoints, 6, 5, 5, true, false}, // inside "ce"
		{RefiCodePoints, 7, 5, 6, false, false},
		{RefiCodePoints, 8, 6, 6, true, false},
		{RefiCodePoints, 9, 7, 7, true, true},
		{RefiUTF16, 1, 1, 1, true, true},
		{RefiUTF16, 2, 1, 2, false, false}, // inside the surrogate pair
		{RefiUTF16, 3, 2, 2, true, true},
		{RefiUTF16, 6, 4, 4, true, true},
		{RefiUTF16, 10, 7, 7, true, true},
		{RefiCodePointsLF, 3, 3, 3, true, true},
		{RefiCodePointsLF, 4, 4, 4, true, true},
		{RefiCodePointsLF, 6, 5, 6, false, false},
		{RefiCodePointsLF, 8, 7, 7, true, true},
	}
	for _, tt := range tests {
		lo, ex1 := tx.toText(tt.pos, tt.conv, false)
		hi, ex2 := tx.toText(tt.pos, tt.conv, true)
		if lo != tt.floor || hi != tt.ceil || ex1 != tt.exact || ex2 != tt.exact {
			t.Errorf("%s %d: floor %d ceil %d exact %v/%v; want %d %d %v", tt.conv, tt.pos, lo, hi, ex1, ex2, tt.floor, tt.ceil, tt.exact)
		}
		if got := tx.onBoundary(tt.pos, tt.conv); got != tt.onBoundary {
			t.Errorf("%s %d: on a word boundary %v, want %v", tt.conv, tt.pos, got, tt.onBoundary)
		}
	}
	if tx.length(RefiCodePoints) != 9 || tx.length(RefiUTF16) != 10 || tx.length(RefiCodePointsLF) != 8 {
		t.Errorf("lengths %d %d %d", tx.length(RefiCodePoints), tx.length(RefiUTF16), tx.length(RefiCodePointsLF))
	}
}

func TestRefiTextDecoding(t *testing.T) {
	utf16le := func(s string) []byte {
		b := []byte{0xFF, 0xFE}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		text    string
		decoded string
	}{
		{"utf-8", []byte("naïve\n"), "naïve\n", ""},
		{"utf-8 bom", []byte("\xEF\xBB\xBFnaïve"), "naïve", ""},
		{"utf-16le bom", utf16le("naïve\r\nx"), "naïve\nx", "UTF-16"},
		{"windows-1252", []byte("caf\xe9 \x93quoted\x94"), "café “quoted”", "Windows-1252"},
		{"lone cr", []byte("a\rb"), "a\nb", ""},
		{"extra feff", []byte("\xEF\xBB\xBF\uFEFFx"), "x", ""},
	}
	for _, tt := range tests {
		tx := newRefiText(tt.data)
		if tx.text != tt.text || tx.decoded != tt.decoded {
			t.Errorf("%s: %q (%q), want %q (%q)", tt.name, tx.text, tx.decoded, tt.text, tt.decoded)
		}
		if norm, err := corpus.Normalize(tt.name, tt.data); err != nil || norm != tx.text {
			t.Errorf("%s: ingest reads %q (%v), the import %q", tt.name, norm, err, tx.text)
		}
	}
}

// selectionsIn returns the UTF-16 and code point spans of every
// occurrence of the words in text.
func selectionsIn(text string, words ...string) (u16, cp []refiSpan) {
	for _, w := range words {
		b := strings.Index(text, w)
		if b < 0 {
			panic(w)
		}
		before := []rune(text[:b])
		s16 := len(utf16.Encode(before))
		n16 := len(utf16.Encode([]rune(w)))
		u16 = append(u16, refiSpan{s16, s16 + n16})
		cp = append(cp, refiSpan{len(before), len(before) + len([]rune(w))})
	}
	return u16, cp
}

func TestDetectPositions(t *testing.T) {
	text := "So 😀 they said 🎉 that the garden 🌱 was open to everyone 🙂 who came"
	words := []string{"they said", "that", "garden", "everyone", "who came"}
	tx := newRefiText([]byte(text))
	u16, cp := selectionsIn(text, words...)
	if got, ev := detectRefiPositions([]*refiText{tx}, [][]refiSpan{u16}); got != RefiUTF16 {
		t.Errorf("UTF-16 selections read as %s (%s)", got, ev)
	}
	if got, ev := detectRefiPositions([]*refiText{tx}, [][]refiSpan{cp}); got != RefiCodePoints {
		t.Errorf("code point selections read as %s (%s)", got, ev)
	}
	// Without characters beyond the BMP the two agree: the standard wins.
	plain := newRefiText([]byte("they said that the garden was open"))
	_, cpPlain := selectionsIn("they said that the garden was open", "garden")
	if got, _ := detectRefiPositions([]*refiText{plain}, [][]refiSpan{cpPlain}); got != RefiCodePoints {
		t.Errorf("a tie went to %s", got)
	}
	// A tool that counted CR LF as one.
	crlf := "First line\r\nsecond line\r\nthird line\r\nfourth"
	lf := strings.ReplaceAll(crlf, "\r\n", "\n")
	_, lfSpans := selectionsIn(lf, "second", "third line", "fourth")
	if got, ev := detectRefiPositions([]*refiText{newRefiText([]byte(crlf))}, [][]refiSpan{lfSpans}); got != RefiCodePointsLF {
		t.Errorf("LF-counted selections read as %s (%s)", got, ev)
	}
	// Nothing to go on.
	if got, ev := detectRefiPositions(nil, nil); got != RefiCodePoints || ev.String() != "no text selections" {
		t.Errorf("no selections: %s (%s)", got, ev)
	}
}

func TestPosMapApply(t *testing.T) {
	m := refiPosMap{{in: 2, inLen: 2, out: 2, outLen: 1}, {in: 10, inLen: 1, out: 9, outLen: 3}}
	tests := []struct {
		x, floor, ceil int
		exact          bool
	}{
		{0, 0, 0, true}, {2, 2, 2, true}, {3, 2, 3, false}, {4, 3, 3, true}, {9, 8, 8, true},
		{10, 9, 9, true}, {11, 12, 12, true}, {20, 21, 21, true},
	}
	for _, tt := range tests {
		lo, ex := m.apply(tt.x, false)
		hi, _ := m.apply(tt.x, true)
		if lo != tt.floor || hi != tt.ceil || ex != tt.exact {
			t.Errorf("apply(%d) = %d/%d %v, want %d/%d %v", tt.x, lo, hi, ex, tt.floor, tt.ceil, tt.exact)
		}
	}
}
