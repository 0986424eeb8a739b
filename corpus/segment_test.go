package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestSegmentsStructure(t *testing.T) {
	text := "Interview 9\n\nI: Hello Dr. Patel. How are you?\n\nLovely day.\nP: Fine, thanks! I work nights, e.g. Fridays.\n"
	type seg struct {
		id, unit, parent, text, speaker, role string
		line, endLine                         int
	}
	want := []seg{
		{"t1", UnitTurn, "", "Interview 9", "", RoleOther, 1, 1},
		{"t1.p1", UnitParagraph, "t1", "Interview 9", "", RoleOther, 1, 1},
		{"t1.p1.s1", UnitSentence, "t1.p1", "Interview 9", "", RoleOther, 1, 1},
		{"t2", UnitTurn, "", "Hello Dr. Patel. How are you?\n\nLovely day.", "I", RoleInterviewer, 3, 5},
		{"t2.p1", UnitParagraph, "t2", "Hello Dr. Patel. How are you?", "I", RoleInterviewer, 3, 3},
		{"t2.p1.s1", UnitSentence, "t2.p1", "Hello Dr. Patel.", "I", RoleInterviewer, 3, 3},
		{"t2.p1.s2", UnitSentence, "t2.p1", "How are you?", "I", RoleInterviewer, 3, 3},
		{"t2.p2", UnitParagraph, "t2", "Lovely day.", "I", RoleInterviewer, 5, 5},
		{"t2.p2.s1", UnitSentence, "t2.p2", "Lovely day.", "I", RoleInterviewer, 5, 5},
		{"t3", UnitTurn, "", "Fine, thanks! I work nights, e.g. Fridays.", "P", RoleParticipant, 6, 6},
		{"t3.p1", UnitParagraph, "t3", "Fine, thanks! I work nights, e.g. Fridays.", "P", RoleParticipant, 6, 6},
		{"t3.p1.s1", UnitSentence, "t3.p1", "Fine, thanks!", "P", RoleParticipant, 6, 6},
		{"t3.p1.s2", UnitSentence, "t3.p1", "I work nights, e.g. Fridays.", "P", RoleParticipant, 6, 6},
	}
	segs, speakers := Segments(Document{Text: text}, KindInterview, nil)
	var got []seg
	for _, s := range segs {
		got = append(got, seg{s.ID, s.Unit, s.Parent, runeSpan(text, s.Start, s.End), s.Speaker, s.Role, s.Line, s.EndLine})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("segments:\n got %v\nwant %v", got, want)
	}
	wantSpk := []Speaker{{"I", RoleInterviewer, 1}, {"P", RoleParticipant, 1}}
	if !reflect.DeepEqual(speakers, wantSpk) {
		t.Errorf("speakers %v, want %v", speakers, wantSpk)
	}
	checkSegmentInvariants(t, text, segs, speakers)
}

func TestSegmentsSpeakersAndRoles(t *testing.T) {
	text := "Dan: a\nParticipant: b\nDan: c\nParticipant: d\nDan: e"
	segs, speakers := Segments(Document{Text: text}, KindInterview, map[string]string{"dan": RoleInterviewer})
	want := []Speaker{{"Dan", RoleInterviewer, 3}, {"Participant", RoleParticipant, 2}}
	if !reflect.DeepEqual(speakers, want) {
		t.Errorf("speakers %v, want %v", speakers, want)
	}
	for _, s := range segs {
		if wantRole := map[string]string{"Dan": RoleInterviewer, "Participant": RoleParticipant}[s.Speaker]; s.Role != wantRole {
			t.Errorf("%s: speaker %q role %q, want %q", s.ID, s.Speaker, s.Role, wantRole)
		}
	}
	// Without the override Dan is a participant like any other name.
	_, speakers = Segments(Document{Text: text}, KindInterview, nil)
	if speakers[0].Role != RoleParticipant {
		t.Errorf("Dan without override: %q", speakers[0].Role)
	}
}

func TestSegmentsUnnamedRoleByKind(t *testing.T) {
	text := "2025-03-04\nSlept badly. Long day.\n"
	for kind, want := range map[string]string{KindDiary: RoleParticipant, KindSurvey: RoleParticipant,
		KindNotes: RoleOther, KindInterview: RoleOther} {
		segs, speakers := Segments(Document{Text: text}, kind, nil)
		if len(speakers) != 0 {
			t.Errorf("%s: speakers %v", kind, speakers)
		}
		for _, s := range segs {
			if s.Role != want {
				t.Errorf("%s: %s role %q, want %q", kind, s.ID, s.Role, want)
			}
		}
	}
	segs, _ := Segments(Document{Text: text}, KindDiary, nil)
	var ids []string
	for _, s := range segs {
		ids = append(ids, s.ID+"="+s.Date)
	}
	want := []string{"e1=2025-03-04", "e1.p1=2025-03-04", "e1.p1.s1=2025-03-04", "e1.p1.s2=2025-03-04"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("diary segments %v, want %v", ids, want)
	}
}

