package export

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "I felt lost.", "I felt lost."},
		{"keeps tab LF CR", "a\tb\nc\r\nd", "a\tb\nc\r\nd"},
		{"drops NUL and C0", "a\x00b\x01c\x1Fd\x0Be\x0Cf", "abcdef"},
		{"drops bell and escape", "ring\x07 \x1b[0m", "ring [0m"},
		{"keeps DEL and C1 (legal XML 1.0)", "a\x7Fb\u0085c", "a\x7Fb\u0085c"},
		{"drops non-characters FFFE FFFF", "a\uFFFEb\uFFFFc", "abc"},
		{"invalid UTF-8 becomes U+FFFD", "caf\xe9 ok", "caf\uFFFD ok"},
		{"truncated sequence", "x\xe2\x82", "x\uFFFD\uFFFD"},
		{"keeps astral and private use", "😀 \U0010FFFD \uE000", "😀 \U0010FFFD \uE000"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanText(tt.in); got != tt.want {
				t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanTextNoAllocWhenClean(t *testing.T) {
	s := strings.Repeat("Participants talked about boundaries. ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = CleanText(s) }); n != 0 {
		t.Errorf("CleanText allocated %.0f times on clean text", n)
	}
}

var markerRE = regexp.MustCompile(`… \[truncated: (\d+) more characters\]$`)

func TestFitCell(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		cut     bool
		removed int // code points left out, when cut
	}{
		{"short", "hello", false, 0},
		{"exactly the limit", strings.Repeat("a", MaxCellChars), false, 0},
		// 40,000 ASCII characters: room is kept for a marker with a 5-digit
		// count, 1+13+5+17 = 36 units, so 32,767-36 = 32,731 characters stay
		// and 7,269 go.
		{"40,000 characters", strings.Repeat("a", 40000), true, 7269},
		// Emoji take two UTF-16 units each: 16,383 fit in 32,766 units but
		// 16,384 would be 32,768. Of the 32,731 units of room, 16,365 emoji
		// fill 32,730, so 19 go.
		{"astral over the limit", strings.Repeat("😀", 16384), true, 19},
		{"astral at the limit", strings.Repeat("😀", 16383), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FitCell(tt.in)
			if n := len(utf16.Encode([]rune(got))); n > MaxCellChars {
				t.Fatalf("result has %d UTF-16 units, more than %d", n, MaxCellChars)
			}
			m := markerRE.FindStringSubmatch(got)
			if !tt.cut {
				if got != tt.in {
					t.Fatalf("text within the limit was changed")
				}
				return
			}
			if m == nil {
				t.Fatalf("cut text lacks the marker; ends %q", got[len(got)-60:])
			}
			if n, _ := strconv.Atoi(m[1]); n != tt.removed {
				t.Errorf("marker says %d characters removed, want %d", n, tt.removed)
			}
			kept := strings.TrimSuffix(got, m[0])
			if !strings.HasPrefix(tt.in, kept) || !utf8.ValidString(kept) {
				t.Errorf("kept text is not a prefix of the input cut at a character boundary")
			}
			if utf8.RuneCountInString(kept)+tt.removed != utf8.RuneCountInString(tt.in) {
				t.Errorf("kept %d + removed %d != %d characters", utf8.RuneCountInString(kept), tt.removed, utf8.RuneCountInString(tt.in))
			}
		})
	}
}

func TestSafeCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=SUM(A1:A9)", "'=SUM(A1:A9)"},
		{"+44 20 7946 0000", "'+44 20 7946 0000"},
		{"-3 days", "'-3 days"},
		{"@SUM(1)", "'@SUM(1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"  =1+1", "'  =1+1"},
		{"\n@x", "'\n@x"},
		{`=cmd|' /C calc'!A0`, `'=cmd|' /C calc'!A0`},
		{"plain text", "plain text"},
		{"a = b", "a = b"},
		{"'quoted already", "'quoted already"},
		{"  spaced", "  spaced"},
		{"", ""},
		{"   ", "   "},
		{"＝1+1", "＝1+1"}, // full-width equals is not a formula trigger
	}
	for _, tt := range tests {
		if got := SafeCSVCell(tt.in); got != tt.want {
			t.Errorf("SafeCSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSheetName(t *testing.T) {
	tests := []struct {
		name string
		used []string // names taken before, in order
		want string
	}{
		{"Boundaries", nil, "Boundaries"},
		{"Work/life balance", nil, "Work-life balance"},
		{`Roles: carer\parent`, nil, "Roles- carer-parent"},
		{"[Other] codes", nil, "(Other) codes"},
		{"What is care? *draft*", nil, "What is care draft"},
		{"'Quoted' theme", nil, "’Quoted’ theme"},
		{"Carers' time", nil, "Carers’ time"},
		{"  Lots \t of\n space  ", nil, "Lots of space"},
		{"Making sense of the role and its boundaries", nil, "Making sense of the role and it"},
		{"Making sense of the role abcde fgh", nil, "Making sense of the role abcde"},
		{"", nil, "Sheet"},
		{"?*", nil, "Sheet"},
		{"a\x00b", nil, "ab"},
		{"History", nil, "History (2)"},
		{"Boundaries", []string{"Boundaries"}, "Boundaries (2)"},
		{"boundaries", []string{"Boundaries", "Boundaries (2)"}, "boundaries (3)"},
		{"Making sense of the role and its boundaries", []string{"Making sense of the role and it"}, "Making sense of the role an (2)"},
		{"Sheet", []string{"Sheet"}, "Sheet (2)"},
		{strings.Repeat("😀", 20), nil, strings.Repeat("😀", 15)},
		{"Ébauche", []string{"ébauche"}, "Ébauche (2)"},
	}
	for _, tt := range tests {
		used := map[string]bool{}
		for _, u := range tt.used {
			SheetName(u, used)
		}
		got := SheetName(tt.name, used)
		if got != tt.want {
			t.Errorf("SheetName(%q) after %q = %q, want %q", tt.name, tt.used, got, tt.want)
		}
		if why := checkSheetName(got); why != "" {
			t.Errorf("SheetName(%q) = %q, which %s", tt.name, got, why)
		}
		if !used[sheetKey(got)] {
			t.Errorf("SheetName(%q) did not record %q as used", tt.name, got)
		}
	}
}

func TestSheetNameManyClashes(t *testing.T) {
	used := map[string]bool{}
	seen := map[string]bool{}
	for i := 0; i < 150; i++ {
		got := SheetName("A very long theme name that will need cutting", used)
		if seen[strings.ToLower(got)] {
			t.Fatalf("name %q returned twice", got)
		}
		seen[strings.ToLower(got)] = true
		if why := checkSheetName(got); why != "" {
			t.Fatalf("%q %s", got, why)
		}
	}
	if !seen[strings.ToLower("A very long theme name th (150)")] {
		t.Errorf("the 150th name is not the expected cut with suffix")
	}
}

func TestCheckSheetName(t *testing.T) {
	bad := []string{"", strings.Repeat("x", 32), "a:b", "a/b", `a\b`, "a?b", "a*b", "[a]", "it's", "history", "HISTORY", "a\tb", "a\x01b"}
	for _, name := range bad {
		if checkSheetName(name) == "" {
			t.Errorf("checkSheetName(%q) accepted an invalid name", name)
		}
	}
	good := []string{"Index", strings.Repeat("x", 31), "Carers’ time", "Théâtre (2)", "History of care", "Sheet 1"}
	for _, name := range good {
		if why := checkSheetName(name); why != "" {
			t.Errorf("checkSheetName(%q) rejected a valid name: %s", name, why)
		}
	}
}

// excelTrigger reports whether Excel could read a CSV cell as a formula,
// by OWASP's rule extended over leading spaces and line feeds.
func excelTrigger(s string) bool {
	s = strings.TrimLeft(s, " \n")
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

func FuzzSafeCSVCell(f *testing.F) {
	for _, s := range []string{"=1+1", "+1", "-1", "@x", "\t=1", "\r=1", " =1", "text", "", "'=1", "\n\n-x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeCSVCell(s)
		if excelTrigger(got) {
			t.Fatalf("SafeCSVCell(%q) = %q still starts like a formula", s, got)
		}
		if !strings.HasSuffix(got, s) || len(got)-len(s) > 1 {
			t.Fatalf("SafeCSVCell(%q) = %q changed more than a one-character prefix", s, got)
		}
		if !excelTrigger(s) && got != s {
			t.Fatalf("SafeCSVCell(%q) = %q changed a safe cell", s, got)
		}
		if SafeCSVCell(got) != got {
			t.Fatalf("SafeCSVCell is not idempotent on %q", s)
		}
	})
}

func FuzzSheetName(f *testing.F) {
	for _, s := range []string{"Boundaries", "Work/life", "[x]:*?", "'a'", "History", "", "  ", strings.Repeat("é", 40), "a\x00b", "\xff\xfe"} {
		f.Add(s, "Boundaries")
	}
	f.Fuzz(func(t *testing.T, name, taken string) {
		used := map[string]bool{}
		first := SheetName(taken, used)
		got := SheetName(name, used)
		if why := checkSheetName(got); why != "" {
			t.Fatalf("SheetName(%q) = %q, which %s", name, got, why)
		}
		if sheetKey(got) == sheetKey(first) {
			t.Fatalf("SheetName(%q) = %q clashes with %q", name, got, first)
		}
		if strings.TrimSpace(got) != got || strings.Contains(got, "  ") {
			t.Fatalf("SheetName(%q) = %q has stray white space", name, got)
		}
		// A name that comes out of SheetName is left alone next time.
		if again := SheetName(got, map[string]bool{}); again != got {
			t.Fatalf("SheetName is not stable: %q then %q", got, again)
		}
	})
}

func FuzzFitCell(f *testing.F) {
	f.Add("short", 0)
	f.Add("ab😀", 20000)
	f.Add("x", 32768)
	f.Add("é", 33000)
	f.Fuzz(func(t *testing.T, unit string, repeat int) {
		if unit == "" || repeat < 0 || repeat > 70000 || len(unit)*repeat > 70000 {
			return
		}
		s := strings.Repeat(unit, repeat)
		got := FitCell(s)
		if utf16Len(got) > MaxCellChars {
			t.Fatalf("FitCell left %d UTF-16 units", utf16Len(got))
		}
		if utf16Len(s) <= MaxCellChars {
			if got != s {
				t.Fatalf("FitCell changed text within the limit")
			}
			return
		}
		m := markerRE.FindStringSubmatch(got[max(0, len(got)-60):])
		if m == nil {
			t.Fatalf("cut text has no marker")
		}
		kept := strings.TrimSuffix(got, m[0])
		n, _ := strconv.Atoi(m[1])
		if !strings.HasPrefix(s, kept) || utf8.RuneCountInString(kept)+n != utf8.RuneCountInString(s) {
			t.Fatalf("kept text and count do not add up to the input")
		}
	})
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"ok", "a\x00b", "\xff", "\uFFFE", "tab\tnl\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanText(s)
		if !utf8.ValidString(got) {
			t.Fatalf("CleanText(%q) = %q is not UTF-8", s, got)
		}
		for _, r := range got {
			if !xmlCharRef(r) {
				t.Fatalf("CleanText(%q) kept %U, illegal in XML 1.0", s, r)
			}
		}
		if CleanText(got) != got {
			t.Fatalf("CleanText not idempotent on %q", s)
		}
	})
}

// xmlCharRef is the XML 1.0 Char production written out as its ranges, to
// check xmlChar against.
func xmlCharRef(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(0x20 <= r && r <= 0xD7FF) || (0xE000 <= r && r <= 0xFFFD) || (0x10000 <= r && r <= 0x10FFFF)
}

func BenchmarkCleanText(b *testing.B) {
	s := strings.Repeat("I suppose it's about where the role starts and stops, really. ", 8)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		_ = CleanText(s)
	}
}
