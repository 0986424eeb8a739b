package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/export"
	"github.com/thematic-qda/thematic/internal/errs"
)

// attachRefiCommands adds the REFI-QDA exchange commands under the export,
// codebook and import commands, which other files own: export qdpx, export
// qdc, codebook import and import qdpx. A parent that is missing is made.
func attachRefiCommands(root *cobra.Command, g *globals) {
	parent := func(name, short string) *cobra.Command {
		for _, c := range root.Commands() {
			if c.Name() == name {
				return c
			}
		}
		c := &cobra.Command{Use: name, Short: short}
		root.AddCommand(c)
		return c
	}
	parent("export", "Write the project's work to other formats").AddCommand(newExportQDPXCmd(g), newExportQDCCmd(g))
	parent("codebook", "Show and change the codebook").AddCommand(newCodebookImportCmd(g))
	parent("import", "Import work made elsewhere").AddCommand(newImportQDPXCmd(g))
}

// ExportQDPXOptions are the flags of 'thematic export qdpx'.
type ExportQDPXOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
	Coders  []string // default: every coder
	JSON    bool
}

func newExportQDPXCmd(g *globals) *cobra.Command {
	opts := &ExportQDPXOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "qdpx FILE.qdpx",
		Short: "Write the project as a REFI-QDA project for NVivo, ATLAS.ti, MAXQDA, QualCoder...",
		Long: `Write the whole project as a REFI-QDA project exchange file (.qdpx), the
open standard that NVivo, ATLAS.ti, MAXQDA, QualCoder and others import:

  sources   every source's normalised text as sources/GUID.txt, with its kind
            and attributes as variables
  codebook  themes > sub-themes > codes as nested codes, with their colour,
            a description made of the definition, when (not) to use and
            examples, and memos as notes
  coders    one user per coder (--coder chooses; default: every coder)
  codings   one selection per coded span, with a coding per code and coder,
            its time and memo; positions are Unicode code points, as the
            standard says
  cases     the cases of cases.csv and of the sources, attributes as variables
  memos     the files of memos/ as notes

GUIDs are stable: the same project exports the same GUIDs every time, and
what came from a REFI import keeps the GUIDs it came with (refi-guids.json).
Orphaned codings and codings of codes missing from the codebook are left
out and listed. The file is replaced atomically.`,
		Example: `  thematic export qdpx study.qdpx
  thematic export qdpx --coder alice --coder bob for-nvivo.qdpx`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runExportQDPX(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Coders, "coder", nil, "export the codings of `NAME` (repeatable; default: every coder)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print what was written as JSON on stdout")
	return cmd
}

func runExportQDPX(opts *ExportQDPXOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	// Metadata only: the texts are read one at a time as the export writes
	// them, and the codings are streamed, so a large project is never held.
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	srcs := make([]*corpus.Source, len(infos))
	for i := range infos {
		srcs[i] = &infos[i].Source
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	coders, err := store.Coders()
	if err != nil {
		return err
	}
	want := coders
	if len(opts.Coders) > 0 {
		want = nil
		for _, c := range opts.Coders {
			if !slices.Contains(coders, c) {
				return errs.New("", 0, 0, "--coder %s: no such coder (coders: %s)", c, refiOrNone(coders))
			}
			want = append(want, c)
		}
	}
	each := func(fn func(c *analysis.Coding) error) error {
		for _, c := range want {
			if err := analysis.EachCoding(store, c, fn); err != nil {
				return err
			}
		}
		return nil
	}
	memos, err := export.ReadMemos(p.Path(corpus.MemosDir))
	if err != nil {
		return err
	}
	guids, err := analysis.LoadRefiGUIDs(p)
	if err != nil {
		return err
	}
	rep, err := export.WriteQDPXFile(opts.File, &export.RefiProject{Name: analysis.RefiProjectName(p), Codebook: cb,
		Sources: srcs, Cases: cases, Each: each, Read: p.Source, Text: p.SourceText, Memos: memos, GUIDs: guids})
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %s: %s, %s, %s by %s, %s, %s\n", opts.File,
		refiCount(rep.Sources, "source"), refiCount(rep.Codes, "code"), refiCount(rep.Codings, "coding"),
		refiCount(rep.Users, "coder"), refiCount(rep.Cases, "case"), refiCount(rep.Notes, "note"))
	for _, s := range rep.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "  left out: %s\n", s)
	}
	return nil
}

// ExportQDCOptions are the flags of 'thematic export qdc'.
type ExportQDCOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
}

func newExportQDCCmd(g *globals) *cobra.Command {
	opts := &ExportQDCOptions{IO: g.ios, Project: g.project}
	return &cobra.Command{
		Use:   "qdc FILE.qdc",
		Short: "Write the codebook as a REFI-QDA codebook (.qdc)",
		Long: `Write codebook.yaml as a REFI-QDA codebook exchange file (.qdc): themes >
sub-themes > codes as nested codes with the GUIDs 'export qdpx' gives them,
their colour, and a description made of the definition, when to use, when
not to use and examples. Rules, scope and memos have no place in a .qdc.`,
		Example: "  thematic export qdc codebook.qdc",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runExportQDC(opts)
		},
	}
}

