package codebook

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/internal/errs"
)

// addSeeds adds the YAML files under testdata to a fuzz corpus.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	more, _ := filepath.Glob("testdata/edit/*.in.yaml")
	for _, p := range append(files, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "themes:\n", "themes: [{name: A, codes: [{name: B}]}]\n", "{}", "- a\n", "themes:\n- name: a\n  codes:\n  - name: b\n",
		"themes:\n  - name: A\n    rules:\n      - near: {terms: [a, b], within: 2}\n      - not: {regex: x}\n",
		"a: &x [*x]\nthemes:\n  - name: A\n    speakers: *x\n", "themes:\n  -\n    name: A\n",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse checks that Parse never panics, that every problem has a line
// and fits on one line, and that a codebook without problems is consistent.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cb, probs := Parse("f.yaml", data)
		for _, p := range probs {
			if len(bytes.TrimSpace(data)) > 0 && p.Line <= 0 {
				t.Errorf("problem without a line: %v", p)
			}
			if p.File != "f.yaml" || strings.ContainsAny(p.Msg, "\n\r") {
				t.Errorf("problem not one line naming the file: %q", p.Error())
			}
		}
		if len(probs) > 0 {
			return
		}
		seen := map[string]bool{}
		count := 0
		cb.Walk(func(n *Node) bool {
			count++
			if seen[n.ID] || cb.Node(n.ID) != n || n.Name == "" || !idPattern.MatchString(n.ID) {
				t.Errorf("node %q (%q): duplicate, unknown to Node, unnamed or bad id", n.ID, n.Name)
			}
			seen[n.ID] = true
			for _, c := range n.Children {
				if c.Parent != n {
					t.Errorf("%q: parent link broken", c.ID)
				}
			}
			return true
		})
		if count != len(cb.Codes()) {
			t.Errorf("Walk saw %d nodes, Codes gave %d", count, len(cb.Codes()))
		}
	})
}

// FuzzEdit checks that edits of any codebook that parses either work, giving
// a codebook that parses and holds the change, or fail with an InputError,
// never leaving a half-made change behind.
func FuzzEdit(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, probs := Parse("f.yaml", data); len(probs) > 0 {
			return
		}
		e, err := newEditor("f.yaml", data, true)
		if err != nil {
			if !isInputError(err) {
				t.Fatalf("Edit: %v", err)
			}
			return
		}
		if !bytes.Equal(e.Bytes(), data) {
			t.Fatalf("opening changed the text:\n%q\n%q", data, e.Bytes())
		}
		parent := ""
		if len(e.Codebook().Themes) > 0 {
			parent = e.Codebook().Themes[0].ID
		}
		steps := []func() error{
			func() error { _, err := e.AddCode(parent, "Fuzz code", "fuzz-code", "A definition."); return err },
			func() error { return e.AddRules("fuzz-code", []string{"fuzz", "fuzzy words"}) },
			func() error { return e.Move("fuzz-code", "") },
			func() error { _, err := e.Rename("fuzz-code", "Fuzz theme", ""); return err },
		}
		for i, step := range steps {
			before := e.Bytes()
			if err := step(); err != nil {
				if !isInputError(err) {
					t.Fatalf("step %d: %v\n%s", i, err, before)
				}
				if !bytes.Equal(before, e.Bytes()) {
					t.Fatalf("step %d failed but changed the text", i)
				}
				return
			}
			cb, probs := Parse("f.yaml", e.Bytes())
			if len(probs) > 0 {
				t.Fatalf("step %d left a problem: %v\n%s", i, probs[0], e.Bytes())
			}
			if cb.Node("fuzz-code") == nil {
				t.Fatalf("step %d lost the code", i)
			}
		}
	})
}

func isInputError(err error) bool {
	var ie *errs.InputError
	return errors.As(err, &ie)
}
