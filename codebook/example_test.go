package codebook_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/thematic-qda/thematic/codebook"
)

func ExampleParse() {
	src := `name: Peer support
themes:
  - name: Making sense of the role
    speakers: [participant]
    codes:
      - id: boundaries
        name: Setting boundaries
        rules:
          - words: [boundary, "limit*"]
          - near: {terms: [role, define], within: 8}
          - not: {words: [joke]}
      - name: Being on call
        unit: turn
        rules:
          - phrase: on call
`
	cb, probs := codebook.Parse("codebook.yaml", []byte(src))
	if len(probs) > 0 {
		fmt.Println(probs[0])
		return
	}
	cb.Walk(func(n *codebook.Node) bool {
		fmt.Printf("%s%s %q (%s, unit %s, speakers %v)\n", strings.Repeat("  ", len(n.Path())-1), n.ID, n.Name, n.Level, n.Unit, n.Speakers)
		for _, r := range n.Rules {
			fmt.Printf("%s  rule at line %d: %s\n", strings.Repeat("  ", len(n.Path())-1), r.Line, r)
		}
		return true
	})
	// Output:
	// making-sense-of-the-role "Making sense of the role" (theme, unit sentence, speakers [participant])
	//   boundaries "Setting boundaries" (code, unit sentence, speakers [participant])
	//     rule at line 9: words: boundary, limit*
	//     rule at line 10: near 8: role, define
	//     rule at line 11: not (words: joke)
	//   being-on-call "Being on call" (code, unit turn, speakers [participant])
	//     rule at line 15: phrase: "on call"
}

func ExampleParse_problems() {
	src := `themes:
  - name: Belonging
    defintion: Feeling part of a team.
    codes:
      - name: Peers
        unit: sentance
        rules:
          - near: {terms: [team], within: 5}
          - regex: '(lunch|coffee'
`
	_, probs := codebook.Parse("codebook.yaml", []byte(src))
	for _, p := range probs {
		fmt.Println(p)
	}
	// Output:
	// codebook.yaml:3:5: unknown key "defintion" in a theme; did you mean "definition"?
	// codebook.yaml:6:15: unit "sentance" is not one of match, sentence, paragraph, turn; did you mean "sentence"?
	// codebook.yaml:8:27: near needs at least two terms; for one word use words:
	// codebook.yaml:9:20: regex does not compile: missing closing ): `(lunch|coffee`
}

func ExampleEditor_AddCode() {
	dir, err := os.MkdirTemp("", "codebook")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "codebook.yaml")
	os.WriteFile(path, []byte(`# Our codebook: ids are what codings refer to.
themes:
  - id: role
    name: Making sense of the role   # from the interview guide
    codes:
      - name: Setting boundaries

  - id: support
    name: Organisational support
`), 0o644)

	e, err := codebook.Edit(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	id, err := e.AddCode("role", "Being on call", "", "Availability outside working hours.")
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := e.Save(); err != nil {
		fmt.Println(err)
		return
	}
	data, _ := os.ReadFile(path)
	fmt.Println("added", id)
	fmt.Print(string(data))
	// Output:
	// added being-on-call
	// # Our codebook: ids are what codings refer to.
	// themes:
	//   - id: role
	//     name: Making sense of the role   # from the interview guide
	//     codes:
	//       - name: Setting boundaries
	//       - id: being-on-call
	//         name: Being on call
	//         definition: Availability outside working hours.
	//
	//   - id: support
	//     name: Organisational support
}
