package analysis

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// runeSlice is the obvious, slow way to slice by code points: the oracle the
// fast code is checked against.
func runeSlice(s string, start, end int) string {
	r := []rune(s)
	start = min(max(start, 0), len(r))
	end = min(max(end, start), len(r))
	return string(r[start:end])
}

// nth returns the code-point offset of the n-th (0-based, overlapping)
// occurrence of sub in s, or -1.
func nth(s, sub string, n int) int {
	from := 0
	for {
		i := strings.Index(s[from:], sub)
		if i < 0 {
			return -1
		}
		if n == 0 {
			return utf8.RuneCountInString(s[:from+i])
		}
		n--
		_, w := utf8.DecodeRuneInString(s[from+i:])
		from += i + w
	}
}

func TestTextIndexAgainstRunes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab \néü€😀\u0301中")
	for _, n := range []int{0, 1, 63, 64, 65, 200, 1000} {
		var sb strings.Builder
		for range n {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		s := sb.String()
		x := NewTextIndex(s)
		if x.Len() != utf8.RuneCountInString(s) {
			t.Fatalf("n=%d: Len = %d, want %d", n, x.Len(), utf8.RuneCountInString(s))
		}
		b := 0
		for cp := 0; cp <= x.Len(); cp++ {
			if got := x.byteAt(cp); got != b {
				t.Fatalf("n=%d: byteAt(%d) = %d, want %d", n, cp, got, b)
			}
			if got := x.cpAt(b); got != cp {
				t.Fatalf("n=%d: cpAt(%d) = %d, want %d", n, b, got, cp)
			}
			if b < len(s) {
				_, w := utf8.DecodeRuneInString(s[b:])
				b += w
			}
		}
		for range 50 {
			i, j := rng.IntN(n+3)-1, rng.IntN(n+3)-1
			if got, want := x.Slice(i, j), runeSlice(s, i, j); got != want {
				t.Fatalf("n=%d: Slice(%d, %d) = %q, want %q", n, i, j, got, want)
			}
		}
	}
}

func TestNewCoding(t *testing.T) {
	at := time.Date(2026, 3, 1, 15, 4, 5, 999, time.FixedZone("CET", 3600))
	long := strings.Repeat("ab", 30) // 60 code points
	tests := []struct {
		name                  string
		text                  string
		start, end            int
		quote, prefix, suffix string
	}{
		{"ascii middle", long + "QUOTE" + long, 60, 65, "QUOTE", long[28:], long[:32]},
		{"at start", "Yes, I did. And more.", 0, 4, "Yes,", "", " I did. And more."},
		{"at end", "It was fine.", 7, 12, "fine.", "It was ", ""},
		{"whole text", "ok", 0, 2, "ok", "", ""},
		{"accents", "Zoë said the café was home", 9, 17, "the café", "Zoë said ", " was home"},
		{"emoji", "🙂🙂 great 🙂🙂", 3, 8, "great", "🙂🙂 ", " 🙂🙂"},
		{"combining mark kept as its own code point", "cafe\u0301 au lait", 3, 5, "e\u0301", "caf", " au lait"},
		{"context cut at 32 code points", strings.Repeat("é", 40) + "X" + strings.Repeat("😀", 40), 40, 41,
			"X", strings.Repeat("é", 32), strings.Repeat("😀", 32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewCoding("int01", tt.text, tt.start, tt.end, "trust", "alice", OriginManual, at)
			if err != nil {
				t.Fatal(err)
			}
			if c.Quote != tt.quote || c.Prefix != tt.prefix || c.Suffix != tt.suffix {
				t.Errorf("quote, prefix, suffix = %q, %q, %q; want %q, %q, %q", c.Quote, c.Prefix, c.Suffix, tt.quote, tt.prefix, tt.suffix)
			}
			if c.Start != tt.start || c.End != tt.end || c.Source != "int01" || c.Code != "trust" || c.Coder != "alice" || c.Origin != OriginManual {
				t.Errorf("fields not kept: %+v", c)
			}
			if want := time.Date(2026, 3, 1, 14, 4, 5, 0, time.UTC); !c.Time.Equal(want) || c.Time.Location() != time.UTC {
				t.Errorf("time = %v, want %v in UTC", c.Time, want)
			}
			c2, err := NewTextIndex(tt.text).NewCoding("int01", tt.start, tt.end, "trust", "alice", OriginManual, at)
			if err != nil || c2 != c {
				t.Errorf("TextIndex.NewCoding = %+v, %v; want %+v", c2, err, c)
			}
		})
	}
}