func TestSegmentsGivenTurns(t *testing.T) {
	text := "Zoë: ¡hola! ☕\n\nJosé: adiós 😀 amigo."
	runes := []rune(text)
	cp := func(s string) int { return utf8.RuneCountInString(text[:strings.Index(text, s)]) }
	turns := []Turn{
		{Speaker: "José", Start: cp("adiós"), End: len(runes) + 5},    // end past the text: clamped
		{Speaker: "Bo", Start: cp("adiós") + 2, End: cp("adiós") + 6}, // inside José's turn: dropped
		{Speaker: "zoë", Time: "00:00:01", Start: cp(" ¡"), End: cp("José")},
		{Speaker: "x", Start: 3, End: 3},   // empty
		{Start: -5, End: 2},                // before the text: clamped
		{Speaker: "ZOË", Start: 9, End: 4}, // backwards
	}
	orig := append([]Turn(nil), turns...)
	segs, speakers := Segments(Document{Text: text, Turns: turns}, KindInterview, nil)
	if !reflect.DeepEqual(turns, orig) {
		t.Error("Segments changed doc.Turns")
	}
	var got []string
	for _, s := range segs {
		if s.Unit == UnitTurn {
			got = append(got, fmt.Sprintf("%s|%s|%s|%s", s.ID, s.Speaker, s.Time, runeSpan(text, s.Start, s.End)))
		}
	}
	want := []string{"t1|||Zo", "t2|zoë|00:00:01|¡hola! ☕", "t3|José||adiós 😀 amigo."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("turns %q, want %q", got, want)
	}
	wantSpk := []Speaker{{"zoë", RoleParticipant, 1}, {"José", RoleParticipant, 1}}
	if !reflect.DeepEqual(speakers, wantSpk) {
		t.Errorf("speakers %v, want %v", speakers, wantSpk)
	}
	checkSegmentInvariants(t, text, segs, speakers)

	// Given but empty: the format found no turns, so there are no segments.
	if segs, _ := Segments(Document{Text: text, Turns: []Turn{}}, KindInterview, nil); len(segs) != 0 {
		t.Errorf("empty non-nil Turns gave %d segments", len(segs))
	}
}

func TestSentenceSpans(t *testing.T) {
	tests := []struct {
		para string
		want []string
	}{
		{"I saw Dr. Smith today. He said rest.", []string{"I saw Dr. Smith today.", "He said rest."}},
		{"Naïve 😀 emoji here. Mr. Brown left at 3 p.m. yesterday.", []string{"Naïve 😀 emoji here.", "Mr. Brown left at 3 p.m. yesterday."}},
		{"We tried things, e.g. porridge. It failed.", []string{"We tried things, e.g. porridge.", "It failed."}},
		{"Okay. Okay. So what?", []string{"Okay.", "Okay.", "So what?"}},
		{"No full stop at the end", []string{"No full stop at the end"}},
		{"A wrapped\nline ends here. Next one", []string{"A wrapped\nline ends here.", "Next one"}},
		{"She said “Stop.” Then she left!", []string{"She said “Stop.”", "Then she left!"}},
		{"The U.S. team won. Good.", []string{"The U.S. team won.", "Good."}},
		{"Really?! Yes.", []string{"Really?!", "Yes."}},
	}
	for _, tc := range tests {
		var got []string
		for _, s := range sentenceSpans(tc.para) {
			got = append(got, tc.para[s[0]:s[1]])
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.para, got, tc.want)
		}
	}
}

func TestSegmentsStableIDs(t *testing.T) {
	text := turnFixtures(t)["focus_group"]
	a, _ := Segments(Document{Text: text}, KindFocusGroup, nil)
	b, _ := Segments(Document{Text: text}, KindFocusGroup, nil)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same text, different segments")
	}
	// Appending a turn leaves the earlier segments as they were.
	c, _ := Segments(Document{Text: text + "Moderator: One more thing.\n"}, KindFocusGroup, nil)
	if len(c) <= len(a) || !reflect.DeepEqual(c[:len(a)], a) {
		t.Error("appending a turn changed earlier segments")
	}
}

