package codebook

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/internal/errs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/edit")

// editIn copies testdata/edit/NAME.in.yaml to a temporary file and opens it.
func editIn(t *testing.T, name string) (*Editor, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codebook.yaml")
	if err := os.WriteFile(path, mustRead(t, filepath.Join("testdata", "edit", name+".in.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	return e, path
}

func TestEditGolden(t *testing.T) {
	tests := []struct {
		golden, in string
		edit       func(e *Editor) (map[string]string, error)
		changes    map[string]string // ids changed, for Rename and Merge
	}{
		{golden: "addcode-child", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("boundaries", "Saying no", "", "Refusing requests outside the role."))
		}},
		{golden: "addcode-empty-list", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("lived-experience", "Sharing a story", "story", ""))
		}},
		{golden: "addcode-uncategorised", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("", "Pay", "", ""))
		}},
		{golden: "addtheme", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddTheme("Recovery: what helps", ""))
		}},
		{golden: "move-code", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("training", "lived-experience")
		}},
		{golden: "move-theme", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("support", "role")
		}},
		{golden: "move-to-top", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("lived-experience", "")
		}},
		{golden: "rename", in: "study", changes: map[string]string{"supervision": "sup"}, edit: func(e *Editor) (map[string]string, error) {
			return e.Rename("supervision", "Supervision and support", "sup")
		}},
		{golden: "rename-keeps-made-id", in: "study", changes: map[string]string{}, edit: func(e *Editor) (map[string]string, error) {
			return e.Rename("out-of-hours", "Out-of-hours calls", "")
		}},
		{golden: "merge-children-and-rules", in: "study", changes: map[string]string{"on-call": "boundaries"}, edit: func(e *Editor) (map[string]string, error) {
			return e.Merge("on-call", "boundaries")
		}},
		{golden: "merge-memo", in: "study", changes: map[string]string{"lived-experience": "supervision"}, edit: func(e *Editor) (map[string]string, error) {
			return e.Merge("lived-experience", "supervision")
		}},
		{golden: "merge-examples", in: "study", changes: map[string]string{"supervision": "training"}, edit: func(e *Editor) (map[string]string, error) {
			return e.Merge("supervision", "training")
		}},
		{golden: "addrules", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.AddRules("training", []string{"induction", "Course", "shadow  shift", "induction"})
		}},
		{golden: "addrules-existing", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.AddRules("boundaries", []string{"boundary", "limits", "on call"})
		}},
		{golden: "compact-addcode", in: "compact", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("time", "Evenings", "", ""))
		}},
		{golden: "compact-move", in: "compact", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("garden", "time")
		}},
		{golden: "flow-addcode", in: "flow", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("work", "Leave", "", ""))
		}},
		{golden: "flow-addcode-flow-theme", in: "flow", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("home", "Family", "", ""))
		}},
		{golden: "empty-addcode", in: "empty", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("", "First code", "", ""))
		}},
		{golden: "collide-rename", in: "collide", changes: map[string]string{}, edit: func(e *Editor) (map[string]string, error) {
			return e.Rename("trust", "Trust in managers", "")
		}},
		{golden: "move-with-comment", in: "study", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("uncategorised", "support")
		}},
		{golden: "lonedash-addcode", in: "lonedash", edit: func(e *Editor) (map[string]string, error) {
			return nil, ignoreID(e.AddCode("lone-dash", "B", "", ""))
		}},
		{golden: "lonedash-move", in: "lonedash", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("a", "other")
		}},
		{golden: "collide-move", in: "collide", edit: func(e *Editor) (map[string]string, error) {
			return nil, e.Move("family", "work")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			e, path := editIn(t, tt.in)
			before := e.Codebook()
			changes, err := tt.edit(e)
			if err != nil {
				t.Fatal(err)
			}
			if tt.changes != nil && !reflect.DeepEqual(changes, tt.changes) {
				t.Errorf("changed ids %v, want %v", changes, tt.changes)
			}
			if err := e.Save(); err != nil {
				t.Fatal(err)
			}
			got := mustRead(t, path)
			golden := filepath.Join("testdata", "edit", tt.golden+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if want := mustRead(t, golden); !bytes.Equal(got, want) {
				t.Errorf("after the edit:\n%s\nwant:\n%s", got, want)
			}
			// parse(save(edit)) gives the codebook the Editor holds.
			cb, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := summary(cb), summary(e.Codebook()); a != b {
				t.Errorf("saved codebook parses as\n%s\nthe Editor holds\n%s", a, b)
			}
			// Every node there before is still there (under its new id).
			for _, n := range before.Codes() {
				id := n.ID
				if to, ok := changes[id]; ok {
					id = to
				}
				if cb.Node(id) == nil {
					t.Errorf("%q is gone", id)
				}
			}
			// Opening the saved file again and saving changes nothing.
			e2, err := Edit(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(e2.Bytes(), got) {
				t.Error("opening the saved codebook does not give its bytes back")
			}
		})
	}
}

