package export_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/thematic-qda/thematic/export"
)

// An index sheet linking to one sheet per theme, each with a frozen
// header, filters and wrapped quotes.
func ExampleWriteXLSX() {
	themes := map[string][][]any{
		"Work/life balance": {{"I never switch off.", "(Interview 3)"}},
		"Boundaries":        {{"=I said no.", "(Diary 4)"}},
	}
	order := []string{"Boundaries", "Work/life balance"}
	used := map[string]bool{}
	index := export.Sheet{Name: export.SheetName("Index", used), FreezeHeader: true}
	var sheets []export.Sheet
	var indexRows [][]any
	for _, theme := range order {
		name := export.SheetName(theme, used) // "Work-life balance"
		indexRows = append(indexRows, []any{export.Link{Text: theme, Sheet: name}, len(themes[theme])})
		rows := themes[theme]
		sheets = append(sheets, export.Sheet{
			Name: name,
			Table: export.Table{
				Columns: []export.Column{{Title: "Extract", Wrap: true}, {Title: "Citation"}},
				Rows: func(emit func([]any) error) error {
					for _, r := range rows {
						if err := emit(r); err != nil {
							return err
						}
					}
					return nil
				},
			},
			FreezeHeader: true,
			AutoFilter:   true,
		})
	}
	index.Table = export.Table{
		Columns: []export.Column{{Title: "Theme", Width: 40}, {Title: "Extracts", Number: true}},
		Rows: func(emit func([]any) error) error {
			for _, r := range indexRows {
				if err := emit(r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	err := export.WriteXLSX(filepath.Join(dir, "extracts.xlsx"), append([]export.Sheet{index}, sheets...)...)
	fmt.Println(err)
	// Output: <nil>
}

func ExampleEncodeCSV() {
	t := export.Table{
		Columns: []export.Column{{Title: "Extract"}, {Title: "Start"}},
		Rows: func(emit func([]any) error) error {
			if err := emit([]any{"=1+1 is what she wrote", -3}); err != nil {
				return err
			}
			return emit([]any{"Two\nlines, one \"quote\"", 42})
		},
	}
	export.EncodeCSV(os.Stdout, t, export.CSVOptions{NoBOM: true})
	// Output:
	// Extract,Start
	// '=1+1 is what she wrote,-3
	// "Two
	// lines, one ""quote""",42
}

func ExampleMarkdown() {
	m := export.NewMarkdown(os.Stdout)
	m.Heading(2, "Making sense of the role")
	m.Paragraph("Definition: talk about *limits* of the role.")
	m.Quote("I said no.\nAnd that was that.", "(Interview 11)")
	m.Flush()
	// Output:
	// ## Making sense of the role
	//
	// Definition: talk about \*limits\* of the role.
	//
	// > I said no.
	// >
	// > And that was that. (Interview 11)
}