func TestNewCodingRejectsBadSpans(t *testing.T) {
	text := "héllo wörld" // 11 code points
	for _, sp := range [][2]int{{-1, 3}, {3, 3}, {5, 2}, {0, 12}, {11, 12}, {20, 30}} {
		if _, err := NewCoding("s", text, sp[0], sp[1], "c", "alice", OriginManual, time.Time{}); err == nil {
			t.Errorf("NewCoding(%d, %d): no error", sp[0], sp[1])
		}
		if _, err := NewTextIndex(text).NewCoding("s", sp[0], sp[1], "c", "alice", OriginManual, time.Time{}); err == nil {
			t.Errorf("TextIndex.NewCoding(%d, %d): no error", sp[0], sp[1])
		}
	}
	if _, err := NewCoding("s", text, 0, 11, "c", "alice", OriginManual, time.Time{}); err != nil {
		t.Errorf("whole text: %v", err)
	}
}

func TestCodingID(t *testing.T) {
	base := CodingID("int01", 10, 20, "trust", "alice")
	if len(base) != 12 || strings.Trim(base, idAlphabet) != "" {
		t.Fatalf("id %q: want 12 characters of %q", base, idAlphabet)
	}
	if again := CodingID("int01", 10, 20, "trust", "alice"); again != base {
		t.Errorf("not deterministic: %q then %q", base, again)
	}
	// Each input matters, and field boundaries cannot be shifted.
	for _, other := range []string{
		CodingID("int02", 10, 20, "trust", "alice"),
		CodingID("int01", 11, 20, "trust", "alice"),
		CodingID("int01", 10, 21, "trust", "alice"),
		CodingID("int01", 10, 20, "trusts", "alice"),
		CodingID("int01", 10, 20, "trust", "bob"),
		CodingID("int011", 0, 20, "trust", "alice"),
		CodingID("int01", 10, 20, "trusta", "lice"),
	} {
		if other == base {
			t.Errorf("different inputs gave the same id %q", base)
		}
	}
}

// checkAnchored fails unless every live coding slices text to its quote and
// carries the context of its place.
func checkAnchored(t *testing.T, cs []Coding, text string) {
	t.Helper()
	r := []rune(text)
	slice := func(start, end int) string {
		start = min(max(start, 0), len(r))
		return string(r[start:min(max(end, start), len(r))])
	}
	for _, c := range cs {
		if c.Orphan {
			continue
		}
		if got := slice(c.Start, c.End); got != c.Quote {
			t.Errorf("coding %d-%d: text holds %q, quote is %q", c.Start, c.End, got, c.Quote)
		}
		if p := slice(c.Start-contextLen, c.Start); p != c.Prefix {
			t.Errorf("coding %d-%d: prefix %q, text has %q", c.Start, c.End, c.Prefix, p)
		}
		if s := slice(c.End, c.End+contextLen); s != c.Suffix {
			t.Errorf("coding %d-%d: suffix %q, text has %q", c.Start, c.End, c.Suffix, s)
		}
	}
}

