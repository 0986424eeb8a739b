package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/examples"
	"github.com/thematic-qda/thematic/internal/errs"
)

// DemoOptions are the flags of 'thematic demo'.
type DemoOptions struct {
	IO  *IOStreams
	Out string
}

func init() { register(newDemoCmd) }

func newDemoCmd(g *globals) *cobra.Command {
	opts := &DemoOptions{IO: g.ios}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job on the shipped example study",
		Long: `Run thematic end to end on "Growing together", the invented example study
shipped inside the binary: make a project, ingest its interviews (txt, docx,
Zoom vtt) and diaries with cases.csv, build the search index, search, autocode
with its codebook, import a second coder's codings, measure agreement between
the rules and the second coder, and export workbooks. Prints where the
results are. The output folder is made anew on each run.`,
		Example: "  thematic demo\n  thematic demo --out /tmp/gt",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runDemo(opts) },
	}
	cmd.Flags().StringVar(&opts.Out, "out", "thematic-demo", "folder to write the demo into")
	return cmd
}

const demoMarker = ".thematic-demo"

func runDemo(opts *DemoOptions) error {
	out, err := filepath.Abs(opts.Out)
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		if _, err := os.Stat(filepath.Join(out, demoMarker)); err != nil {
			return errs.New(opts.Out, 0, 0, "folder exists and was not made by 'thematic demo'; remove it or give --out")
		}
		if err := os.RemoveAll(out); err != nil {
			return err
		}
	}
	input := filepath.Join(out, "input")
	if err := copyFS(examples.Study, examples.StudyDir, input); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, demoMarker), []byte("made by thematic demo; safe to delete\n"), 0o644); err != nil {
		return err
	}
	step := func(format string, args ...any) { fmt.Fprintf(opts.IO.ErrOut, "\n== "+format+"\n", args...) }
	quiet := &IOStreams{In: opts.IO.In, Out: io.Discard, ErrOut: opts.IO.ErrOut, ErrTTY: opts.IO.ErrTTY}
	dir := filepath.Join(out, "project")

	step("init: a project folder")
	if err := runInit(&InitOptions{IO: quiet, Dir: dir, Name: "Growing together"}); err != nil {
		return err
	}
	// The Zoom and Otter transcripts name the interviewer; say who she is.
	cfg := filepath.Join(dir, corpus.ConfigFile)
	data, err := os.ReadFile(cfg)
	if err != nil {
		return err
	}
	data = bytes.Replace(data, []byte("roles: {}"), []byte("roles:\n  Ruth Kerr: interviewer\n  Ruth: interviewer"), 1)
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		return err
	}
	cb, err := fs.ReadFile(examples.Study, examples.StudyDir+"/"+corpus.CodebookFile)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, corpus.CodebookFile), cb, 0o644); err != nil {
		return err
	}
	project := func() (*corpus.Project, error) { return corpus.Open(dir) }

	step("ingest: interviews in three waves (txt, docx, vtt), diaries, cases.csv")
	in := func(elem ...string) string { return filepath.Join(append([]string{input}, elem...)...) }
	ingests := []IngestOptions{
		{Paths: []string{in("cases.csv")}},
		{Paths: []string{in("interviews", "wave1")}, Kind: corpus.KindInterview},
		{Paths: []string{in("interviews", "wave2")}, Kind: corpus.KindInterview, Attrs: []string{"wave=2"}},
		{Paths: []string{in("interviews", "wave3")}, Kind: corpus.KindInterview, Attrs: []string{"wave=3"}},
		{Paths: []string{in("diaries")}, Kind: corpus.KindDiary},
	}
	for i := range ingests {
		o := &ingests[i]
		o.IO, o.Project, o.NoIndex = quiet, project, i < len(ingests)-1
		if err := runIngest(o); err != nil {
			return err
		}
	}
	if err := runSources(&SourcesOptions{IO: opts.IO, Project: project}); err != nil {
		return err
	}

	step("search: \"watering rota\" in participants' words")
	if err := runSearch(&SearchOptions{IO: opts.IO, Project: project, Query: `"watering rota"`, Roles: []string{corpus.RoleParticipant}, Limit: 4, Context: 50}); err != nil {
		return err
	}

	step("autocode: the codebook's rules code the sources as coder \"auto\"")
	if err := runAutocode(&AutocodeOptions{IO: opts.IO, Project: project}); err != nil {
		return err
	}

	step("import: a second coder's codings (bob, wave 2 and one diary)")
	if err := runImportQuotes(&ImportQuotesOptions{IO: quiet, Project: project, File: in("second-coder.csv"), Coder: "bob"}); err != nil {
		return err
	}

	results, err := demoReports(opts, project, out)
	if err != nil {
		return err
	}

	step("status")
	if err := runStatus(&StatusOptions{IO: opts.IO, Project: project}); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "\nResults:\n  project   %s\n  inputs    %s\n", dir, input)
	for _, r := range results {
		fmt.Fprintf(opts.IO.Out, "  %-9s %s\n", r[0], r[1])
	}
	fmt.Fprintf(opts.IO.Out, "\nTry: thematic -C %s search garden*\n", dir)
	return nil
}

// copyFS writes the tree under root of fsys to dir.
func copyFS(fsys fs.FS, root, dir string) error {
	return fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(path, root), "/")))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