// ignoreID drops the id AddCode and AddTheme return.
func ignoreID(_ string, err error) error { return err }

// summary lists a codebook's nodes with their place and content.
func summary(cb *Codebook) string {
	var b strings.Builder
	for _, n := range cb.Codes() {
		b.WriteString(n.Level + " " + n.ID + " < " + parentID(n) + " " + fingerprint(n) + "\n")
	}
	return b.String()
}

func TestEditKeepsLineEndsAndBOM(t *testing.T) {
	src := "\ufeff# notes\r\nthemes:\r\n  - name: Work\r\n    codes:\r\n      - name: Pay\r\n"
	path := filepath.Join(t.TempDir(), "codebook.yaml")
	os.WriteFile(path, []byte(src), 0o600)
	e, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.AddCode("work", "Hours", "", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	got := string(mustRead(t, path))
	want := src + "      - id: hours\r\n        name: Hours\r\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 kept", fi.Mode().Perm())
	}
}

func TestEditNewFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codebook.yaml")
	e, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("saving an unchanged new codebook wrote a file")
	}
	id, err := e.AddTheme("Belonging", "")
	if err != nil || id != "belonging" {
		t.Fatalf("AddTheme: %q %v", id, err)
	}
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	if got, want := string(mustRead(t, path)), "themes:\n  - id: belonging\n    name: Belonging\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEditErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *Editor) error
		want string
	}{
		{"unknown parent", func(e *Editor) error { _, err := e.AddCode("boundary", "X", "", ""); return err },
			`no theme or code has the id "boundary"; did you mean "boundaries"?`},
		{"name taken", func(e *Editor) error { _, err := e.AddCode("support", "training", "", ""); return err },
			`there is already a code named "Training" under "Organisational support" (id "training")`},
		{"id taken", func(e *Editor) error { _, err := e.AddCode("support", "Coaching", "boundaries", ""); return err },
			`the id "boundaries" is taken by code "Setting boundaries"`},
		{"bad id", func(e *Editor) error { _, err := e.AddCode("support", "Coaching", "my id", ""); return err },
			`id "my id" may hold only`},
		{"empty name", func(e *Editor) error { _, err := e.AddTheme("  ", ""); return err }, "a name is needed"},
		{"two-line name", func(e *Editor) error { _, err := e.AddTheme("a\nb", ""); return err }, "a name is one line"},
		{"under a child code", func(e *Editor) error { _, err := e.AddCode("out-of-hours", "X", "", ""); return err },
			`"out-of-hours" is a child code, and codes nest only one level below a code`},
		{"move under itself", func(e *Editor) error { return e.Move("role", "boundaries") },
			`cannot move "role" under itself or under "boundaries"`},
		{"move too deep", func(e *Editor) error { return e.Move("on-call", "supervision") },
			`"on-call" holds too many levels to go under "supervision"`},
		{"theme with sub-themes under a theme", func(e *Editor) error { return e.Move("role", "support") },
			`"role" has sub-themes, so it cannot become a sub-theme`},
		{"move onto a name", func(e *Editor) error {
			_, err := e.AddCode("lived-experience", "Training", "", "")
			return errors.Join(err, e.Move("training", "lived-experience"))
		},
			`there is already a code named "Training" under "Lived experience"`},
		{"rename to a taken name", func(e *Editor) error { _, err := e.Rename("supervision", "TRAINING", ""); return err },
			`there is already a code named "Training"`},
		{"rename to a taken id", func(e *Editor) error { _, err := e.Rename("supervision", "", "training"); return err },
			`the id "training" is taken`},
		{"merge into itself", func(e *Editor) error { _, err := e.Merge("role", "role"); return err }, `cannot merge "role" into itself`},
		{"merge into its own code", func(e *Editor) error { _, err := e.Merge("role", "boundaries"); return err },
			`cannot merge "role" into "boundaries", which lies below it`},
		{"merge with clashing children", func(e *Editor) error {
			_, err := e.AddCode("boundaries", "Out of hours", "ooh", "")
			if err != nil {
				return err
			}
			_, err = e.Merge("on-call", "boundaries")
			return err
		}, `there is already a child code named "Out of hours" under "Setting boundaries" (id "ooh")`},
		{"rule matching everything", func(e *Editor) error { return e.AddRules("training", []string{"ok", "**"}) }, `"**" would match every word`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := editIn(t, "study")
			before := e.Bytes()
			err := tt.edit(e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want ...%s...", err, tt.want)
			}
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Errorf("%T is not an *errs.InputError", err)
			}
			if strings.Contains(tt.name, "clashing") || strings.Contains(tt.name, "onto a name") {
				return // these made a change first on purpose
			}
			if !bytes.Equal(e.Bytes(), before) {
				t.Error("a refused edit changed the text")
			}
		})
	}
}

