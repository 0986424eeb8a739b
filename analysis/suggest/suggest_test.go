package suggest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// toyInterviews: three participants in three waves. Each mentions the
// compost heap once; only P01 talks about her ukulele, six times. The interviewer keeps
// saying "tractor", which is not the participants' word. P02 and P03 find
// things out by trial and error.
func toyInterviews() []*corpus.Source {
	var srcs []*corpus.Source
	n := 0
	for _, c := range []string{"P01", "P02", "P03"} {
		for wave := 1; wave <= 3; wave++ {
			var b strings.Builder
			b.WriteString("I: Tell me about the tractor. Was the tractor there?\n\n")
			if wave == 1 {
				b.WriteString("P: We turned the compost heap on the first visit. It was warm.\n\n")
			}
			b.WriteString("I: And the tractor again?\n\n")
			if c == "P01" {
				b.WriteString("P: I played my ukulele. My ukulele stays in the shed.\n\n")
			}
			if c != "P01" && wave < 3 {
				b.WriteString([]string{"P: Mostly trial and error, honestly.", "P: Trial and error! Maureen helped."}[wave-1] + "\n\n")
			}
			n++
			srcs = append(srcs, toySource(fmt.Sprintf("%s-w%d", strings.ToLower(c), wave), corpus.KindInterview, c, n, b.String()))
		}
	}
	return srcs
}

func labels(ss []Suggestion) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Label
	}
	return out
}

func find(ss []Suggestion, label string) (int, *Suggestion) {
	for i := range ss {
		if ss[i].Label == label {
			return i, &ss[i]
		}
	}
	return -1, nil
}

func TestSuggestSpreadRolesAndExtracts(t *testing.T) {
	srcs := toyInterviews()
	res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Clusters: -1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Cases != 3 || res.Sources != 7 {
		t.Errorf("read %d cases, %d sources; want 3, 7", res.Cases, res.Sources)
	}
	ci, compost := find(res.Phrases, "compost heap")
	if compost == nil {
		ci, compost = find(res.Phrases, "compost")
	}
	ui, uke := find(res.Phrases, "ukulele")
	if compost == nil || uke == nil {
		t.Fatalf("phrases %v: want compost (heap) and ukulele", labels(res.Phrases))
	}
	// The ukulele is more key (6 uses, none in general English), but one
	// person's; the compost heap is everyone's and comes first.
	if !(uke.Keyness > compost.Keyness) || !(ci < ui) {
		t.Errorf("compost #%d keyness %.2f score %.2f; ukulele #%d keyness %.2f score %.2f",
			ci, compost.Keyness, compost.Score, ui, uke.Keyness, uke.Score)
	}
	if !slices.Equal(compost.Cases, []string{"P01", "P02", "P03"}) || !slices.Equal(compost.Sources, []string{"p01-w1", "p02-w1", "p03-w1"}) {
		t.Errorf("compost cases %v sources %v", compost.Cases, compost.Sources)
	}
	if !slices.Equal(uke.Cases, []string{"P01"}) || uke.Count != 6 {
		t.Errorf("ukulele cases %v count %d", uke.Cases, uke.Count)
	}
	// The interviewer's word is not read.
	for _, l := range [][]Suggestion{res.Phrases, res.InVivo} {
		for _, s := range l {
			if strings.Contains(s.Label, "tractor") {
				t.Errorf("%s %q: the interviewer's word", s.Kind, s.Label)
			}
		}
	}
	// An expression that is not a noun phrase is in-vivo.
	if _, iv := find(res.InVivo, "trial and error"); iv == nil {
		t.Errorf("in-vivo %v: want trial and error", labels(res.InVivo))
	} else if !slices.Equal(iv.Cases, []string{"P02", "P03"}) || iv.Count != 4 {
		t.Errorf("trial and error: cases %v count %d", iv.Cases, iv.Count)
	}
	// Extracts: the first sentence of each case first, each one the
	// source's text at its offsets, with its citation.
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	for _, s := range append(append([]Suggestion{}, res.Phrases...), res.InVivo...) {
		if len(s.Extracts) == 0 || len(s.Extracts) > DefaultExtracts {
			t.Errorf("%q: %d extracts", s.Label, len(s.Extracts))
		}
		for _, x := range s.Extracts {
			src := byID[x.Source]
			if got := string([]rune(src.Text)[x.Start:x.End]); got != x.Text {
				t.Errorf("%q: extract %q is %q in the source", s.Label, x.Text, got)
			}
			if x.Citation != fmt.Sprintf("(Interview %d)", src.Number) {
				t.Errorf("citation %q", x.Citation)
			}
		}
	}
	var cases []string
	for _, x := range compost.Extracts[:3] {
		cases = append(cases, x.Case)
	}
	if !slices.Equal(cases, []string{"P01", "P02", "P03"}) {
		t.Errorf("compost's first extracts come from %v; want one per case first", cases)
	}
	if _, m := find(res.Entities, "Maureen"); m == nil {
		t.Errorf("entities %v: want Maureen", labels(res.Entities))
	}
}

