package corpus

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

var updateTurnGoldens = flag.Bool("update-turns", false, "rewrite testdata/turns/*.json from DetectTurns (review the diff!)")

// goldenTurn is a turn as stored in testdata/turns/*.json: with its text, so
// a reviewer can read what each turn holds.
type goldenTurn struct {
	Speaker string `json:"speaker"`
	Time    string `json:"time,omitempty"`
	Date    string `json:"date,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
}

// turnFixtureKind is the source kind a fixture is read as, from its name.
func turnFixtureKind(name string) string {
	switch {
	case strings.HasPrefix(name, "diary_"):
		return KindDiary
	case strings.HasPrefix(name, "notes_"):
		return KindNotes
	case strings.HasPrefix(name, "focus_"):
		return KindFocusGroup
	}
	return KindInterview
}

// turnFixtures returns the texts of testdata/turns/*.txt by base name.
func turnFixtures(t testing.TB) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "turns", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/turns (%v)", err)
	}
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), ".txt")] = string(b)
	}
	return out
}

// runeSpan returns text[s:e] with s and e in code points.
func runeSpan(text string, s, e int) string {
	r := []rune(text)
	if s < 0 || e > len(r) || s > e {
		return "<out of range>"
	}
	return string(r[s:e])
}

func TestDetectTurnsGolden(t *testing.T) {
	for name, text := range turnFixtures(t) {
		t.Run(name, func(t *testing.T) {
			var got []goldenTurn
			for _, tu := range DetectTurns(text, turnFixtureKind(name)) {
				got = append(got, goldenTurn{tu.Speaker, tu.Time, tu.Date, tu.Start, tu.End, runeSpan(text, tu.Start, tu.End)})
			}
			path := filepath.Join("testdata", "turns", name+".json")
			if *updateTurnGoldens {
				b, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestDetectTurnsGolden -update-turns and review the file)", err)
			}
			var want []goldenTurn
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", "  ")
				t.Errorf("turns differ from %s; got:\n%s", path, gb)
			}
		})
	}
}

// wantTurn is an expected turn in the table tests: who, when, and the
// exact text.
type wantTurn struct{ speaker, time, text string }

func checkTurns(t *testing.T, text string, got []Turn, want []wantTurn) {
	t.Helper()
	var g []wantTurn
	for _, tu := range got {
		g = append(g, wantTurn{tu.Speaker, tu.Time, runeSpan(text, tu.Start, tu.End)})
	}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("text:\n%s\ngot  %q\nwant %q", text, g, want)
	}
}

func TestDetectTurnsLabelStyles(t *testing.T) {
	tests := []struct {
		name, text string
		want       []wantTurn
	}{
		{"name colon", "Ann: Hello there.\nBo: Hi.\nAnn: Bye.\nBo: Bye then.",
			[]wantTurn{{"Ann", "", "Hello there."}, {"Bo", "", "Hi."}, {"Ann", "", "Bye."}, {"Bo", "", "Bye then."}}},
		{"a name used once is no speaker", "Ann: Hello there.\nBo: Hi.\nAnn: Bye.",
			[]wantTurn{{"Ann", "", "Hello there.\nBo: Hi."}, {"Ann", "", "Bye."}}},
		{"first last, multi-line turn", "Jane Smith: One\ntwo\n\nthree\nBob Li: Four\nJane Smith: Five\nBob Li: Six",
			[]wantTurn{{"Jane Smith", "", "One\ntwo\n\nthree"}, {"Bob Li", "", "Four"}, {"Jane Smith", "", "Five"}, {"Bob Li", "", "Six"}}},
		{"role letters used once each", "I: Why?\nP: Because.",
			[]wantTurn{{"I", "", "Why?"}, {"P", "", "Because."}}},
		{"Int and Q/A", "Int: First question.\nA: Yes.\nInt: Second.\nA: No.",
			[]wantTurn{{"Int", "", "First question."}, {"A", "", "Yes."}, {"Int", "", "Second."}, {"A", "", "No."}}},
		{"label alone on its line", "INTERVIEWER:\nWhat happened next?\nRESPONDENT:\nWe left.",
			[]wantTurn{{"INTERVIEWER", "", "What happened next?"}, {"RESPONDENT", "", "We left."}}},
		{"names match case-insensitively, first spelling kept", "Dan: a\nDAN: b\nx: c\nX: d",
			[]wantTurn{{"Dan", "", "a"}, {"Dan", "", "b"}, {"x", "", "c"}, {"x", "", "d"}}},
		{"spaces inside a name collapse", "Mary  Jones: a\nMary Jones: b",
			[]wantTurn{{"Mary Jones", "", "a"}, {"Mary Jones", "", "b"}}},
		{"title and initial in names", "Dr. Rao: a\nJ. Smith: b\nDr. Rao: c\nJ. Smith: d",
			[]wantTurn{{"Dr. Rao", "", "a"}, {"J. Smith", "", "b"}, {"Dr. Rao", "", "c"}, {"J. Smith", "", "d"}}},
		{"name particle", "Anna van Dijk: a\nLeo: b\nAnna van Dijk: c\nLeo: d",
			[]wantTurn{{"Anna van Dijk", "", "a"}, {"Leo", "", "b"}, {"Anna van Dijk", "", "c"}, {"Leo", "", "d"}}},
		{"bracketed time first", "[00:01:02] Ann: a\n[00:01:09] Bo: b\n[1:02:03.5] Ann: c\n[1:02:04] Bo: d",
			[]wantTurn{{"Ann", "00:01:02", "a"}, {"Bo", "00:01:09", "b"}, {"Ann", "1:02:03.5", "c"}, {"Bo", "1:02:04", "d"}}},
		{"bare and parenthesised time first", "00:01 Ann: a\n(00:02) Bo: b\n00:03 Ann: c\n(00:04) Bo: d",
			[]wantTurn{{"Ann", "00:01", "a"}, {"Bo", "00:02", "b"}, {"Ann", "00:03", "c"}, {"Bo", "00:04", "d"}}},
		{"time after name", "Ann (00:01:02): a\nBo [00:01:05]: b\nAnn (0:01:10): c\nBo [00:01:15]: d",
			[]wantTurn{{"Ann", "00:01:02", "a"}, {"Bo", "00:01:05", "b"}, {"Ann", "0:01:10", "c"}, {"Bo", "00:01:15", "d"}}},
		{"time after the colon", "Ann: [00:01:02] a\nBo: (00:01:05)\nb\nAnn: [0:01:10] c [0:01:11]\nBo: d",
			[]wantTurn{{"Ann", "00:01:02", "a"}, {"Bo", "00:01:05", "b"}, {"Ann", "0:01:10", "c [0:01:11]"}, {"Bo", "", "d"}}},
		{"two timestamps make no label", "[00:01] Ann (00:02): a\n[00:03] Ann (00:04): b",
			[]wantTurn{{"", "", "[00:01] Ann (00:02): a\n[00:03] Ann (00:04): b"}}},
		{"otter, two spaces", "Ann Lee  00:12\nHello.\n\nBo  00:15\nHi.\n\nAnn Lee  00:20\nSo.\nBo  1:00:15\nYes.",
			[]wantTurn{{"Ann Lee", "00:12", "Hello."}, {"Bo", "00:15", "Hi."}, {"Ann Lee", "00:20", "So."}, {"Bo", "1:00:15", "Yes."}}},
		{"P2 0:25 alone", "P1 0:00\nFirst.\nP2 0:25\nSecond.\nP1 1:02\nThird.",
			[]wantTurn{{"P1", "0:00", "First."}, {"P2", "0:25", "Second."}, {"P1", "1:02", "Third."}}},
		{"lower-case roles", "interviewer: so\ninterviewee: well",
			[]wantTurn{{"interviewer", "", "so"}, {"interviewee", "", "well"}}},
		{"numbered roles", "Participant 3: a\nModerator: b\nFacilitator 2: c\nRespondent: d\nResearcher: e\nP12: f\nR2: g",
			[]wantTurn{{"Participant 3", "", "a"}, {"Moderator", "", "b"}, {"Facilitator 2", "", "c"}, {"Respondent", "", "d"}, {"Researcher", "", "e"}, {"P12", "", "f"}, {"R2", "", "g"}}},
		{"own subtitle reader's form", "[00:00:01] Speaker 1: Hi all.\n[00:00:04] Speaker 2: Hello.\n[00:00:06] Speaker 1: Let's start.\n[00:00:09] Speaker 2: Ok.",
			[]wantTurn{{"Speaker 1", "00:00:01", "Hi all."}, {"Speaker 2", "00:00:04", "Hello."}, {"Speaker 1", "00:00:06", "Let's start."}, {"Speaker 2", "00:00:09", "Ok."}}},
		{"bracketed ids", "[id1] a\n[id2] b\n[id1]: c\n[ID2] d",
			[]wantTurn{{"id1", "", "a"}, {"id2", "", "b"}, {"id1", "", "c"}, {"id2", "", "d"}}},
		{"line numbers before labels", "1  Ann: a\n   more\n2  Bo: b\n3\tAnn: c\n4  Bo: d",
			[]wantTurn{{"Ann", "", "a\n   more"}, {"Bo", "", "b"}, {"Ann", "", "c"}, {"Bo", "", "d"}}},
		{"markdown bold", "**Ann:** a\n**Bo**: b\n__Ann:__ c\n**Bo:** d",
			[]wantTurn{{"Ann", "", "a"}, {"Bo", "", "b"}, {"Ann", "", "c"}, {"Bo", "", "d"}}},
		{"consecutive turns of one speaker stay separate", "Ann: a\nAnn: b\nI: c",
			[]wantTurn{{"Ann", "", "a"}, {"Ann", "", "b"}, {"I", "", "c"}}},
		{"header is a turn without speaker", "Interview 3\nSite B\n\nI: a\nP: b",
			[]wantTurn{{"", "", "Interview 3\nSite B"}, {"I", "", "a"}, {"P", "", "b"}}},
		{"label with nothing said is dropped", "Ann: a\nBo:\nAnn: b\nBo: c",
			[]wantTurn{{"Ann", "", "a"}, {"Ann", "", "b"}, {"Bo", "", "c"}}},
		{"once-used name in the common style joins a group", "Ann: a\nBo: b\nCy: c\nAnn: d\nBo: e",
			[]wantTurn{{"Ann", "", "a"}, {"Bo", "", "b"}, {"Cy", "", "c"}, {"Ann", "", "d"}, {"Bo", "", "e"}}},
		{"once-used name in another style does not", "Ann: a\nBo: b\n   Cy: c\nAnn: d\nBo: e",
			[]wantTurn{{"Ann", "", "a"}, {"Bo", "", "b\n   Cy: c"}, {"Ann", "", "d"}, {"Bo", "", "e"}}},
		{"once-used lower-case word does not", "Ann: a\nBo: b\nwell: c\nAnn: d\nBo: e",
			[]wantTurn{{"Ann", "", "a"}, {"Bo", "", "b\nwell: c"}, {"Ann", "", "d"}, {"Bo", "", "e"}}},
		{"once-used labels above the first repeated one are header", "Interviewer: KM\nParticipant: P7\n\nI: a\nP: b\nI: c\nP: d",
			[]wantTurn{{"", "", "Interviewer: KM\nParticipant: P7"}, {"I", "", "a"}, {"P", "", "b"}, {"I", "", "c"}, {"P", "", "d"}}},
		{"multi-byte names and text", "Zoë: café ☕\nJosé: ¡sí! 😀\nZoë: ok\nJOSÉ: 👍🏽",
			[]wantTurn{{"Zoë", "", "café ☕"}, {"José", "", "¡sí! 😀"}, {"Zoë", "", "ok"}, {"José", "", "👍🏽"}}},
		{"indented labels", "  Ann: a\n  Bo: b\n  Ann: c\n  Bo: d",
			[]wantTurn{{"Ann", "", "a"}, {"Bo", "", "b"}, {"Ann", "", "c"}, {"Bo", "", "d"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkTurns(t, tc.text, DetectTurns(tc.text, KindInterview), tc.want)
		})
	}
}

func TestDetectTurnsProseIsNotLabelled(t *testing.T) {
	texts := []string{
		"Note: the room was cold.\nWe left early.",
		"Note: one.\nNote: two.\nThe end.",
		"The main issue was this: nobody asked.\nThe main issue was this: nobody asked.",
		"See http://example.org/a for more\nhttp://example.org/b\nhttps://example.org/c",
		"[laughs] ok\n[laughs] again\n[inaudible] yes",
		"[00:00:01] hello\n[00:00:02] again",
		"However, one thing: x\nHowever, one thing: y",
		"so my point: fine\nso my point: fine",
		"Meeting at 10:30\nthen lunch",
		"Date: 3 March\nDate: 4 March\nLocation: hall",
		"Why not? Maybe: yes\nWhy not? Maybe: no",
		"She said: \"go\".\nShe said: \"stop\".",
		"Time: 10:00\nTime: 11:00",
		"A list of eleven words that goes on: and on\nA list of eleven words that goes on: and on",
		"10:30: started\n11:45: finished",
	}
	for _, text := range texts {
		got := DetectTurns(text, KindInterview)
		want := []wantTurn{{"", "", strings.TrimSpace(text)}}
		checkTurns(t, text, got, want)
	}
}

func TestDetectTurnsEmpty(t *testing.T) {
	for _, kind := range []string{KindInterview, KindDiary, KindNotes} {
		for _, text := range []string{"", "   ", "\n\n\t\n"} {
			if got := DetectTurns(text, kind); len(got) != 0 {
				t.Errorf("DetectTurns(%q, %s) = %v, want none", text, kind, got)
			}
		}
	}
}

func TestDiaryDateLines(t *testing.T) {
	tests := []struct {
		line  string
		entry bool   // the line starts an entry (and is not part of it)
		date  string // Turn.Date
		time  string
	}{
		{"2025-03-04", true, "2025-03-04", ""},
		{"## 1660-01-01", true, "1660-01-01", ""},
		{"Monday 3 March 2025", true, "2025-03-03", ""},
		{"3 March 2025", true, "2025-03-03", ""},
		{"3rd of March, 2025", true, "2025-03-03", ""},
		{"March 3, 2025", true, "2025-03-03", ""},
		{"Mar. 3rd 2025:", true, "2025-03-03", ""},
		{"Tue 4 Mar", true, "", ""},
		{"Tuesday, 4 March", true, "", ""},
		{"# Week 2 – 12/03/2025", true, "2025-03-12", ""},
		{"Week 2 – 12/03/2025", true, "2025-03-12", ""},
		{"Entry 12 - 1 April 2025", true, "2025-04-01", ""},
		{"12.03.2025", true, "2025-03-12", ""},
		{"12/03/25", true, "2025-03-12", ""},
		{"29 February 2024", true, "2024-02-29", ""},
		{"**4 March 2025**", true, "2025-03-04", ""},
		{"2025-03-04, 9:05 pm", true, "2025-03-04", "9:05 pm"},
		{"4 March 2025 at 18:30", true, "2025-03-04", "18:30"},
		{"6 March 2025 (Thursday)", true, "2025-03-06", ""},
		{"### Notes from 7 May 2024 onwards", true, "2024-05-07", ""},
		{"Friday 29 February 2025", false, "", ""},
		{"31/04/2025", false, "", ""},
		{"2025-13-01", false, "", ""},
		{"We met on 3 March 2025.", false, "", ""},
		{"March 3, 2025 was a Monday.", false, "", ""},
		{"May I say something?", false, "", ""},
		{"The 12/03/2025 meeting", false, "", ""},
	}
	for _, tc := range tests {
		text := "Before.\n" + tc.line + "\nBody text.\n"
		got := DetectTurns(text, KindDiary)
		var want []wantTurn
		if tc.entry {
			want = []wantTurn{{"", "", "Before."}, {"", tc.time, "Body text."}}
		} else {
			want = []wantTurn{{"", "", strings.TrimSpace(text)}}
		}
		checkTurns(t, text, got, want)
		if tc.entry && len(got) == 2 && got[1].Date != tc.date {
			t.Errorf("%q: date %q, want %q", tc.line, got[1].Date, tc.date)
		}
	}
}

func TestDiaryEntries(t *testing.T) {
	type entry struct{ date, text string }
	tests := []struct {
		name, text string
		want       []entry
	}{
		{"text after the date on its line", "2025-03-05: Better today.\nWalked.\n3 March 2025 – Short one.",
			[]entry{{"2025-03-05", "Better today.\nWalked."}, {"2025-03-03", "Short one."}}},
		{"month first when a day exceeds 12", "03/12/2025\na\n03/14/2025\nb",
			[]entry{{"2025-03-12", "a"}, {"2025-03-14", "b"}}},
		{"day first when a day exceeds 12", "03/12/2025\na\n14/03/2025\nb",
			[]entry{{"2025-12-03", "a"}, {"2025-03-14", "b"}}},
		{"day first when nothing tells", "03/12/2025\na\n04/12/2025\nb",
			[]entry{{"2025-12-03", "a"}, {"2025-12-04", "b"}}},
		{"dated headings: plain date lines stay inside", "## 2024-04-01\nApril 1st. Rain.\n\nApril 2nd\nstill inside\n## 2024-04-03\nb",
			[]entry{{"2024-04-01", "April 1st. Rain.\n\nApril 2nd\nstill inside"}, {"2024-04-03", "b"}}},
		{"undated heading of the same level is an entry", "# April\n\n## entry-1\nsummary\n## 2024-04-01\na\n### Aside\nb",
			[]entry{{"", "summary"}, {"2024-04-01", "a\n### Aside\nb"}}},
		{"plain date lines: headings stay inside", "2024-04-01\na\n## Aside\nb\n2024-04-02\nc",
			[]entry{{"2024-04-01", "a\n## Aside\nb"}, {"2024-04-02", "c"}}},
		{"no dates: one entry per heading", "pre\n# One\na\n## Two\nb",
			[]entry{{"", "pre"}, {"", "a"}, {"", "b"}}},
		{"no dates, no headings: one entry", "just\n\nwords",
			[]entry{{"", "just\n\nwords"}}},
		{"empty entries dropped", "2025-01-01\n\n2025-01-02\nx\n2025-01-03\n",
			[]entry{{"2025-01-02", "x"}}},
		{"speaker labels are not looked for", "2025-01-01\nAnn: a\nBo: b",
			[]entry{{"2025-01-01", "Ann: a\nBo: b"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []entry
			for _, tu := range DetectTurns(tc.text, KindDiary) {
				if tu.Speaker != "" {
					t.Errorf("diary entry with speaker %q", tu.Speaker)
				}
				got = append(got, entry{tu.Date, runeSpan(tc.text, tu.Start, tu.End)})
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestRoleOf(t *testing.T) {
	overrides := map[string]string{"Dan": RoleInterviewer, " mary  jones ": RoleOther, "P": RoleOther}
	tests := []struct{ name, want string }{
		{"I", RoleInterviewer}, {"Int", RoleInterviewer}, {"interviewer", RoleInterviewer},
		{"INTERVIEWER", RoleInterviewer}, {"Interviewer 2", RoleInterviewer}, {"I2", RoleInterviewer},
		{"Moderator", RoleInterviewer}, {"Facilitator", RoleInterviewer}, {"Researcher", RoleInterviewer},
		{"Q", RoleInterviewer},
		{"R", RoleParticipant}, {"Participant", RoleParticipant}, {"Participant 3", RoleParticipant},
		{"P3", RoleParticipant}, {"Interviewee", RoleParticipant}, {"Respondent", RoleParticipant},
		{"Tom", RoleParticipant}, {"Interviewers", RoleParticipant}, {"Ian", RoleParticipant},
		{"", RoleOther},
		// overrides win, matched case-insensitively
		{"Dan", RoleInterviewer}, {"DAN", RoleInterviewer}, {"Mary Jones", RoleOther}, {"p", RoleOther},
	}
	for _, tc := range tests {
		if got := RoleOf(tc.name, overrides); got != tc.want {
			t.Errorf("RoleOf(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got := RoleOf("Dan", nil); got != RoleParticipant {
		t.Errorf("RoleOf(Dan, nil) = %q, want participant", got)
	}
}

// sharedCorpusOrSkip returns the path of a public test corpus, or skips the test.
func sharedCorpusOrSkip(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{"..", "..", "shared", "corpora"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared corpus %s not present: %v", p, err)
	}
	return p
}

func TestDetectTurnsPDPilot(t *testing.T) {
	dir := sharedCorpusOrSkip(t, "interviews-pdpilot")
	// Label counts checked with grep -cE '^[0-9]+ +Dan:' (and Participant:).
	want := map[string][3]int{ // Dan, Participant, Particpant (a typo in P5)
		"P1.txt": {44, 47, 0}, "P2.txt": {78, 81, 0}, "P3.txt": {59, 59, 0}, "P4.txt": {53, 53, 0},
		"P5.txt": {66, 65, 1}, "P6.txt": {49, 49, 0}, "P7.txt": {51, 51, 0},
	}
	swallowed := regexp.MustCompile(`\n\d+ +(Dan|Participant):`)
	for file, w := range want {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		turns := DetectTurns(text, KindInterview)
		counts := map[string]int{}
		for i, tu := range turns {
			counts[tu.Speaker]++
			body := runeSpan(text, tu.Start, tu.End)
			if swallowed.MatchString(body) {
				t.Errorf("%s turn %d holds another turn's label: %.80q", file, i+1, body)
			}
			if i == 0 && (tu.Speaker != "" || body != "1\n     Interview") {
				t.Errorf("%s: first turn is %q %q, want the header", file, tu.Speaker, body)
			}
		}
		got := [3]int{counts["Dan"], counts["Participant"], counts["Particpant"]}
		if got != w || len(turns) != w[0]+w[1]+w[2]+1 {
			t.Errorf("%s: %d turns, Dan/Participant/Particpant = %v, want %v + header", file, len(turns), got, w)
		}
	}
}

func TestDetectTurnsPepys(t *testing.T) {
	dir := sharedCorpusOrSkip(t, "diary-pepys")
	files, _ := filepath.Glob(filepath.Join(dir, "pepys_*.txt"))
	if len(files) == 0 {
		t.Skip("no pepys_*.txt files")
	}
	dateHeading := regexp.MustCompile(`^## (\d{4}-\d{2}-\d{2})$`)
	total := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		// Every "## " heading is an entry: dated ones carry their date,
		// "## entry-1" (a summary before the first dated entry) none.
		var want []string
		for _, line := range strings.Split(text, "\n") {
			if m := dateHeading.FindStringSubmatch(line); m != nil {
				want = append(want, m[1])
			} else if strings.HasPrefix(line, "## ") {
				want = append(want, "")
			}
		}
		var got []string
		for _, tu := range DetectTurns(text, KindDiary) {
			got = append(got, tu.Date)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %d entries, want %d (dates %v..., want %v...)", filepath.Base(f), len(got), len(want), firstFew(got), firstFew(want))
		}
		total += len(got)
	}
	if len(files) == 113 && total != 3415 {
		t.Errorf("%d entries in all, want 3415 (3413 dated headings + 2 summaries, by grep)", total)
	}
}

