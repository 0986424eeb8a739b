package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// SuggestOptions are the flags of 'thematic suggest'.
type SuggestOptions struct {
	IO          *IOStreams
	Project     func() (*corpus.Project, error)
	Roles       []string
	Uncoded     bool
	Coders      []string
	Top         int
	MinCount    int
	Clusters    int
	ClusterUnit string
	Reference   string // general or corpus
	NoEntities  bool
	Seed        uint64
	Extracts    int // shown per suggestion in the listing
	Out         string
	Force       bool
	Under       string
	JSON        bool
}

func init() { register(newSuggestCmd) }

func newSuggestCmd(g *globals) *cobra.Command {
	opts := &SuggestOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "suggest",
		Short: "Suggest candidate codes from the participants' words (nothing is coded)",
		Long: `Read what the participants said and wrote, and suggest candidate codes for a
researcher to judge. Nothing is coded. Four kinds of suggestion, each with a
label, a score, the cases and sources it comes from and extracts with their
citations:

  key phrases   nouns and noun phrases ("watering rota"), ranked by keyness:
                Dunning's log-likelihood G2 of the phrase in the participants'
                words against a general spoken-English word list shipped with
                thematic (or, with --reference corpus, the rest of the
                corpus), times the share of cases using it - a phrase many
                participants use outranks one person's repetition
  in-vivo       other recurring expressions in their own words ("trial and
                error"), ranked by how much more often the words meet than
                chance would have them, times the share of cases
  clusters      groups of uncoded segments that share words (TF-IDF and
                seeded k-means), each named by the words most key to it: what
                no code covers yet
  entities      people, places and organisations found by prose's model
                (listed apart; also what de-identification must cover; the
                model makes mistakes)

With --out FILE the suggestions are written to a YAML file: set keep: true on
the ones worth keeping, edit their names, definitions and words, and add them
to the codebook with 'thematic accept-suggestions FILE'. The same project and
flags always give the same suggestions.`,
		Example: `  thematic suggest
  thematic suggest --uncoded --top 30
  thematic suggest --out suggestions.yaml --under "Emerging codes"
  thematic suggest --reference corpus --roles participant --json
  thematic suggest --clusters 12 --cluster-unit turn --seed 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSuggest(opts) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Roles, "roles", []string{corpus.RoleParticipant}, "read the words of speakers with these roles")
	f.BoolVar(&opts.Uncoded, "uncoded", false, "read only sentences that no coding touches")
	f.StringSliceVar(&opts.Coders, "coder", nil, "codings that count as coded: these coders' (default: every coder's)")
	f.IntVar(&opts.Top, "top", suggest.DefaultTop, "at most `N` suggestions of each kind")
	f.IntVar(&opts.MinCount, "min-count", suggest.DefaultMinCount, "a phrase must occur at least `N` times")
	f.IntVar(&opts.Clusters, "clusters", 0, "number of clusters of uncoded segments (0: from their number; -1: none)")
	f.StringVar(&opts.ClusterUnit, "cluster-unit", corpus.UnitParagraph, "segments to cluster: turn, paragraph or sentence")
	f.StringVar(&opts.Reference, "reference", "general", "keyness against: general (the shipped word list; English only) or corpus (the text not read)")
	f.BoolVar(&opts.NoEntities, "no-entities", false, "skip named entities (the slowest step)")
	f.Uint64Var(&opts.Seed, "seed", 1, "seed of the clustering")
	f.IntVar(&opts.Extracts, "extracts", 2, "extracts shown per suggestion in the listing (the file and --json have up to 5)")
	f.StringVar(&opts.Out, "out", "", "write the suggestions to YAML `FILE` for editing and accept-suggestions")
	f.BoolVar(&opts.Force, "force", false, "with --out, replace an existing file")
	f.StringVar(&opts.Under, "under", "", "with --out, the theme kept suggestions go under (an id or name; a new theme if none)")
	f.BoolVar(&opts.JSON, "json", false, "print the suggestions as JSON")
	return cmd
}

func runSuggest(opts *SuggestOptions) error {
	switch opts.Reference {
	case "general", "corpus":
	default:
		return errs.New("", 0, 0, "--reference %q: use general or corpus", opts.Reference)
	}
	if err := checkUnit(opts.ClusterUnit); err != nil {
		return errs.New("", 0, 0, "--cluster-unit %q: use turn, paragraph or sentence", opts.ClusterUnit)
	}
	if err := suggestCheckRoles(opts.Roles); err != nil {
		return err
	}
	if opts.Top < 1 || opts.MinCount < 1 {
		return errs.New("", 0, 0, "--top and --min-count must be at least 1")
	}
	if opts.Clusters > suggest.MaxClusters*5 {
		return errs.New("", 0, 0, "--clusters %d: at most %d", opts.Clusters, suggest.MaxClusters*5)
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	if opts.Out != "" && !opts.Force {
		if _, err := os.Stat(opts.Out); err == nil {
			return errs.New(opts.Out, 0, 0, "the file exists (perhaps with your edits); give another --out or --force to replace it")
		}
	}
	// The sources' metadata now; Suggest reads their text as it goes.
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		return errs.New("", 0, 0, "no sources yet; add some with 'thematic ingest'")
	}
	srcs := make([]*corpus.Source, len(infos))
	for i := range infos {
		srcs[i] = &infos[i].Source
	}
	coverage := suggest.NewCoverage()
	err = uncodedCodings(p, opts.Coders, func(cs []analysis.Coding) error {
		coverage.Add(cs)
		return nil
	})
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	an, err := corpus.NewAnalyzer(p.Config.Language, p.Config.FoldAccents)
	if err != nil {
		return err
	}
	sopts := suggest.Options{
		Analyzer: an, Roles: opts.Roles, Coverage: coverage, Uncoded: opts.Uncoded, Top: opts.Top,
		Load:     func(id string) (*corpus.Source, error) { return p.Source(id, true) },
		MinCount: opts.MinCount, Clusters: opts.Clusters, ClusterUnit: opts.ClusterUnit,
		CorpusReference: opts.Reference == "corpus", NoEntities: opts.NoEntities, Seed: opts.Seed,
		Cite: func(s *corpus.Source) string {
			return corpus.Citation(p.Config.Citation, s, corpus.CaseAttrs(s, cases))
		},
	}
	if opts.Reference == "general" && suggest.General(an) == nil {
		fmt.Fprintf(opts.IO.ErrOut, "note: no general word list for language %q; comparing with the rest of the corpus\n", an.Language())
	}
	report, finish := progress(opts.IO, "reading")
	sopts.Progress = report
	res, err := suggest.Suggest(srcs, sopts)
	finish()
	if err != nil {
		return err
	}
	if res.Words == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "note: no words of speakers with roles %s to read\n", strings.Join(opts.Roles, ", "))
	}
	if opts.Out != "" {
		if err := suggestWriteFile(opts, p, res); err != nil {
			return err
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	suggestPrint(opts, res)
	return nil
}

// suggestCheckRoles refuses an unknown role.
func suggestCheckRoles(roles []string) error {
	for _, r := range roles {
		switch r {
		case corpus.RoleParticipant, corpus.RoleInterviewer, corpus.RoleOther:
		default:
			return errs.New("", 0, 0, "--roles %q: use participant, interviewer or other", r)
		}
	}
	return nil
}

func suggestWriteFile(opts *SuggestOptions, p *corpus.Project, res *suggest.Result) error {
	file := suggest.NewFile(res, opts.Under)
	summary := fmt.Sprintf("Made %s from %d sentences (%d words) of %d cases in %d sources of %q,\nroles %s%s; keyness against %s.",
		time.Now().UTC().Format("2006-01-02"), res.Sentences, res.Words, res.Cases, res.Sources, p.Config.Name,
		strings.Join(opts.Roles, ", "), map[bool]string{true: ", uncoded sentences only", false: ""}[opts.Uncoded], res.Reference)
	var b bytes.Buffer
	if err := file.Encode(&b, summary); err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	if err := fsx.WriteFile(opts.Out, b.Bytes(), 0o644); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errs.New(opts.Out, 0, 0, "cannot write: the folder does not exist")
		}
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "wrote %d suggestions to %s: set keep: true on those to keep, then run 'thematic accept-suggestions %s'\n",
		len(file.Suggestions), opts.Out, opts.Out)
	return nil
}

func suggestPrint(opts *SuggestOptions, res *suggest.Result) {
	w := opts.IO.Out
	color := opts.IO.Color()
	fmt.Fprintf(w, "Read %d sentences (%d words) of %d cases in %d sources; keyness against %s.\n",
		res.Sentences, res.Words, res.Cases, res.Sources, res.Reference)
	sections := []struct {
		title string
		list  []suggest.Suggestion
	}{
		{"Key phrases (score = keyness G2 x share of cases)", res.Phrases},
		{"In-vivo expressions (score = G2 of the words together x share of cases)", res.InVivo},
		{fmt.Sprintf("Clusters of uncoded segments (%d segments; %d without words to cluster by)", res.Segments, res.Unclustered), res.Clusters},
		{"Named entities (prose's model; check them)", res.Entities},
	}
	for _, sec := range sections {
		fmt.Fprintf(w, "\n%s\n", style(color, ansiBold, sec.title))
		if len(sec.list) == 0 {
			fmt.Fprintln(w, "  (none)")
			continue
		}
		for i, s := range sec.list {
			label := s.Label
			if s.Entity != "" {
				label += " [" + s.Entity + "]"
			}
			fmt.Fprintf(w, "%3d. %s  score %.2f  count %d  cases %d  sources %d", i+1, style(color, ansiBold, label), s.Score, s.Count, len(s.Cases), len(s.Sources))
			if len(s.Words) > 1 || (len(s.Words) == 1 && s.Words[0] != s.Label) {
				fmt.Fprintf(w, "  words: %s", strings.Join(s.Words, ", "))
			}
			fmt.Fprintln(w)
			for k, x := range s.Extracts {
				if k == opts.Extracts {
					break
				}
				fmt.Fprintf(w, "     %s %s\n", suggestShorten(x.Text, 110), style(color, ansiDim, x.Citation))
			}
		}
	}
}

// suggestShorten puts text on one line and cuts it at about n characters,
// at a word.
func suggestShorten(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	rs := []rune(text)
	if len(rs) <= n {
		return text
	}
	cut := n
	for cut > n/2 && rs[cut] != ' ' {
		cut--
	}
	return string(rs[:cut]) + " …"
}
