// Command refgen derives the general spoken-English word list that
// 'thematic suggest' compares participants' words against
// (analysis/suggest/reference_en.txt). It counts the words of the meeting
// transcripts of QMSum (Yale-LILY, MIT licence; the AMI and ICSI meeting
// transcripts it holds are CC BY 4.0), which the project keeps among its test
// corpora. Words are runs of letters with inner straight or curly
// apostrophes, lower-cased; transcription marks such as {vocalsound} are
// dropped. Words seen fewer than -min times are left out; the total counts
// every word.
//
//	go run ./analysis/suggest/internal/refgen -in ../shared/corpora/meetings-qmsum/data/ALL > analysis/suggest/reference_en.txt
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

type meeting struct {
	Transcript []struct {
		Content string `json:"content"`
	} `json:"meeting_transcripts"`
}

var marks = regexp.MustCompile(`\{[a-z]+\}`)

func main() {
	in := flag.String("in", "../shared/corpora/meetings-qmsum/data/ALL", "folder of QMSum JSON files")
	minCount := flag.Int("min", 5, "leave out words seen fewer times")
	flag.Parse()
	counts := map[string]int{}
	total, files := 0, 0
	err := filepath.WalkDir(*in, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var m meeting
		if err := json.Unmarshal(data, &m); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		files++
		for _, t := range m.Transcript {
			for _, w := range words(marks.ReplaceAllString(t.Content, " ")) {
				counts[w]++
				total++
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "refgen:", err)
		os.Exit(1)
	}
	keys := make([]string, 0, len(counts))
	for w, n := range counts {
		if n >= *minCount {
			keys = append(keys, w)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "# General spoken-English word counts, the reference of 'thematic suggest'.\n")
	fmt.Fprintf(out, "# Counted by analysis/suggest/internal/refgen over the %d meeting transcripts of\n", files)
	fmt.Fprintf(out, "# QMSum (Yale-LILY, MIT licence; its AMI and ICSI meetings are CC BY 4.0).\n")
	fmt.Fprintf(out, "# Words seen fewer than %d times are left out; total counts every word.\n", *minCount)
	fmt.Fprintf(out, "total %d\n", total)
	for _, w := range keys {
		fmt.Fprintf(out, "%s %d\n", w, counts[w])
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "refgen:", err)
		os.Exit(1)
	}
}

// words splits text into lower-case words: letters with inner apostrophes.
func words(s string) []string {
	var out []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		if !unicode.IsLetter(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j]) ||
			(isApostrophe(rs[j]) && j+1 < len(rs) && unicode.IsLetter(rs[j+1]))) {
			j++
		}
		w := strings.ToLower(string(rs[i:j]))
		out = append(out, strings.ReplaceAll(w, "\u2019", "'"))
		i = j
	}
	return out
}

func isApostrophe(r rune) bool { return r == '\'' || r == '\u2019' }