// segmentInvariantTexts are the texts every segment invariant is checked on.
func segmentInvariantTexts(t *testing.T) map[string][2]string {
	out := map[string][2]string{}
	for name, text := range turnFixtures(t) {
		out[name] = [2]string{text, turnFixtureKind(name)}
		// The same text decomposed (combining accents) and composed again.
		out[name+"/nfd"] = [2]string{norm.NFD.String(text), turnFixtureKind(name)}
		out[name+"/nfd-nfc"] = [2]string{norm.NFC.String(norm.NFD.String(text)), turnFixtureKind(name)}
	}
	out["emoji-heavy"] = [2]string{"👩🏽‍🔬: 🧪🧪. Ok 😀!\n🙂: ✔️ done… é́́ ok.\n👩🏽‍🔬: 終わり。次。\n🙂: ﬁne.", KindInterview}
	out["crlf-leftovers"] = [2]string{"A: one\r\nB: two\r\nA: three\u00a0\u2028x\nB: four", KindInterview}
	for _, p := range []string{"interviews-pdpilot/P1.txt", "qualcoder-examples/transcript.txt", "diary-pepys/pepys_001.txt"} {
		path := filepath.Join("..", "..", "shared", "corpora", p)
		if b, err := os.ReadFile(path); err == nil {
			kind := KindInterview
			if strings.HasPrefix(p, "diary") {
				kind = KindDiary
			}
			out[p] = [2]string{string(b), kind}
		}
	}
	return out
}

func TestSegmentsInvariants(t *testing.T) {
	for name, tk := range segmentInvariantTexts(t) {
		t.Run(name, func(t *testing.T) {
			segs, speakers := Segments(Document{Text: tk[0]}, tk[1], nil)
			if strings.TrimSpace(tk[0]) != "" && len(segs) == 0 {
				t.Fatal("no segments")
			}
			checkSegmentInvariants(t, tk[0], segs, speakers)
		})
	}
}

var segmentIDRe = regexp.MustCompile(`^([te])(\d+)(?:\.p(\d+)(?:\.s(\d+))?)?$`)

// checkSegmentInvariants checks what every result of Segments must satisfy:
// offsets that slice non-empty trimmed text, children inside their parents,
// document order with parents first, consecutive IDs, lines that match the
// offsets, inherited metadata, and full coverage of each turn by its
// paragraphs and of each paragraph by its sentences.
func checkSegmentInvariants(t *testing.T, text string, segs []Segment, speakers []Speaker) {
	t.Helper()
	runes := []rune(text)
	lines := make([]int, len(runes)+1) // lines[i]: the line of rune i
	lines[0] = 1
	for i, r := range runes {
		lines[i+1] = lines[i]
		if r == '\n' {
			lines[i+1]++
		}
	}
	lineOf := func(cp int) int { return lines[cp] }
	byID := map[string]Segment{}
	children := map[string]int{}
	turnsOf := map[string]int{}
	nTurns := 0
	for i, s := range segs {
		if _, dup := byID[s.ID]; dup {
			t.Fatalf("duplicate id %s", s.ID)
		}
		if s.Start < 0 || s.End > len(runes) || s.Start >= s.End {
			t.Fatalf("%s: bad span [%d,%d) in %d runes", s.ID, s.Start, s.End, len(runes))
		}
		if unicode.IsSpace(runes[s.Start]) || unicode.IsSpace(runes[s.End-1]) {
			t.Fatalf("%s: not trimmed: %q", s.ID, string(runes[s.Start:s.End]))
		}
		if s.Line != lineOf(s.Start) || s.EndLine != lineOf(s.End-1) {
			t.Fatalf("%s: lines %d-%d, want %d-%d", s.ID, s.Line, s.EndLine, lineOf(s.Start), lineOf(s.End-1))
		}
		if i > 0 && s.Start < segs[i-1].Start {
			t.Fatalf("%s starts before %s", s.ID, segs[i-1].ID)
		}
		m := segmentIDRe.FindStringSubmatch(s.ID)
		if m == nil {
			t.Fatalf("bad id %q", s.ID)
		}
		switch s.Unit {
		case UnitTurn:
			nTurns++
			if s.Parent != "" || m[3] != "" || m[2] != strconv.Itoa(nTurns) {
				t.Fatalf("turn %s (parent %q) is not turn number %d", s.ID, s.Parent, nTurns)
			}
			if s.Speaker != "" {
				turnsOf[s.Speaker]++
			}
		case UnitParagraph, UnitSentence:
			p, ok := byID[s.Parent]
			if !ok {
				t.Fatalf("%s: parent %q not listed before it", s.ID, s.Parent)
			}
			wantUnit, last := UnitTurn, m[3]
			if s.Unit == UnitSentence {
				wantUnit, last = UnitParagraph, m[4]
			}
			children[s.Parent]++
			if p.Unit != wantUnit || last != strconv.Itoa(children[s.Parent]) || !strings.HasPrefix(s.ID, s.Parent+".") {
				t.Fatalf("%s: parent %s (%s), child number %s", s.ID, p.ID, p.Unit, last)
			}
			if s.Start < p.Start || s.End > p.End {
				t.Fatalf("%s [%d,%d) outside parent %s [%d,%d)", s.ID, s.Start, s.End, p.ID, p.Start, p.End)
			}
			if s.Speaker != p.Speaker || s.Role != p.Role || s.Time != p.Time || s.Date != p.Date {
				t.Fatalf("%s does not inherit from %s", s.ID, p.ID)
			}
		default:
			t.Fatalf("%s: unit %q", s.ID, s.Unit)
		}
		byID[s.ID] = s
	}
	// Children cover every non-space character of their parent.
	covered := map[string][]bool{}
	for _, s := range segs {
		if s.Parent == "" {
			continue
		}
		p := byID[s.Parent]
		c := covered[p.ID]
		if c == nil {
			c = make([]bool, p.End-p.Start)
			covered[p.ID] = c
		}
		for i := s.Start; i < s.End; i++ {
			c[i-p.Start] = true
		}
	}
	for _, s := range segs {
		if s.Unit == UnitSentence {
			continue
		}
		c := covered[s.ID]
		for i := s.Start; i < s.End; i++ {
			if (c == nil || !c[i-s.Start]) && !unicode.IsSpace(runes[i]) {
				t.Fatalf("%s: %q at %d is in no child", s.ID, runes[i], i)
			}
		}
	}
	for _, sp := range speakers {
		if turnsOf[sp.Name] != sp.Turns || sp.Role == "" {
			t.Fatalf("speaker %+v has %d turns", sp, turnsOf[sp.Name])
		}
		delete(turnsOf, sp.Name)
	}
	if len(turnsOf) != 0 {
		t.Fatalf("speakers missing from the list: %v", turnsOf)
	}
}