func TestReanchor(t *testing.T) {
	pad := "the weather was mild and nobody minded the walk there"
	ctxA := "Before we start, one thing about "
	ctxB := " and what it meant for all of us."
	tests := []struct {
		name  string
		old   string
		quote string // the coded words ...
		occ   int    // ... at this occurrence in old
		new   string
		// The expected place: the wantOcc-th occurrence of wantQuote (the
		// old quote when empty) in new; -1 for an orphan.
		wantOcc   int
		wantQuote string
		moved     int
	}{
		{name: "unchanged",
			old: "The nurse said the shifts were long. I agreed.", quote: "shifts were long",
			new: "The nurse said the shifts were long. I agreed."},
		{name: "insertion before",
			old: "The nurse said the shifts were long. I agreed.", quote: "shifts were long",
			new: "Honestly, the nurse said the shifts were long. I agreed.", moved: 1},
		{name: "insertion after",
			old: "The nurse said the shifts were long. I agreed.", quote: "shifts were long",
			new: "The nurse said the shifts were long. I agreed, and so did Tom."},
		{name: "insertion inside the quote",
			old: "The nurse said the shifts were long. I agreed.", quote: "shifts were long",
			new: "The nurse said the shifts were very long. I agreed.", wantOcc: -1},
		{name: "word corrected inside the quote",
			old: "Paris says Curtosa config works with Lighthouse now.", quote: "Curtosa config works",
			new: "Paris says Kurtosis config works with Lighthouse now.", wantOcc: -1},
		{name: "quote deleted",
			old: "We met twice. The shifts were long. Then we left.", quote: "The shifts were long.",
			new: "We met twice. Then we left.", wantOcc: -1},
		{name: "short quote whose context is gone is not moved to another occurrence",
			old: "When they offered, I said yes to the new job last spring, gladly.", quote: "yes",
			new: "When they offered, I said nothing at all. Later, yes, we talked.", wantOcc: -1},
		{name: "long quote found once with both sides changed",
			old:   "Intro. I never felt that the managers understood what the night staff did. Outro.",
			quote: "I never felt that the managers understood what the night staff did.",
			new:   "A new first line here. I never felt that the managers understood what the night staff did. Then more.",
			moved: 1},
		{name: "duplicate quote, suffix edited, prefix decides",
			old: "Ann: we coped somehow. It was hard.\nBen: we coped somehow. It was fine.\n", quote: "we coped somehow", occ: 1,
			new: "Ann: we coped somehow. It was hard.\nBen: we coped somehow, I think. It was fine.\n", wantOcc: 1},
		{name: "duplicate quote, prefix edited, suffix decides",
			old: "Ann: we coped somehow. It was hard.\nBen: we coped somehow. It was fine.\n", quote: "we coped somehow", occ: 1,
			new: "Ann: we coped somehow. It was hard.\nBenjamin: we coped somehow. It was fine.\n", wantOcc: 1, moved: 1},
		{name: "duplicate quote, the earlier one coded, text inserted before both",
			old: "Ann: we coped somehow. It was hard.\nBen: we coped somehow. It was fine.\n", quote: "we coped somehow", occ: 0,
			new: "[Recording starts]\nAnn: we coped somehow. It was hard.\nBen: we coped somehow. It was fine.\n", moved: 1},
		{name: "the old position now holds the same words from elsewhere",
			old: "0123456789the plan works", quote: "the plan",
			new: "Earlier:  the plan was bad. 0123456789the plan works", wantOcc: 1, moved: 1},
		{name: "passage duplicated with its context: ambiguous",
			old:     pad + ctxA + "the staff room" + ctxB,
			quote:   "the staff room",
			new:     "Copy: " + ctxA + "the staff room" + ctxB + " Again: " + ctxA + "the staff room" + ctxB,
			wantOcc: -1},
		{name: "short quote, several occurrences, no context left: ambiguous",
			old:     "alpha beta gamma delta epsilon QQQ zeta eta theta iota kappa",
			quote:   "QQQ",
			new:     "lorem ipsum QQQ dolor sit amet, lorem ipsum QQQ dolor sit amet",
			wantOcc: -1},
		{name: "one side matches at one occurrence, the other side at another: ambiguous",
			old:     "The first speaker said: we should wait and see what happens next week, she said.",
			quote:   "wait and see",
			new:     "The first speaker said: we should wait and see, no. Then: wait and see what happens next week, she said.",
			wantOcc: -1},
		{name: "long quote occurring twice, context lost: ambiguous",
			old:     "Intro. I never felt that the managers understood what the night staff did. Outro.",
			quote:   "I never felt that the managers understood what the night staff did.",
			new:     "A: I never felt that the managers understood what the night staff did. B: I never felt that the managers understood what the night staff did.",
			wantOcc: -1},
		{name: "white space shared by the prefix and the quote collapses",
			old:       "It was late. \n We were tired all week, and the week after that. Later: We were tired all week, and the week after that.",
			quote:     "\n We were tired",
			new:       "It was late. We were tired all week, and the week after that. Later: We were tired all week, and the week after that.",
			wantQuote: " We were tired", moved: 1},
		{name: "coding at the start of the text",
			old: "Yes. I think so. Yes.", quote: "Yes.", occ: 0,
			new: "Yes. I really think so. Yes."},
		{name: "coding at the end of the text",
			old: "Yes. I think so. Yes.", quote: "Yes.", occ: 1,
			new: "Yes. I really think so. Yes.", wantOcc: 1, moved: 1},
		{name: "multi-byte text inserted before",
			old:   "Zoë said: “the café was our refuge” 🙂 and nothing else",
			quote: "the café was our refuge",
			new:   "🎉🎉 Ça va? Zoë said: “the café was our refuge” 🙂 and nothing else",
			moved: 1},
		{name: "emoji inside the quote, text deleted before",
			old:   "Um, so, well… 🙂 we laughed 😂 a lot 🙂 really",
			quote: "we laughed 😂 a lot",
			new:   "Well… 🙂 we laughed 😂 a lot 🙂 really",
			moved: 1},
		{name: "line break inside the quote becomes a space",
			old:       "By the end of the week we were\ntired all the time, all of us.",
			quote:     "we were\ntired all",
			new:       "By the end of the week we were tired all the time, all of us.",
			wantQuote: "we were tired all", moved: 1},
		{name: "double spaces removed everywhere, duplicate quote",
			old:   "Ann:  we coped.  Really.\nBen:  we coped.  Really.\nCal:  done.\n",
			quote: "we coped.", occ: 1,
			new:     "Ann: we coped. Really.\nBen: we coped. Really.\nCal: done.\n",
			wantOcc: 1, moved: 1},
		{name: "no-break space becomes a space",
			old:       "The ward had 20\u00a0beds and one nurse at night, which was not enough.",
			quote:     "20\u00a0beds and one nurse",
			new:       "The ward had 20 beds and one nurse at night, which was not enough.",
			wantQuote: "20 beds and one nurse", moved: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := nth(tt.old, tt.quote, tt.occ)
			if start < 0 {
				t.Fatalf("bad test: %q not in old text", tt.quote)
			}
			c, err := NewCoding("s1", tt.old, start, start+utf8.RuneCountInString(tt.quote), "c", "alice", OriginManual, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			cs := []Coding{c}
			moved, orphaned := Reanchor(cs, tt.new)
			got := cs[0]
			checkAnchored(t, cs, tt.new)
			if tt.wantOcc < 0 {
				if !got.Orphan || orphaned != 1 || moved != 0 {
					t.Fatalf("got %d-%d %q orphan=%v (moved %d, orphaned %d); want an orphan", got.Start, got.End, got.Quote, got.Orphan, moved, orphaned)
				}
				if got.Start != c.Start || got.End != c.End || got.Quote != c.Quote || got.Prefix != c.Prefix || got.Suffix != c.Suffix {
					t.Errorf("orphan changed: %+v, was %+v", got, c)
				}
				return
			}
			wq := tt.wantQuote
			if wq == "" {
				wq = tt.quote
			}
			want := nth(tt.new, wq, tt.wantOcc)
			if want < 0 {
				t.Fatalf("bad test: %q not in new text", wq)
			}
			if got.Orphan || got.Start != want || got.Quote != wq {
				t.Fatalf("got %d-%d %q orphan=%v; want %d %q", got.Start, got.End, got.Quote, got.Orphan, want, wq)
			}
			if moved != tt.moved || orphaned != 0 {
				t.Errorf("moved, orphaned = %d, %d; want %d, 0", moved, orphaned, tt.moved)
			}
		})
	}
}

