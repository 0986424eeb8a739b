package suggest

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
)

// These tests measure how many of a study's own codes the suggestions
// recover (see eval_test.go for what counts as a match), and fail when the
// figures fall below what was measured when the method was settled, so
// that a change that makes suggestions worse shows.

func logRecall(t *testing.T, name string, codes []codeWords, list []Suggestion, v *vocab) recall {
	t.Helper()
	r := measureRecall(codes, list, 20, v)
	t.Logf("%s recall@20: %s", name, r)
	if testing.Verbose() {
		t.Logf("\n%s", recallReport(codes, list[:min(20, len(list))], r))
	}
	return r
}

func TestRecallExampleStudy(t *testing.T) {
	_, srcs, cb := exampleProject(t)
	an := testAnalyzer(t)
	v := newVocab(an)
	codes := leafCodes(cb, v)
	if len(codes) != 19 {
		t.Fatalf("the example has %d codes, want 19", len(codes))
	}
	floors := map[string][2]int{ // kind -> minimum any, one-to-one
		"general/phrases":  {5, 4},
		"general/clusters": {8, 6},
		"corpus/phrases":   {3, 3},
	}
	for _, ref := range []string{"general", "corpus"} {
		res, err := Suggest(srcs, Options{Analyzer: an, Seed: 1, CorpusReference: ref == "corpus", NoEntities: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []struct {
			kind string
			list []Suggestion
		}{{"phrases", res.Phrases}, {"in-vivo", res.InVivo}, {"clusters", res.Clusters}} {
			r := logRecall(t, ref+"/"+part.kind, codes, part.list, v)
			if part.kind == "clusters" {
				both := append(append([]Suggestion{}, res.Phrases[:min(20, len(res.Phrases))]...), res.Clusters...)
				t.Logf("%s phrases and clusters together (%d): %s", ref, len(both), measureRecall(codes, both, len(both), v))
			}
			if f, ok := floors[ref+"/"+part.kind]; ok && (r.any < f[0] || r.oneToOne < f[1]) {
				t.Errorf("%s/%s: %s; measured at least %d and %d before", ref, part.kind, r, f[0], f[1])
			}
		}
	}
}

// pdpilotDir is the public interview corpus with the researchers' MAXQDA
// code system.
const pdpilotDir = "../../../shared/corpora/interviews-pdpilot"

// pdpilotSources reads the seven transcripts: text extracted from PDFs,
// each turn numbered ("12   Dan: ...") with continuation lines indented.
// The numbers and page headers go; continuation lines join their turn.
func pdpilotSources(t *testing.T) []*corpus.Source {
	t.Helper()
	num := regexp.MustCompile(`^(\d+)\s+(\S.*)$`)
	var srcs []*corpus.Source
	for i := 1; i <= 7; i++ {
		f, err := os.Open(filepath.Join(pdpilotDir, "P"+string(rune('0'+i))+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		var turns []string
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			trimmed := strings.TrimSpace(line)
			switch {
			case trimmed == "" || trimmed == "Interview" || regexp.MustCompile(`^\d+$`).MatchString(trimmed):
			case num.MatchString(line):
				turns = append(turns, num.FindStringSubmatch(line)[2])
			case len(turns) > 0:
				turns[len(turns)-1] += " " + trimmed
			}
		}
		f.Close()
		text := strings.Join(turns, "\n\n") + "\n"
		segs, speakers := corpus.Segments(corpus.Document{Text: text}, corpus.KindInterview,
			map[string]string{"dan": corpus.RoleInterviewer, "participant": corpus.RoleParticipant, "particpant": corpus.RoleParticipant})
		id := "p" + string(rune('0'+i))
		srcs = append(srcs, &corpus.Source{ID: id, Kind: corpus.KindInterview, Case: strings.ToUpper(id), Number: i,
			Text: text, Segments: segs, Speakers: speakers})
	}
	return srcs
}

// pdpilotCodes reads the leaf codes of the MAXQDA code system: a code is a
// line whose next line is not indented deeper; its name is the text before
// the memo column. "Anonymize", a code for de-identification, is left out.
func pdpilotCodes(t *testing.T, v *vocab) []codeWords {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pdpilotDir, "code-system.txt"))
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		indent int
		name   string
	}
	var lines []line
	for _, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "Code System") {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		rest := strings.TrimLeft(l, " ")
		if i := strings.Index(rest, "   "); i >= 0 {
			rest = rest[:i]
		}
		lines = append(lines, line{indent, strings.TrimSpace(rest)})
	}
	var codes []codeWords
	for i, l := range lines {
		if i+1 < len(lines) && lines[i+1].indent > l.indent {
			continue
		}
		if l.name == "Anonymize" {
			continue
		}
		cw := codeWords{id: l.name, name: l.name, terms: map[string]bool{}}
		for _, term := range contentTerms(l.name, v) {
			cw.terms[term] = true
		}
		codes = append(codes, cw)
	}
	return codes
}

func TestRecallPDPilot(t *testing.T) {
	if _, err := os.Stat(pdpilotDir); err != nil {
		t.Skipf("%s not found (shared corpora are checked out beside the repository): %v", pdpilotDir, err)
	}
	srcs := pdpilotSources(t)
	an := testAnalyzer(t)
	v := newVocab(an)
	codes := pdpilotCodes(t, v)
	t.Logf("%d leaf codes", len(codes))
	if len(codes) < 70 {
		t.Fatalf("read %d codes from the code system", len(codes))
	}
	res, err := Suggest(srcs, Options{Analyzer: an, Seed: 1, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cases != 7 || res.Words < 15000 {
		t.Fatalf("read %d cases, %d words", res.Cases, res.Words)
	}
	for _, part := range []struct {
		kind  string
		list  []Suggestion
		floor int
	}{{"phrases", res.Phrases, 10}, {"in-vivo", res.InVivo, 0}, {"clusters", res.Clusters, 10}} {
		r := logRecall(t, "pdpilot/"+part.kind, codes, part.list, v)
		if r.oneToOne < part.floor {
			t.Errorf("%s: %s; measured at least %d one-to-one before", part.kind, r, part.floor)
		}
	}
}