func runExportQDC(opts *ExportQDCOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	guids, err := analysis.LoadRefiGUIDs(p)
	if err != nil {
		return err
	}
	n, err := export.WriteQDCFile(opts.File, cb, guids)
	if err != nil {
		if ie, ok := err.(*errs.InputError); ok && ie.File == "" {
			ie.File = corpus.CodebookFile
		}
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %s: %s\n", opts.File, refiCount(n, "code"))
	return nil
}

// CodebookImportOptions are the flags of 'thematic codebook import'.
type CodebookImportOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
	DryRun  bool
	JSON    bool
}

func newCodebookImportCmd(g *globals) *cobra.Command {
	opts := &CodebookImportOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "import FILE.qdc",
		Short: "Add a REFI-QDA codebook (.qdc) to codebook.yaml",
		Long: `Add the codes of a REFI-QDA codebook exchange file (.qdc), as NVivo, ATLAS.ti,
MAXQDA or QualCoder write it, to codebook.yaml: top-level codes become
themes, their children sub-themes (when they hold codes) or codes, and so
on down to child codes; codes nested deeper sit beside their parent, named
"parent › code". Descriptions become definitions, colours stay; rules are
left empty for you to write.

Codes the codebook has already (the same GUID, or the same name under the
same parent) are not added again, so importing a file twice changes
nothing. The rest of codebook.yaml, comments included, stays as it was.`,
		Example: "  thematic codebook import from-nvivo.qdc\n  thematic codebook import --dry-run shared.qdc",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runCodebookImport(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "say what would change, write nothing")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print what was imported as JSON on stdout")
	return cmd
}

func runCodebookImport(opts *CodebookImportOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	ci, err := analysis.PrepareRefiCodebookImport(p, opts.File)
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := ci.Apply(); err != nil {
			return err
		}
	}
	res := ci.Result
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			File      string   `json:"file"`
			Tool      string   `json:"tool"`
			Added     []string `json:"added"`
			Matched   int      `json:"matched"`
			Flattened int      `json:"flattened"`
			Renamed   int      `json:"renamed"`
			Sets      int      `json:"sets_skipped"`
			DryRun    bool     `json:"dry_run"`
		}{opts.File, ci.Origin, append([]string{}, res.Added...), res.Matched, res.Flattened, res.Renamed, ci.Sets, opts.DryRun})
	}
	verb := "Added"
	if opts.DryRun {
		verb = "Would add"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s %s to %s from %s; %s already there\n", verb, refiCount(len(res.Added), "code"),
		corpus.CodebookFile, opts.File, refiCount(res.Matched, "code"))
	if res.Flattened > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "  %s nested too deep now sit beside their parent, named \"parent › code\"\n", refiCount(res.Flattened, "code"))
	}
	if res.Renamed > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "  %s renamed (empty, several lines, or a sibling's name)\n", refiCount(res.Renamed, "code"))
	}
	if ci.Sets > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "  skipped: %s (codebook.yaml has no code sets)\n", refiCount(ci.Sets, "code set"))
	}
	if opts.DryRun {
		fmt.Fprintln(opts.IO.ErrOut, "Nothing was written (--dry-run).")
	}
	return nil
}

// ImportQDPXOptions are the flags of 'thematic import qdpx'.
type ImportQDPXOptions struct {
	IO       *IOStreams
	Project  func() (*corpus.Project, error)
	File     string
	CoderMap []string // old=new
	Kind     string
	Replace  bool
	DryRun   bool
	JSON     bool
}

func newImportQDPXCmd(g *globals) *cobra.Command {
	opts := &ImportQDPXOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "qdpx FILE.qdpx",
		Short: "Import a REFI-QDA project from NVivo, ATLAS.ti, MAXQDA, QualCoder...",
		Long: `Import a REFI-QDA project exchange file (.qdpx, or a bare project.qde):

  sources   text sources (and the text of PDFs and transcripts, when the file
            holds it), with their variables as attributes
  codes     as a subtree of codebook.yaml (see 'thematic codebook import'),
            rules empty
  codings   of text selections, one coder per user: the user's name made a
            coder name ("Ann Lee" -> ann-lee), or as --coder-map says
  cases     with their variables into cases.csv, and the sources they hold
  notes     memos of codes and codings, or files in memos/

Positions are converted to thematic's (code points of the normalised
text). The standard counts code points, but NVivo for Windows counts
UTF-16 code units: the import reads the positions both ways and takes the
one that puts the selections on word boundaries; the report says which.

What thematic cannot hold (pictures, PDF areas, audio and video, sets,
links, graphs) is listed as skipped, never dropped silently. The whole
file is read and checked before anything is written; importing the same
file again changes nothing. --replace makes the file's codings replace the
coders' earlier codings of the imported sources.`,
		Example: `  thematic import qdpx from-nvivo.qdpx
  thematic import qdpx --coder-map "Ann Lee=ann" --coder-map bob=robert team.qdpx
  thematic import qdpx --dry-run --json shared.qdpx`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runImportQDPX(opts)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&opts.CoderMap, "coder-map", nil, "import the codings of user `OLD=NEW` (the user's name or coder name) as coder NEW (repeatable)")
	f.StringVar(&opts.Kind, "kind", "", "kind of new sources that carry none ("+strings.Join(corpus.Kinds, ", ")+"; default: from the name, else interview)")
	f.BoolVar(&opts.Replace, "replace", false, "replace the imported coders' earlier codings of the imported sources")
	f.BoolVar(&opts.DryRun, "dry-run", false, "report what would be imported, write nothing")
	f.BoolVar(&opts.JSON, "json", false, "print the report as JSON on stdout")
	return cmd
}