func TestReanchorRepeatedBlocksFollowTheirNeighbours(t *testing.T) {
	// Identical turns: each coding's 32 characters of context occur many
	// times, so only the shift of the codings before it can place it.
	// The header is as long as a block, so each coding's old position now
	// holds the copy before it, context and all: only the unique opening
	// coding's shift tells them apart.
	block := "Q: Anything else to add?\nA: No.\n"
	intro := "I: Thank you for agreeing to take part.\n"
	old := intro + strings.Repeat(block, 10)
	x := NewTextIndex(old)
	c0, err := x.NewCoding("s1", 3, 10, "c", "alice", OriginManual, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	cs := []Coding{c0}
	for i := range 10 {
		s := nth(old, "No.", i)
		c, err := x.NewCoding("s1", s, s+3, "c", "alice", OriginManual, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	header := "Interview 4, transcribed by R.\n\n"
	if utf8.RuneCountInString(header) != utf8.RuneCountInString(block) {
		t.Fatal("bad test: header and block lengths differ")
	}
	moved, orphaned := Reanchor(cs, header+old)
	if moved != 11 || orphaned != 0 {
		t.Fatalf("moved, orphaned = %d, %d; want 11, 0", moved, orphaned)
	}
	shift := utf8.RuneCountInString(header)
	if cs[0].Start != 3+shift {
		t.Errorf("opening coding at %d, want %d", cs[0].Start, 3+shift)
	}
	for i, c := range cs[1:] {
		if want := nth(old, "No.", i) + shift; c.Start != want {
			t.Errorf("coding %d at %d, want %d", i, c.Start, want)
		}
	}
}

func TestReanchorOrphanDoesNotGuideNeighbours(t *testing.T) {
	// An orphan's position is from an older text. Found again 32 code points
	// from its stale position, it must not make the next coding jump 32
	// code points, onto the next of several identical blocks.
	block := "Q: Anything else to add?\nA: No.\n"
	text := "Interview 4, transcribed by R.\n\nI: Thank you for agreeing to take part.\n" + strings.Repeat(block, 10)
	orphan := Coding{ID: "o", Source: "s1", Start: 0, End: 12, Quote: "I: Thank you",
		Suffix: " for agreeing to take part.\nQ: A", Code: "c", Coder: "alice", Orphan: true}
	at := nth(text, "No.", 3)
	c, err := NewCoding("s1", text, at, at+3, "c", "alice", OriginManual, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	cs := []Coding{orphan, c}
	moved, orphaned := Reanchor(cs, text)
	if moved != 1 || orphaned != 0 || cs[0].Start != 32 {
		t.Fatalf("moved %d, orphaned %d, orphan now at %d", moved, orphaned, cs[0].Start)
	}
	if cs[1].Start != at {
		t.Errorf("unchanged coding moved from %d to %d", at, cs[1].Start)
	}
}

func TestReanchorOrphanFoundAgain(t *testing.T) {
	text := "First draft. The manager never listened to us. End."
	s := nth(text, "never listened", 0)
	c, _ := NewCoding("s1", text, s, s+len("never listened"), "c", "alice", OriginManual, time.Time{})
	cs := []Coding{c}
	if _, orphaned := Reanchor(cs, "First draft. The manager ignored us. End."); orphaned != 1 {
		t.Fatal("edit inside the quote did not orphan it")
	}
	// The correction is undone, with text added before: found again.
	back := "Second draft, revised. " + text
	moved, orphaned := Reanchor(cs, back)
	if moved != 1 || orphaned != 0 || cs[0].Orphan || cs[0].Start != nth(back, "never listened", 0) {
		t.Fatalf("moved %d orphaned %d, coding %+v", moved, orphaned, cs[0])
	}
}

// TestReanchorTranscriptCorrections codes every cue of real Zoom transcripts
// and re-anchors the codings onto the hand-corrected transcripts. The cue
// numbers are the same in both versions, so a coding that is not orphaned
// must land in the cue it came from; codings of cues whose text did not
// change must all be found again.
func TestReanchorTranscriptCorrections(t *testing.T) {
	dirs, _ := filepath.Glob("../../shared/corpora/zoom-vtt-ethereum/meetings/*/*")
	if len(dirs) == 0 {
		t.Skip("corpus ../../shared/corpora/zoom-vtt-ethereum not found")
	}
	var total, kept, orphans, unchangedCues, missed int
	for _, dir := range dirs {
		rawB, err1 := os.ReadFile(filepath.Join(dir, "transcript.vtt"))
		fixB, err2 := os.ReadFile(filepath.Join(dir, "transcript_corrected.vtt"))
		if err1 != nil || err2 != nil {
			continue
		}
		raw := strings.ReplaceAll(string(rawB), "\r\n", "\n")
		fix := strings.ReplaceAll(string(fixB), "\r\n", "\n")
		rawCues, fixCues := vttCueLines(raw), vttCueLines(fix)
		if len(rawCues) != len(fixCues) {
			t.Logf("%s: cue counts differ, skipped", dir)
			continue
		}
		x := NewTextIndex(raw)
		var cs []Coding
		var cue []int // cue index of each coding
		for i, l := range rawCues {
			// The whole line after the speaker's name, and its first four
			// words (short quotes that repeat, like "Yeah." or "Thank you").
			text := raw[l.start:l.end]
			_, said, ok := strings.Cut(text, ": ")
			if !ok {
				said = text
			}
			from := l.start + len(text) - len(said)
			spans := [][2]int{{from, l.end}}
			if w := strings.Fields(said); len(w) > 4 {
				spans = append(spans, [2]int{from, from + len(strings.Join(w[:4], " "))})
			}
			for _, sp := range spans {
				a, b := x.cpAt(sp[0]), x.cpAt(sp[1])
				if a == b {
					continue
				}
				c, err := x.NewCoding("zoom", a, b, "c", "alice", OriginManual, time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				cs = append(cs, c)
				cue = append(cue, i)
			}
		}
		Reanchor(cs, fix)
		checkAnchored(t, cs, fix)
		y := NewTextIndex(fix)
		for k, c := range cs {
			total++
			l := fixCues[cue[k]]
			unchanged := raw[rawCues[cue[k]].start:rawCues[cue[k]].end] == fix[l.start:l.end]
			if c.Orphan {
				orphans++
				if unchanged {
					t.Errorf("%s cue %d: coding %q orphaned though its cue did not change", dir, cue[k]+1, c.Quote)
				}
				if strings.Contains(fix[l.start:l.end], c.Quote) {
					missed++ // still there, but its context changed too much
				}
				continue
			}
			kept++
			if unchanged {
				unchangedCues++
			}
			if s, e := y.byteAt(c.Start), y.byteAt(c.End); s < l.start || e > l.end {
				t.Errorf("%s: coding %q of cue %d moved outside it, to %d-%d", dir, c.Quote, cue[k]+1, c.Start, c.End)
			}
		}
	}
	if total == 0 {
		t.Skip("no transcript pairs read")
	}
	t.Logf("%d codings: %d re-anchored (%d on unchanged cues), %d orphaned by corrections (%d of them with the quote still in its cue)",
		total, kept, unchangedCues, orphans, missed)
}

type byteSpan struct{ start, end int }

// vttCueLines returns the byte span of the text line of each cue of a
// WebVTT file whose cues have a number line, a timing line and one text line.
func vttCueLines(s string) []byteSpan {
	var out []byteSpan
	off := 0
	for block := range strings.SplitSeq(s, "\n\n") {
		lines := strings.SplitN(block, "\n", 3)
		if len(lines) == 3 && strings.Contains(lines[1], "-->") {
			start := off + len(lines[0]) + 1 + len(lines[1]) + 1
			out = append(out, byteSpan{start, start + len(strings.TrimRight(lines[2], "\n"))})
		}
		off += len(block) + 2
	}
	return out
}

// FuzzReanchor makes a coding in a text, edits the text and re-anchors the
// coding. A coding that is not orphaned always slices the new text to its
// quote. When the edit stays clear of the coding's quote and context and that
// window of text occurs just once in the new text, the coding must be found
// exactly where the edit moved it.
func FuzzReanchor(f *testing.F) {
	f.Add("The nurse said the shifts were long. I agreed.", uint16(19), uint16(16), uint16(0), uint8(0), "Honestly, ")
	f.Add("Zoë: “the café” 🙂 ok, Zoë: “the café” 🙂 ok", uint16(6), uint16(8), uint16(20), uint8(5), "é")
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", uint16(10), uint16(3), uint16(0), uint8(1), "")
	f.Add("we were\ntired all the time", uint16(3), uint16(10), uint16(7), uint8(1), " ")
	f.Fuzz(func(t *testing.T, old string, start, length, editAt uint16, del uint8, ins string) {
		if !utf8.ValidString(old) || !utf8.ValidString(ins) {
			return
		}
		r := []rune(old)
		n := len(r)
		if n == 0 {
			return
		}
		s := int(start) % n
		e := s + 1 + int(length)%min(n-s, 100)
		c, err := NewCoding("s", old, s, e, "c", "alice", OriginManual, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		p := int(editAt) % (n + 1)
		d := min(int(del), n-p)
		newText := string(r[:p]) + ins + string(r[p+d:])
		cs := []Coding{c}
		moved, orphaned := Reanchor(cs, newText)
		got := cs[0]
		if moved+orphaned > 1 || (orphaned == 1) != got.Orphan {
			t.Fatalf("moved %d, orphaned %d, orphan %v", moved, orphaned, got.Orphan)
		}
		if !got.Orphan {
			if q := runeSlice(newText, got.Start, got.End); q != got.Quote {
				t.Fatalf("new text holds %q at %d-%d, quote %q", q, got.Start, got.End, got.Quote)
			}
		}
		winStart, winEnd := s-utf8.RuneCountInString(c.Prefix), e+utf8.RuneCountInString(c.Suffix)
		if p+d < winStart || p > winEnd {
			window := c.Prefix + c.Quote + c.Suffix
			if nth(newText, window, 1) >= 0 {
				return // the window repeats: either answer may be fair
			}
			want := s
			if p+d < winStart {
				want += utf8.RuneCountInString(ins) - d
			}
			if got.Orphan || got.Start != want || got.Quote != c.Quote {
				t.Fatalf("edit at %d (-%d +%q) clear of window %d-%d: got %d %q orphan=%v, want %d", p, d, ins, winStart, winEnd, got.Start, got.Quote, got.Orphan, want)
			}
		}
	})
}

func BenchmarkReanchor(b *testing.B) {
	// 2,000 codings on a 1 MB transcript-like text, with an insertion near
	// the start that moves all of them.
	var sb strings.Builder
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields("we were tired all the time and the managers never listened to what the night staff said about the ward")
	for sb.Len() < 1<<20 {
		sb.WriteString([]string{"Ann: ", "Ben: ", "Zoë: "}[rng.IntN(3)])
		for range 5 + rng.IntN(40) {
			sb.WriteString(words[rng.IntN(len(words))])
			sb.WriteByte(' ')
		}
		sb.WriteString("\n\n")
	}
	old := sb.String()
	x := NewTextIndex(old)
	var cs []Coding
	for i := range 2000 {
		s := i * (x.Len() - 200) / 2000
		c, _ := x.NewCoding("s", s, s+20+rng.IntN(100), "c", "alice", OriginManual, time.Time{})
		cs = append(cs, c)
	}
	newText := old[:100] + "inserted words " + old[100:]
	work := make([]Coding, len(cs))
	b.SetBytes(int64(len(newText)))
	for b.Loop() {
		copy(work, cs)
		Reanchor(work, newText)
	}
}

func BenchmarkTextIndex(b *testing.B) {
	text := strings.Repeat("Zoë said the café was our refuge 🙂. ", 30000) // ~1.1 MB
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		NewTextIndex(text)
	}
}
