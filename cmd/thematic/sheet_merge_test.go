package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// sheetMergeTexts are the texts of the sources the merge tests code.
var sheetMergeTexts = map[string]string{
	"a": "Alpha text, the first source of all.",
	"b": "Bravo text, coded only by the sheet.",
	"c": "Charlie text, coded before and on the sheet.",
	"d": "Delta text, coded before, listed on the sheet.",
	"e": "Echo text, after every source coded before.",
	"0": "Zero text, before every source coded before.",
}

func sheetMergeCoding(t *testing.T, src string, start, end int, code string, orphan bool) analysis.Coding {
	t.Helper()
	c, err := analysis.NewCoding(src, sheetMergeTexts[src], start, end, code, "bob", analysis.OriginManual, sheetTestTime)
	if err != nil {
		t.Fatal(err)
	}
	c.Orphan = orphan
	return c
}

// sheetMergeOld is what bob has coded before the import.
func sheetMergeOld(t *testing.T) []analysis.Coding {
	mk := func(src string, start, end int, code string) analysis.Coding {
		return sheetMergeCoding(t, src, start, end, code, false)
	}
	orphan := sheetMergeCoding(t, "c", 0, 7, "k1", true)
	return []analysis.Coding{
		mk("a", 0, 5, "k1"), mk("a", 6, 10, "k2"),
		mk("c", 0, 7, "k1"), mk("c", 0, 7, "k2"), mk("c", 8, 12, "k1"), orphan,
		mk("d", 0, 5, "k1"), mk("d", 0, 5, "k2"),
	}
}

