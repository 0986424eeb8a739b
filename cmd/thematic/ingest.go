package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// IngestOptions are the flags of 'thematic ingest'.
type IngestOptions struct {
	IO          *IOStreams
	Project     func() (*corpus.Project, error)
	Paths       []string
	Kind        string
	Case        string
	ID          string
	Attrs       []string
	TextColumns []string
	IDColumn    string
	NoIndex     bool
}

func init() { register(newIngestCmd) }

func newIngestCmd(g *globals) *cobra.Command {
	opts := &IngestOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Add transcripts, diaries and survey answers to the project",
		Long: `Read files or folders (recursively) into the project's sources/.

Formats: .txt .md (YAML front matter gives case, title, kind and attributes),
.docx .odt, .vtt .srt (Zoom, Teams), and open-ended survey answers in .csv
and .xlsx (--text-column, --id-column). A file named cases.csv is read as the
attributes of cases (first column: the case id).

Text is decoded (UTF-8, UTF-16 with BOM, Windows-1252), NFC-normalised and
given LF line ends; speaker turns, diary entries, paragraphs and sentences
become segments. Re-ingesting an unchanged file does nothing; a changed one is
updated and codings on it are re-anchored. Every file is checked before any is
added: a file that cannot be read stops the ingest and leaves the project as
it was.`,
		Example: `  thematic ingest --kind interview --attr wave=1 interviews/wave1/
  thematic ingest --kind diary diaries/
  thematic ingest --case P01 --attr wave=2 interviews/P01-wave2.docx
  thematic ingest --text-column answer --id-column respondent survey.csv
  thematic ingest cases.csv`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Paths = args
			return runIngest(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Kind, "kind", "", "kind of source: "+strings.Join(corpus.Kinds, ", ")+" (default: from front matter or the path)")
	f.StringVar(&opts.Case, "case", "", "the case (participant) the files belong to")
	f.StringVar(&opts.ID, "id", "", "source id for a single file (default: from the file name)")
	f.StringArrayVar(&opts.Attrs, "attr", nil, "source attribute `key=value` (repeatable)")
	f.StringArrayVar(&opts.TextColumns, "text-column", nil, "survey: column holding answers (repeatable)")
	f.StringVar(&opts.IDColumn, "id-column", "", "survey: column holding the respondent id (the case)")
	f.BoolVar(&opts.NoIndex, "no-index", false, "do not update the search index now (it is updated when next needed)")
	return cmd
}

// parseAttrs reads key=value flags.
func parseAttrs(flag string, kvs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, errs.New("", 0, 0, "%s %q: want key=value", flag, kv)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

func runIngest(opts *IngestOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	attrs, err := parseAttrs("--attr", opts.Attrs)
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	report, done := progress(opts.IO, "reading")
	rep, err := p.Ingest(opts.Paths, corpus.IngestOptions{
		Kind:     opts.Kind,
		Case:     opts.Case,
		ID:       opts.ID,
		Attrs:    attrs,
		Read:     corpus.ReadOptions{TextColumns: opts.TextColumns, IDColumn: opts.IDColumn},
		Progress: report,
	})
	done()
	if err != nil {
		return err
	}
	for _, w := range rep.Skipped {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", w)
	}
	if err := ingestReanchor(p, rep.Changed, opts.IO); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Ingested: %d added, %d updated, %d unchanged", len(rep.Added), len(rep.Updated), len(rep.Unchanged))
	if rep.Cases > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "; %d cases from %s", rep.Cases, corpus.CasesFile)
	}
	fmt.Fprintln(opts.IO.ErrOut)
	if opts.NoIndex {
		return nil
	}
	report, done = progress(opts.IO, "indexing")
	ix, err := p.OpenIndex(report)
	done()
	if err != nil {
		return err
	}
	return ix.Close()
}

// ingestReanchorBatch is how many changed sources are re-anchored at a time:
// reanchorCodings holds the texts and segments of those it is given, so a
// re-ingest that changed thousands of sources goes in batches.
var ingestReanchorBatch = 256

// ingestReanchor re-anchors every coder's codings on the sources whose text
// changed. reanchorCodings reads only the keys of its map (codings are
// re-anchored from their quotes, against the new text).
func ingestReanchor(p *corpus.Project, changed []string, ios *IOStreams) error {
	for len(changed) > 0 {
		n := min(len(changed), ingestReanchorBatch)
		batch := make(map[string]string, n)
		for _, id := range changed[:n] {
			batch[id] = ""
		}
		if err := reanchorCodings(p, batch, ios); err != nil {
			return err
		}
		changed = changed[n:]
	}
	return nil
}