func TestEditRefusesBrokenCodebook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codebook.yaml")
	os.WriteFile(path, []byte("themes:\n  - name: A\n    unit: word\n"), 0o644)
	if _, err := Edit(path); err == nil || !strings.HasPrefix(err.Error(), path+":3:11: unit") {
		t.Errorf("got %v", err)
	}
	os.WriteFile(path, []byte("themes:\n  - name: \"A\u2028B\"\n"), 0o644)
	if _, err := Edit(path); err == nil || !strings.Contains(err.Error(), "unusual line break U+2028") {
		t.Errorf("got %v", err)
	}
}

func TestSaveRefusesChangedFile(t *testing.T) {
	e, path := editIn(t, "study")
	if _, err := e.AddCode("support", "Coaching", "", ""); err != nil {
		t.Fatal(err)
	}
	other := append(mustRead(t, path), "# someone else\n"...)
	os.WriteFile(path, other, 0o644)
	if err := e.Save(); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Fatalf("got %v", err)
	}
	if !bytes.Equal(mustRead(t, path), other) {
		t.Error("the other change was overwritten")
	}
}

func TestEditSequence(t *testing.T) {
	// Several edits in a row, each on the text the last one left.
	e, path := editIn(t, "study")
	steps := []func() error{
		func() error { _, err := e.AddTheme("Recovery", "recovery"); return err },
		func() error { _, err := e.AddCode("recovery", "Hope", "", "Talk of a better future."); return err },
		func() error { return e.Move("funding", "recovery") },
		func() error { return e.AddRules("hope", []string{"hope*", "better days"}) },
		func() error { _, err := e.Rename("hope", "Hope and optimism", "hope"); return err },
		func() error { _, err := e.Merge("funding", "hope"); return err },
		func() error { return e.Move("recovery", "support") },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	cb, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	hope := cb.Node("hope")
	if hope == nil || hope.Name != "Hope and optimism" || hope.Parent.ID != "recovery" || hope.Parent.Parent.ID != "support" ||
		hope.Parent.Level != LevelSubtheme || len(hope.Rules) != 2 {
		t.Fatalf("hope: %+v", hope)
	}
	if cb.Node("funding") != nil || cb.Node("uncategorised") == nil {
		t.Error("funding should be merged away and its old theme left")
	}
	// The comments of the original file are all still there.
	for _, line := range strings.Split(string(mustRead(t, "testdata/edit/study.in.yaml")), "\n") {
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line, `"#`) {
			if !strings.Contains(string(mustRead(t, path)), strings.TrimSpace(line[i:])) {
				t.Errorf("comment %q lost", line[i:])
			}
		}
	}
}