// importQDPXCoderMap parses --coder-map values: OLD=NEW, split at the last
// '=' (coder names hold none).
func importQDPXCoderMap(pairs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range pairs {
		i := strings.LastIndexByte(p, '=')
		if i <= 0 || i == len(p)-1 {
			return nil, errs.New("", 0, 0, "--coder-map %q: write OLD=NEW, the user's name in the file and the coder to import it as", p)
		}
		from, to := strings.TrimSpace(p[:i]), strings.TrimSpace(p[i+1:])
		if prev, dup := m[from]; dup && prev != to {
			return nil, errs.New("", 0, 0, "--coder-map names %q twice (%s and %s)", from, prev, to)
		}
		m[from] = to
	}
	return m, nil
}

func runImportQDPX(opts *ImportQDPXOptions) error {
	cm, err := importQDPXCoderMap(opts.CoderMap)
	if err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	im, err := analysis.PrepareRefiImport(p, opts.File, analysis.RefiImportOptions{CoderMap: cm, Kind: opts.Kind, Replace: opts.Replace})
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := im.Apply(); err != nil {
			return err
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			*analysis.RefiReport
			DryRun  bool `json:"dry_run"`
			Changed bool `json:"changed"`
		}{im.Report, opts.DryRun, im.Changed()})
	}
	importQDPXPrint(opts.IO.ErrOut, im, opts.DryRun)
	return nil
}

// importQDPXPrint prints an import's report for people.
func importQDPXPrint(w io.Writer, im *analysis.RefiImport, dryRun bool) {
	r := im.Report
	verb := "Imported"
	if dryRun {
		verb = "Would import"
	}
	tool := r.Tool
	if tool == "" {
		tool = "an unnamed tool"
	}
	fmt.Fprintf(w, "%s %s (written by %s)\n", verb, r.File, tool)
	fmt.Fprintf(w, "  positions: %s (%s)", r.Positions, r.Evidence)
	if r.Positions != analysis.RefiCodePoints {
		fmt.Fprint(w, "; converted: the standard counts code points")
	}
	fmt.Fprintln(w)
	changes := func(c analysis.RefiChanges) string {
		return fmt.Sprintf("%d added, %d updated, %d unchanged", len(c.Added), len(c.Updated), len(c.Unchanged))
	}
	fmt.Fprintf(w, "  sources:   %s\n", changes(r.Sources))
	fmt.Fprintf(w, "  codes:     %d added, %d already in the codebook", r.Codes.Added, r.Codes.Matched)
	if r.Codes.Flattened > 0 {
		fmt.Fprintf(w, ", %d flattened", r.Codes.Flattened)
	}
	if r.Codes.Renamed > 0 {
		fmt.Fprintf(w, ", %d renamed", r.Codes.Renamed)
	}
	fmt.Fprintln(w)
	for _, c := range r.Coders {
		fmt.Fprintf(w, "  codings:   %s (user %q): %d added, %d unchanged", c.Coder, c.User, c.Added, c.Unchanged)
		if c.Updated > 0 {
			fmt.Fprintf(w, ", %d memos updated", c.Updated)
		}
		if c.Removed > 0 {
			fmt.Fprintf(w, ", %d removed (--replace)", c.Removed)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  cases:     %s\n", changes(r.Cases))
	fmt.Fprintf(w, "  memos:     %s files; %d code memos, %d coding memos\n", changes(r.Memos), r.CodeMemos, r.CodingMemos)
	if len(r.Skipped) > 0 {
		fmt.Fprintln(w, "Skipped (not imported):")
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "  %d × %s: %s", s.Count, s.What, s.Why)
			if s.Where != "" {
				fmt.Fprintf(w, " [%s]", s.Where)
			}
			fmt.Fprintln(w)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	switch {
	case dryRun:
		fmt.Fprintln(w, "Nothing was written (--dry-run).")
	case !im.Changed():
		fmt.Fprintln(w, "Nothing changed: the project already holds everything of the file that it can hold.")
	}
}

// refiCount says n things: "1 code", "3 codes".
func refiCount(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func refiOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}
