package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// IngestOptions are what a researcher says about the files being ingested.
type IngestOptions struct {
	Kind  string            // "" = from front matter, else inferred (diary folders, surveys, else interview)
	Case  string            // "" = from front matter or survey id column
	ID    string            // source id for a single file; "" = from the file name
	Attrs map[string]string // source attributes; override front matter
	Read  ReadOptions
	Now   time.Time
	// Progress, when set, is told how many files have been read.
	Progress func(done, total int)
}

// IngestReport says what an ingest did.
type IngestReport struct {
	Added, Updated, Unchanged []string // source ids
	Skipped                   []string // warnings: files passed over in folders
	Cases                     int      // rows read from a cases.csv, if one was given
	// Previous holds the text each updated source had before, so that
	// codings on it can be re-anchored.
	Previous map[string]string
}

// Kinds lists the valid source kinds.
var Kinds = []string{KindInterview, KindFocusGroup, KindDiary, KindNotes, KindSurvey}

// ValidKind reports whether k is a known kind.
func ValidKind(k string) bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// Ingest reads the files and folders at paths into the project. Folders are
// walked recursively; unsupported files inside them are skipped with a
// warning, while an unsupported file named directly is an error. A file named
// cases.csv is taken as the case attributes table. Every file is read and
// checked before anything is written, so a bad file leaves the project
// untouched; each source is then written atomically. Callers hold the lock.
func (p *Project) Ingest(paths []string, opts IngestOptions) (*IngestReport, error) {
	if opts.Kind != "" && !ValidKind(opts.Kind) {
		return nil, errs.New("", 0, 0, "unknown kind %q (use one of %s)", opts.Kind, strings.Join(Kinds, ", "))
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	rep := &IngestReport{Previous: map[string]string{}}
	files, casesFile, err := collectFiles(paths, rep)
	if err != nil {
		return nil, err
	}
	if opts.ID != "" && len(files) != 1 {
		return nil, errs.New("", 0, 0, "--id names one source, but %d files were given", len(files))
	}
	var cases Cases
	if casesFile != "" {
		if cases, err = ReadCases(casesFile); err != nil {
			return nil, err
		}
		rep.Cases = len(cases)
	}

	known, err := ReadCases(p.Path(CasesFile))
	if err != nil {
		return nil, err
	}
	for id, attrs := range cases {
		known[id] = attrs
	}

	existing, err := p.Sources(false)
	if err != nil {
		return nil, err
	}
	byID := map[string]*Source{}
	maxNumber := map[string]int{}
	for _, s := range existing {
		byID[s.ID] = s
		if s.Number > maxNumber[s.Kind] {
			maxNumber[s.Kind] = s.Number
		}
	}

	// Read and check everything first, on every core; problems are then
	// reported in file order, as reading one file after the other would.
	read := readFiles(files, func(file string, data []byte) ([]*Source, error) {
		docs, err := Read(file, data, opts.Read)
		if err != nil {
			return nil, err
		}
		rawSum := sha256.Sum256(data)
		out := make([]*Source, 0, len(docs))
		for _, doc := range docs {
			src, err := p.newSource(file, doc, opts, known)
			if err != nil {
				return nil, err
			}
			src.RawSHA = hex.EncodeToString(rawSum[:])
			out = append(out, src)
		}
		return out, nil
	}, opts.Progress)
	var pending []*Source
	fromFile := map[string]string{} // new source id -> file, to catch two files with one id
	for i, file := range files {
		if read[i].err != nil {
			return nil, read[i].err
		}
		for _, src := range read[i].srcs {
			if other, dup := fromFile[src.ID]; dup {
				return nil, errs.New(file, 0, 0, "source id %q is also made from %s; give one of them --id or rename it", src.ID, other)
			}
			fromFile[src.ID] = file
			pending = append(pending, src)
		}
	}

	var save []*Source
	for _, src := range pending {
		old := byID[src.ID]
		switch {
		case old == nil:
			maxNumber[src.Kind]++
			src.Number = maxNumber[src.Kind]
			rep.Added = append(rep.Added, src.ID)
		case old.OrigPath != src.OrigPath:
			return nil, errs.New(src.OrigPath, 0, 0, "source id %q already holds %s; give this file another --id or rename it", src.ID, old.OrigPath)
		case old.SHA == HashText(src.Text) && sameMeta(old, src):
			rep.Unchanged = append(rep.Unchanged, src.ID)
			continue
		default:
			src.Number = old.Number
			if old.Kind != src.Kind {
				maxNumber[src.Kind]++
				src.Number = maxNumber[src.Kind]
			}
			src.PrevSHA = old.PrevSHA
			if old.SHA != HashText(src.Text) {
				src.PrevSHA = append(src.PrevSHA, old.SHA)
				prev, err := p.Source(old.ID, true)
				if err != nil {
					return nil, err
				}
				rep.Previous[src.ID] = prev.Text
			}
			rep.Updated = append(rep.Updated, src.ID)
		}
		save = append(save, src)
	}
	// Each source is written atomically (text, then sidecar); the writes
	// run side by side, as most of their time is spent waiting for fsync.
	if err := parallel(len(save), saveWorkers, func(i int) error { return p.SaveSource(save[i]) }); err != nil {
		return nil, err
	}
	if casesFile != "" {
		data, err := os.ReadFile(casesFile)
		if err != nil {
			return nil, err
		}
		if err := fsx.WriteFile(p.Path(CasesFile), data, 0o644); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// saveWorkers is the number of sources written at once: enough to overlap
// the fsyncs of their files (measured: 1.6 ms a file alone, 0.4 ms with 16
// at once on a virtual disk).
const saveWorkers = 16

// readResult is what reading one file gave.
type readResult struct {
	srcs []*Source
	err  error
}

// readFiles reads and converts files on every core and returns the result
// of each, in the order of files. progress, if set, is told how many files
// are done, one call at a time.
func readFiles(files []string, convert func(file string, data []byte) ([]*Source, error), progress func(done, total int)) []readResult {
	out := make([]readResult, len(files))
	var mu sync.Mutex
	done := 0
	parallel(len(files), runtime.GOMAXPROCS(0), func(i int) error {
		data, err := os.ReadFile(files[i])
		if err == nil {
			out[i].srcs, err = convert(files[i], data)
		}
		out[i].err = err
		if progress != nil {
			mu.Lock()
			done++
			progress(done, len(files))
			mu.Unlock()
		}
		return nil
	})
	return out
}

// parallel calls f(0..n-1) on up to workers goroutines and returns the
// error of the lowest index that failed. After a failure no new index is
// started.
func parallel(n, workers int, f func(i int) error) error {
	workers = max(1, min(workers, n))
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if errs[i] = f(i); errs[i] != nil {
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// sameMeta reports whether re-ingesting would change nothing but the time.
func sameMeta(a, b *Source) bool {
	if a.Kind != b.Kind || a.Case != b.Case || a.Title != b.Title || len(a.Attrs) != len(b.Attrs) || len(a.Segments) != len(b.Segments) {
		return false
	}
	for k, v := range a.Attrs {
		if b.Attrs[k] != v {
			return false
		}
	}
	return true
}

// newSource builds a source from a document read from file.
func (p *Project) newSource(file string, doc Document, opts IngestOptions, known Cases) (*Source, error) {
	attrs := map[string]string{}
	for k, v := range doc.Attrs {
		attrs[k] = v
	}
	kind := opts.Kind
	if kind == "" {
		kind = attrs["kind"]
		if kind != "" && !ValidKind(kind) {
			return nil, errs.New(file, 0, 0, "front matter kind %q is unknown (use one of %s)", kind, strings.Join(Kinds, ", "))
		}
	}
	delete(attrs, "kind")
	if kind == "" {
		kind = inferKind(file, doc.Format)
	}
	for k, v := range opts.Attrs {
		attrs[k] = v
	}
	id := opts.ID
	if id == "" {
		base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		id = Slug(base)
		if doc.Name != "" {
			id = Slug(base + "-" + doc.Name)
		}
	}
	if !validID(id) {
		return nil, errs.New(file, 0, 0, "source id %q must be letters, digits, '-', '_' or '.' (give --id)", id)
	}
	c := opts.Case
	if c == "" {
		c = doc.Case
	}
	if c == "" {
		c = caseFromName(filepath.Base(file), known)
	}
	title := doc.Title
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		if doc.Name != "" {
			title += " " + doc.Name
		}
	}
	segs, speakers := Segments(doc, kind, p.Config.Roles)
	if kind == KindInterview || kind == KindFocusGroup {
		guessInterviewer(doc.Text, segs, speakers, p.Config.Roles)
	}
	if kind == KindDiary || kind == KindSurvey {
		// A diary's or an answer's unlabelled words are the participant's own.
		for i := range segs {
			if segs[i].Speaker == "" {
				segs[i].Role = RoleParticipant
			}
		}
	}
	if len(segs) == 0 {
		return nil, errs.New(file, 0, 0, "no text to ingest")
	}
	return &Source{
		ID:       id,
		Title:    title,
		Kind:     kind,
		Case:     c,
		Attrs:    attrs,
		Format:   doc.Format,
		OrigPath: filepath.ToSlash(file),
		Speakers: speakers,
		Ingested: opts.Now,
		Words:    CountWords(doc.Text),
		Segments: segs,
		Text:     doc.Text,
	}, nil
}

func inferKind(file, format string) string {
	lower := strings.ToLower(filepath.ToSlash(file))
	switch {
	case format == "csv" || format == "xlsx":
		return KindSurvey
	case strings.Contains(lower, "diar") || strings.Contains(lower, "journal"):
		return KindDiary
	case strings.Contains(lower, "focus"):
		return KindFocusGroup
	case strings.Contains(lower, "note") || strings.Contains(lower, "memo"):
		return KindNotes
	}
	return KindInterview
}

// collectFiles expands folders, sorts, separates a cases.csv and checks
// that named files are supported.
func collectFiles(paths []string, rep *IngestReport) (files []string, casesFile string, err error) {
	if len(paths) == 0 {
		return nil, "", errs.New("", 0, 0, "nothing to ingest: name files or folders")
	}
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	for _, path := range paths {
		info, err := os.Stat(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, "", errs.New(path, 0, 0, "no such file or folder")
			}
			return nil, "", err
		}
		if !info.IsDir() {
			if strings.EqualFold(filepath.Base(path), CasesFile) {
				casesFile = path
				continue
			}
			if !Supported(path) {
				_, err := Read(path, nil, ReadOptions{}) // the reader's own message lists the formats
				return nil, "", err
			}
			add(path)
			continue
		}
		err = filepath.WalkDir(path, func(f string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if strings.HasPrefix(name, ".") && f != path {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			switch {
			case strings.EqualFold(name, CasesFile):
				casesFile = f
			case strings.EqualFold(name, "README.md") || strings.EqualFold(name, CodebookFile):
				rep.Skipped = append(rep.Skipped, f+": skipped (not a source)")
			case Supported(f):
				add(f)
			default:
				rep.Skipped = append(rep.Skipped, f+": skipped (unsupported format)")
			}
			return nil
		})
		if err != nil {
			return nil, "", err
		}
	}
	sort.Strings(files)
	return files, casesFile, nil
}

var idRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

func validID(id string) bool { return len(id) <= 120 && idRe.MatchString(id) }

// Slug makes a lowercase id from a name: letters and digits, runs of
// anything else as one '-'.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) && r < 128 || unicode.IsDigit(r) && r < 128 {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// CountWords counts runs of letters and digits (apostrophes inside words
// do not split them).
func CountWords(text string) int {
	n, in := 0, false
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || (in && (r == '\'' || r == '’')) {
			if !in {
				n++
			}
			in = true
		} else {
			in = false
		}
	}
	return n
}

// CaseAttrs returns the attributes of a source merged with its case's
// attributes from cases.csv; the source's own win.
func CaseAttrs(src *Source, cases Cases) map[string]string {
	out := map[string]string{}
	for k, v := range cases[src.Case] {
		out[k] = v
	}
	for k, v := range src.Attrs {
		out[k] = v
	}
	return out
}

// caseFromName finds a known case id at the start of a file name, followed
// by a separator: "P01-wave2.docx" belongs to case P01.
func caseFromName(name string, known Cases) string {
	best := ""
	for id := range known {
		if len(id) <= len(best) || len(name) <= len(id) || !strings.EqualFold(name[:len(id)], id) {
			continue
		}
		switch name[len(id)] {
		case '-', '_', ' ', '.':
			best = id
		}
	}
	return best
}

// guessInterviewer gives the interviewer role to the speaker who asks the
// most questions, when the labels named no interviewer and thematic.yaml
// maps no speaker to a role: Zoom and Teams label people by name, so
// "Ruth Kerr:" says nothing of who asks. The guess shows in 'thematic
// sources --json' and 'thematic show', and roles: in thematic.yaml corrects it.
func guessInterviewer(text string, segs []Segment, speakers []Speaker, overrides map[string]string) {
	if len(speakers) < 2 {
		return
	}
	for _, sp := range speakers {
		if sp.Role == RoleInterviewer {
			return
		}
		for name := range overrides {
			if strings.EqualFold(name, sp.Name) {
				return
			}
		}
	}
	runes := []rune(text)
	questions, sentences := map[string]int{}, map[string]int{}
	for _, s := range segs {
		if s.Unit != UnitSentence || s.Speaker == "" {
			continue
		}
		sentences[s.Speaker]++
		if strings.HasSuffix(strings.TrimSpace(string(runes[s.Start:s.End])), "?") {
			questions[s.Speaker]++
		}
	}
	// The share of a speaker's sentences that are questions; an interviewer's
	// is high (most of what they say asks), a participant's low.
	best, bestShare := "", 0.0
	for _, sp := range speakers {
		if sentences[sp.Name] == 0 {
			continue
		}
		if share := float64(questions[sp.Name]) / float64(sentences[sp.Name]); share > bestShare {
			best, bestShare = sp.Name, share
		}
	}
	if best == "" || bestShare < 0.25 {
		return
	}
	for i := range speakers {
		if speakers[i].Name == best {
			speakers[i].Role = RoleInterviewer
		}
	}
	for i := range segs {
		if segs[i].Speaker == best {
			segs[i].Role = RoleInterviewer
		}
	}
}