func firstFew(s []string) []string { return s[:min(len(s), 3)] }

func TestDetectTurnsQualCoder(t *testing.T) {
	p := filepath.Join(sharedCorpusOrSkip(t, "qualcoder-examples"), "transcript.txt")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	var got []string
	for _, tu := range DetectTurns(text, KindInterview) {
		got = append(got, tu.Speaker)
		if body := runeSpan(text, tu.Start, tu.End); strings.HasPrefix(body, "[") {
			t.Errorf("turn text keeps its label: %.40q", body)
		}
	}
	want := []string{"id1", "id2", "id3", "id1", "id3", "id1", "id2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("speakers %v, want %v", got, want)
	}
}

var isoDateOnly = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$`)

// checkTurnInvariants checks what holds for every result of DetectTurns on
// valid UTF-8: turns in order, disjoint, non-empty, trimmed, in range.
func checkTurnInvariants(t *testing.T, text string, turns []Turn) {
	t.Helper()
	runes := []rune(text)
	prev := 0
	for i, tu := range turns {
		if tu.Start < prev || tu.End <= tu.Start || tu.End > len(runes) {
			t.Fatalf("turn %d [%d,%d) after %d in %d runes", i, tu.Start, tu.End, prev, len(runes))
		}
		if unicode.IsSpace(runes[tu.Start]) || unicode.IsSpace(runes[tu.End-1]) {
			t.Fatalf("turn %d not trimmed: %q", i, string(runes[tu.Start:tu.End]))
		}
		if tu.Date != "" && !isoDateOnly.MatchString(tu.Date) {
			t.Fatalf("turn %d date %q", i, tu.Date)
		}
		if tu.Time != "" && !regexp.MustCompile(`^`+timestampPattern).MatchString(tu.Time) {
			t.Fatalf("turn %d time %q", i, tu.Time)
		}
		if strings.TrimSpace(tu.Speaker) != tu.Speaker || strings.Contains(tu.Speaker, "\n") {
			t.Fatalf("turn %d speaker %q", i, tu.Speaker)
		}
		prev = tu.End
	}
}

func FuzzDetectTurns(f *testing.F) {
	for _, text := range turnFixtures(f) {
		f.Add(text, false)
		f.Add(text, true)
	}
	f.Fuzz(func(t *testing.T, text string, diary bool) {
		kind := KindInterview
		if diary {
			kind = KindDiary
		}
		turns := DetectTurns(text, kind) // must not panic, whatever the input
		if utf8.ValidString(text) {
			checkTurnInvariants(t, text, turns)
		}
	})
}

func BenchmarkDetectTurns(b *testing.B) {
	text := benchTranscript(b)
	b.SetBytes(int64(len(text)))
	defer reportCPU(b)()
	for b.Loop() {
		DetectTurns(text, KindInterview)
	}
}

func TestDetectTurnsQMSum(t *testing.T) {
	dir := sharedCorpusOrSkip(t, "meetings-qmsum", "data", "ALL")
	// The test split, and the training meetings where someone speaks once.
	files, _ := filepath.Glob(filepath.Join(dir, "test", "*.json"))
	for _, name := range []string{"Bed009", "Bmr019", "Bro008", "education_1", "education_12", "education_16", "education_2", "education_23"} {
		files = append(files, filepath.Join(dir, "train", name+".json"))
	}
	// Meetings whose speakers are plain names ("PhD A", "Project Manager",
	// "Lynne Neagle AM") are written out as "Name: what was said" lines;
	// DetectTurns must give back the same speakers in the same order,
	// including the few who speak once (PhD G in Bed009, Rob Orford in
	// education_2).
	plainName := regexp.MustCompile(`^\p{Lu}[\pL-]*( \p{Lu}[\pL-]*){0,3}$`)
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Turns []struct{ Speaker, Content string } `json:"meeting_transcripts"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var sb strings.Builder
		var want []string
		ok := true
		for _, tu := range m.Turns {
			content := strings.Join(strings.Fields(tu.Content), " ")
			if content == "" {
				continue
			}
			if !plainName.MatchString(tu.Speaker) || labelStopWords[strings.ToLower(tu.Speaker)] {
				ok = false
				break
			}
			want = append(want, tu.Speaker)
			sb.WriteString(tu.Speaker + ": " + content + "\n")
		}
		if !ok || len(want) < 10 {
			continue
		}
		var got []string
		for _, tu := range DetectTurns(sb.String(), KindFocusGroup) {
			got = append(got, tu.Speaker)
		}
		if !reflect.DeepEqual(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: %d turns, want %d; first difference at turn %d: got %v, want %v",
				filepath.Base(f), len(got), len(want), i+1, got[i:min(i+3, len(got))], want[i:min(i+3, len(want))])
		}
		checked++
	}
	if checked < 40 {
		t.Errorf("only %d meetings checked", checked)
	}
	t.Logf("%d meetings checked", checked)
}