// sheetMergeImport is a sheet's import of codings, in row order, of the
// sources it lists; codes nil for a sheet of every code.
func sheetMergeImport(t *testing.T, codes []string) *analysis.SheetImport {
	mk := func(src string, start, end int, code string) analysis.Coding {
		c, err := analysis.NewCoding(src, sheetMergeTexts[src], start, end, code, "bob", analysis.OriginSheet, sheetTestTime.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	imp := &analysis.SheetImport{About: &analysis.SheetAbout{Mode: analysis.SheetModeReview}, Coder: "bob", Codes: codes}
	for _, id := range []string{"d", "b", "c", "e", "0"} {
		imp.About.Sources = append(imp.About.Sources, analysis.SheetSource{ID: id})
	}
	imp.Codings = []analysis.Coding{
		mk("e", 0, 4, "k1"),
		mk("c", 0, 7, "k1"), // a coding bob had: the sheet's replaces it
		mk("b", 0, 5, "k1"),
		mk("d", 6, 10, "k3"),
		mk("0", 0, 4, "k1"),
		mk("b", 0, 5, "k1"), // twice: one coding
		mk("c", 14, 20, "k2"),
	}
	imp.Codings[5].Memo = "the later"
	return imp
}

// sheetMergeStores makes a store holding file as bob's codings.
func sheetMergeStore(t *testing.T, file []byte) analysis.Store {
	t.Helper()
	s := analysis.Store{Dir: t.TempDir()}
	if file != nil {
		if err := os.WriteFile(filepath.Join(s.Dir, "bob.jsonl"), file, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func readBob(t *testing.T, s analysis.Store) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.Dir, "bob.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// sheetMerge writes what Store.Save writes of SheetImport.Merge, with the
// same counts, a source at a time where it can; where it cannot (a file
// out of order, an id Save would change), sheetSaveEach writes nothing and
// the merge is made in memory. A dry run counts alone.
func TestSheetMergeAsSave(t *testing.T) {
	canonical := func(cs []analysis.Coding) []byte {
		s := sheetMergeStore(t, nil)
		if err := s.Save("bob", cs); err != nil {
			t.Fatal(err)
		}
		return readBob(t, s)
	}
	old := canonical(sheetMergeOld(t))
	lines := strings.SplitAfter(string(old), "\n")
	reversed := slices.Clone(lines[:len(lines)-1])
	slices.Reverse(reversed)
	// An old coding moved since it was made keeps its id: the id of the
	// sheet's coding of "b" 0-5 k1, at another place.
	moved := sheetMergeCoding(t, "b", 0, 5, "k1", false)
	moved.Start, moved.End, moved.Quote = 6, 10, string([]rune(sheetMergeTexts["b"])[6:10])
	withMoved := canonical(append(sheetMergeOld(t), moved))
	for _, tc := range []struct {
		name     string
		file     []byte
		codes    []string
		inMemory bool
		none     bool // the sheet makes no codings
	}{
		{"no codings before", nil, nil, false, false},
		{"no codings at all", nil, nil, false, true},
		{"no codings made", old, []string{"k1"}, false, true},
		{"every code", old, nil, false, false},
		{"one code", old, []string{"k1"}, false, false},
		{"codes not coded before", old, []string{"k3"}, false, false},
		{"file out of order", []byte(strings.Join(reversed, "")), nil, true, false},
		{"an id Save changes", withMoved, []string{"k3"}, true, false},
	} {
		for _, replace := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, replace %v", tc.name, replace), func(t *testing.T) {
				imp := sheetMergeImport(t, tc.codes)
				if tc.none {
					imp.Codings = nil
				}
				// As before: Save of Merge.
				want := sheetMergeStore(t, tc.file)
				oldCs, err := want.Load("bob")
				if err != nil {
					t.Fatal(err)
				}
				merged, wantRemoved := imp.Merge(oldCs, replace)
				wantKept := 0
				for i := range oldCs {
					if !replace && imp.InScope(&oldCs[i]) {
						wantKept++
					}
				}
				if err := want.Save("bob", merged); err != nil {
					t.Fatal(err)
				}
				if wantKept+wantRemoved == 0 && tc.file != nil && tc.codes == nil {
					t.Fatal("fixture: no coding of bob in the sheet's scope")
				}

				s := sheetMergeStore(t, tc.file)
				kept, removed, err := sheetSaveEach(s, imp, replace)
				switch {
				case tc.inMemory:
					if !errors.Is(err, errSheetInMemory) {
						t.Fatalf("sheetSaveEach: %v, want errSheetInMemory", err)
					}
					if got, _ := os.ReadFile(filepath.Join(s.Dir, "bob.jsonl")); !bytes.Equal(got, tc.file) {
						t.Fatalf("sheetSaveEach wrote before giving way:\n%s", got)
					}
				case err != nil:
					t.Fatal(err)
				default:
					if got := readBob(t, s); !bytes.Equal(got, readBob(t, want)) {
						t.Errorf("file\n%s\nwant\n%s", got, readBob(t, want))
					}
					if kept != wantKept || removed != wantRemoved {
						t.Errorf("kept %d, removed %d; want %d, %d", kept, removed, wantKept, wantRemoved)
					}
				}

				for _, dry := range []bool{true, false} {
					s := sheetMergeStore(t, tc.file)
					kept, removed, err := sheetMerge(s, imp, replace, dry)
					if err != nil {
						t.Fatal(err)
					}
					if kept != wantKept || removed != wantRemoved {
						t.Errorf("dry %v: kept %d, removed %d; want %d, %d", dry, kept, removed, wantKept, wantRemoved)
					}
					got, _ := os.ReadFile(filepath.Join(s.Dir, "bob.jsonl"))
					if dry && !bytes.Equal(got, tc.file) {
						t.Errorf("a dry run wrote\n%s", got)
					}
					if !dry && !bytes.Equal(got, readBob(t, want)) {
						t.Errorf("file\n%s\nwant\n%s", got, readBob(t, want))
					}
				}
			})
		}
	}
}

// A coder's file that cannot be read stops the import with the error a
// load gives, and nothing is written.
func TestSheetMergeBadFile(t *testing.T) {
	bad := []byte("{\"id\": \"x\"\n")
	for _, dry := range []bool{true, false} {
		s := sheetMergeStore(t, bad)
		_, _, err := sheetMerge(s, sheetMergeImport(t, nil), false, dry)
		_, loadErr := s.Load("bob")
		if err == nil || loadErr == nil || err.Error() != loadErr.Error() {
			t.Errorf("dry %v: error %v, want %v", dry, err, loadErr)
		}
		if got := readBob(t, s); !bytes.Equal(got, bad) {
			t.Errorf("dry %v: file now %q", dry, got)
		}
	}
}

// sheetTestKeys lists the keys of a sheet's data rows.
func sheetTestKeys(t *testing.T, path string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(analysis.SheetNameCoding)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, r := range rows[analysis.SheetHeaderRows:] {
		keys = append(keys, r[0])
	}
	return keys
}

// sheetTestShuffle moves the data rows of a sheet's Coding sheet into the
// order given (indexes of the data rows as exported), as a co-author
// sorting or cutting and pasting rows does, and saves the workbook.
func sheetTestShuffle(t *testing.T, path string, order func(n int) []int) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(analysis.SheetNameCoding, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	data := rows[analysis.SheetHeaderRows:]
	for i, j := range order(len(data)) {
		cells := make([]any, len(data[j]))
		for k, v := range data[j] {
			cells[k] = v
		}
		// Clear the row first: a shorter row leaves no cell behind.
		for k := range 12 {
			cell, _ := excelize.CoordinatesToCellName(k+1, analysis.SheetHeaderRows+i+1)
			if err := f.SetCellValue(analysis.SheetNameCoding, cell, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.SetSheetRow(analysis.SheetNameCoding, fmt.Sprintf("A%d", analysis.SheetHeaderRows+i+1), &cells); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
}

// A sheet whose rows a co-author reordered imports as it was exported: the
// same codings and the same report; a problem is reported at the row it
// moved to.
func TestSheetImportRowsReordered(t *testing.T) {
	for _, review := range []bool{false, true} {
		t.Run(fmt.Sprintf("review %v", review), func(t *testing.T) {
			p, _ := sheetTestProject(t)
			var path string
			var edits [][3]string
			marks := [][3]string{{"p01:t2.p1.s1", "F", "x"}, {"p01:t4.p1.s2", "G", "x"}, {"d01:e1.p1.s2", "H", "yes"}, {"d01:e1.p1.s1", "F", "x"}, {"p01:t4.p1.s1", "H", "x"}}
			path, _ = sheetTestExport(t, p, nil)
			edits = marks
			if review {
				// Those marks as alice's codings, for bob to review.
				sheetTestFill(t, path, marks...)
				if _, _, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.Coder = "alice" }); err != nil {
					t.Fatal(err)
				}
				path, _ = sheetTestExport(t, p, func(o *SheetExportOptions) { o.From = "alice" })
				edits = nil
				for i, k := range sheetTestKeys(t, path) {
					edits = append(edits, [3]string{k, "H", []string{"accept", "reject", "correct"}[i%3]})
					if i%3 == 2 {
						edits = append(edits, [3]string{k, "I", "saying-no"})
					}
				}
			}
			sheetTestFill(t, path, edits...)
			_, wantMsg, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.DryRun = true })
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := sheetTestImport(p, path, nil); err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(p.Path(corpus.CodingsDir, "bob.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(p.Path(corpus.CodingsDir, "bob.jsonl")); err != nil {
				t.Fatal(err)
			}
			// d01's rows first, then p01's backwards: every source's rows
			// apart from the others' no longer.
			sheetTestShuffle(t, path, func(n int) []int {
				var out []int
				for i := n - 1; i >= 0; i-- {
					out = append(out, (i*7)%n)
				}
				return out
			})
			_, msg, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.DryRun = true })
			if err != nil || msg != wantMsg {
				t.Errorf("dry run of the reordered sheet: %v\n%s\nwant\n%s", err, msg, wantMsg)
			}
			if _, _, err := sheetTestImport(p, path, nil); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(p.Path(corpus.CodingsDir, "bob.jsonl"))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("codings of the reordered sheet: %v\n%s\nwant\n%s", err, got, want)
			}
		})
	}
}