func TestSuggestUncodedLeavesOutCodedText(t *testing.T) {
	srcs := toyInterviews()
	var codings []analysis.Coding
	for _, src := range srcs {
		rs := []rune(src.Text)
		i := strings.Index(src.Text, "I played my ukulele")
		if i < 0 {
			continue
		}
		start := len([]rune(src.Text[:i]))
		codings = append(codings, analysis.Coding{Source: src.ID, Start: start, End: start + 5, Code: "music"})
		_ = rs
	}
	res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Codings: codings, Uncoded: true, Clusters: -1, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	// The first sentence of P01's ukulele turn is coded; the second
	// ("My ukulele stays in the shed.") is not: 3 uses left, still listed.
	_, uke := find(res.Phrases, "ukulele")
	if uke == nil || uke.Count != 3 {
		t.Fatalf("ukulele %+v in %v; want 3 uncoded uses", uke, labels(res.Phrases))
	}
	for _, x := range uke.Extracts {
		if strings.Contains(x.Text, "played") {
			t.Errorf("extract %q is coded", x.Text)
		}
	}
	// Orphaned codings do not count as coding.
	for i := range codings {
		codings[i].Orphan = true
	}
	res, err = Suggest(srcs, Options{Analyzer: testAnalyzer(t), Codings: codings, Uncoded: true, Clusters: -1, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, uke = find(res.Phrases, "ukulele"); uke == nil || uke.Count != 6 {
		t.Errorf("with orphaned codings: ukulele %+v", uke)
	}
}

// twoTopics: six diaries whose paragraphs are about bees or about buses,
// never both.
func twoTopics() (srcs []*corpus.Source, bees, buses int) {
	beeParas := []string{
		"The bees were calm in the hive today. We lifted two frames of honey.",
		"A swarm left the hive at noon. The queen went with the bees.",
		"Honey from the frames, and wax on my hands. The bees make the hive smell sweet.",
		"Checked the queen and the brood frames in the hive. The bees are busy on the lavender.",
	}
	busParas := []string{
		"The bus was late again. The driver said the route has changed.",
		"I lost my bus ticket. The driver let me ride to the depot anyway.",
		"New timetable for the route. The fare went up and the bus is full.",
		"Waited at the depot for the night bus. The driver checked every ticket.",
	}
	for i := 0; i < 6; i++ {
		var b strings.Builder
		for k := 0; k < 2; k++ {
			fmt.Fprintf(&b, "## 2025-05-%02d\n\n%s\n\n%s\n\n", 2*i+k+1, beeParas[(i+k)%4], busParas[(i+2*k)%4])
			bees++
			buses++
		}
		srcs = append(srcs, toySource(fmt.Sprintf("d%d", i+1), corpus.KindDiary, fmt.Sprintf("P%02d", i+1), i+1, b.String()))
	}
	return srcs, bees, buses
}

func TestClustersFindTwoTopics(t *testing.T) {
	srcs, bees, buses := twoTopics()
	for seed := uint64(0); seed < 5; seed++ {
		res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Clusters: 2, Seed: seed, NoEntities: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Clusters) != 2 || res.Segments != bees+buses || res.Unclustered != 0 {
			t.Fatalf("seed %d: %d clusters of %d segments (%d left out); want 2 of %d", seed, len(res.Clusters), res.Segments, res.Unclustered, bees+buses)
		}
		topics := map[string]bool{}
		for _, c := range res.Clusters {
			isBee := slices.ContainsFunc(c.Words, func(w string) bool {
				return w == "hive" || w == "bees" || w == "frames" || w == "queen" || w == "honey"
			})
			isBus := slices.ContainsFunc(c.Words, func(w string) bool {
				return w == "bus" || w == "driver" || w == "route" || w == "ticket" || w == "depot"
			})
			if isBee == isBus {
				t.Errorf("seed %d: cluster %q words %v are not of one topic", seed, c.Label, c.Words)
				continue
			}
			topic := "bus"
			if isBee {
				topic = "bee"
			}
			topics[topic] = true
			if c.Count != 12 {
				t.Errorf("seed %d: %s cluster has %d segments, want 12", seed, topic, c.Count)
			}
			for _, x := range c.Extracts {
				if strings.Contains(x.Text, "bus") == isBee {
					t.Errorf("seed %d: %s cluster has extract %q", seed, topic, x.Text)
				}
			}
			if len(c.Cases) != 6 {
				t.Errorf("cluster cases %v", c.Cases)
			}
		}
		if len(topics) != 2 {
			t.Errorf("seed %d: topics %v", seed, topics)
		}
	}
}

func TestClustersOnlyUncoded(t *testing.T) {
	srcs, _, _ := twoTopics()
	// Code every bee paragraph: only the buses are left to cluster.
	var codings []analysis.Coding
	for _, src := range srcs {
		for _, seg := range src.Segments {
			if seg.Unit == corpus.UnitParagraph && strings.Contains(string([]rune(src.Text)[seg.Start:seg.End]), "hive") {
				codings = append(codings, analysis.Coding{Source: src.ID, Start: seg.Start + 2, End: seg.Start + 6, Code: "bees"})
			}
		}
	}
	res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Codings: codings, Clusters: 2, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Segments != 12 {
		t.Errorf("%d segments clustered, want the 12 uncoded", res.Segments)
	}
	for _, c := range res.Clusters {
		for _, x := range c.Extracts {
			if strings.Contains(x.Text, "hive") {
				t.Errorf("coded paragraph %q clustered", x.Text)
			}
		}
	}
}

func TestSuggestIsDeterministic(t *testing.T) {
	_, srcs, _ := exampleProject(t)
	an := testAnalyzer(t)
	opts := Options{Analyzer: an, Seed: 7}
	a, err := Suggest(srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	// the same sources in another order, and a fresh analyser
	rev := slices.Clone(srcs)
	slices.Reverse(rev)
	opts.Analyzer = testAnalyzer(t)
	b, err := Suggest(rev, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two runs differ:\n%v\n%v", labels(a.Phrases), labels(b.Phrases))
	}
	if len(a.Phrases) != DefaultTop || len(a.InVivo) == 0 || len(a.Clusters) < 2 || len(a.Entities) == 0 {
		t.Errorf("%d phrases, %d in-vivo, %d clusters, %d entities", len(a.Phrases), len(a.InVivo), len(a.Clusters), len(a.Entities))
	}
	// A different seed may group differently but is itself repeatable.
	opts.Seed, opts.NoEntities = 8, true
	c1, _ := Suggest(srcs, opts)
	c2, _ := Suggest(srcs, opts)
	if !reflect.DeepEqual(c1.Clusters, c2.Clusters) {
		t.Error("clusters differ between two runs with one seed")
	}
}

func TestSuggestOptions(t *testing.T) {
	srcs := toyInterviews()
	if _, err := Suggest(srcs, Options{}); err == nil {
		t.Error("no analyser: want an error")
	}
	if _, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), ClusterUnit: "page"}); err == nil {
		t.Error("unknown cluster unit: want an error")
	}
	// Nothing to read: empty lists, not nil.
	res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Roles: []string{corpus.RoleOther}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Phrases == nil || res.InVivo == nil || res.Entities == nil || res.Clusters == nil || len(res.Phrases) != 0 {
		t.Errorf("%+v", res)
	}
	// The rest of the corpus as reference: the interviewer's words.
	res, err = Suggest(srcs, Options{Analyzer: testAnalyzer(t), CorpusReference: true, Clusters: -1, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Reference, "the rest of the corpus") {
		t.Errorf("reference %q", res.Reference)
	}
	if _, s := find(res.Phrases, "ukulele"); s == nil {
		t.Errorf("phrases %v", labels(res.Phrases))
	}
	// Top and MinCount.
	res, err = Suggest(srcs, Options{Analyzer: testAnalyzer(t), Top: 1, MinCount: 6, Clusters: -1, NoEntities: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Phrases) != 1 || res.Phrases[0].Count < 6 {
		t.Errorf("top 1, min 6: %+v", res.Phrases)
	}
}

// Progress is told of every source read, in order, and the suggestions do
// not depend on it.
func TestSuggestProgress(t *testing.T) {
	_, srcs, _ := exampleProject(t)
	opts := Options{Analyzer: testAnalyzer(t), NoEntities: true, Clusters: -1}
	want, err := Suggest(srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var seen []int
	opts.Progress = func(done, total int) {
		if total != len(srcs) {
			t.Errorf("total %d, want %d", total, len(srcs))
		}
		seen = append(seen, done)
	}
	got, err := Suggest(srcs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(srcs) || seen[0] != 1 || !slices.IsSorted(seen) || seen[len(seen)-1] != len(srcs) {
		t.Errorf("progress %v for %d sources", seen, len(srcs))
	}
	opts.Progress = nil
	if !reflect.DeepEqual(got, want) {
		t.Error("suggestions changed with a progress callback")
	}
}