func FuzzSegments(f *testing.F) {
	for _, text := range turnFixtures(f) {
		f.Add(text, uint8(0))
	}
	f.Add("Dr. A: Mr. B. e.g. x\n\n\nA: y", uint8(1))
	f.Fuzz(func(t *testing.T, text string, k uint8) {
		kinds := []string{KindInterview, KindDiary, KindNotes, KindSurvey, KindFocusGroup}
		kind := kinds[int(k)%len(kinds)]
		segs, speakers := Segments(Document{Text: text}, kind, nil) // must not panic
		if utf8.ValidString(text) {
			checkSegmentInvariants(t, text, segs, speakers)
		}
	})
}

// benchTranscript is about 1 MB of interview transcript: the PDPilot
// interviews repeated when present, else a generated transcript.
func benchTranscript(b *testing.B) string {
	b.Helper()
	var sb strings.Builder
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "corpora", "interviews-pdpilot", "P*.txt"))
	for len(files) > 0 && sb.Len() < 1<<20 {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			sb.Write(data)
			sb.WriteString("\n")
		}
	}
	words := strings.Fields("so I think the main thing was that nobody really asked us what we needed and the rota kept changing every week")
	for i := 0; sb.Len() < 1<<20; i++ {
		who := []string{"Interviewer", "Participant"}[i%2]
		fmt.Fprintf(&sb, "%s: ", who)
		for j := 0; j < 20+i%40; j++ {
			sb.WriteString(words[(i+j)%len(words)])
			if j%9 == 8 {
				sb.WriteString(". ")
			} else {
				sb.WriteString(" ")
			}
		}
		sb.WriteString("e.g. Dr. Smith said so.\n\n")
	}
	return sb.String()
}

func BenchmarkSegments(b *testing.B) {
	text := benchTranscript(b)
	b.SetBytes(int64(len(text)))
	n := 0
	defer reportCPU(b)()
	for b.Loop() {
		segs, _ := Segments(Document{Text: text}, KindInterview, nil)
		n += len(segs)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "segments/s")
}

func TestCPIndex(t *testing.T) {
	texts := []string{"", "plain ascii", strings.Repeat("aé😀中\u0301\n", 200), strings.Repeat("é", 256) + "x"}
	for _, text := range texts {
		idx := newCPIndex(text)
		cp := 0
		for b := range text { // b runs over rune starts
			if got := idx.cp(b); got != cp {
				t.Fatalf("cp(%d) = %d, want %d", b, got, cp)
			}
			if got := idx.byteAt(cp); got != b {
				t.Fatalf("byteAt(%d) = %d, want %d", cp, got, b)
			}
			cp++
		}
		if idx.cp(len(text)) != cp || idx.byteAt(cp) != len(text) || idx.byteAt(cp+10) != len(text) || idx.byteAt(-1) != 0 {
			t.Fatalf("ends: cp(len) %d, byteAt(%d) %d", idx.cp(len(text)), cp, idx.byteAt(cp))
		}
	}
}
