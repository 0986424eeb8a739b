package corpus

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

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
	// Changed lists, sorted, the sources whose text changed (the updated
	// ones whose text is new, and those of an interrupted ingest that this
	// one completed): codings on them need re-anchoring.
	Changed []string
	// Previous is no longer filled: it held the old text of every changed
	// source at once, which a large re-ingest cannot afford, and codings
	// are re-anchored from their quotes, not from the old text.
	//
	// Deprecated: use Changed.
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
// cases.csv is taken as the case attributes table. Callers hold the lock.
//
// Ingest is all or nothing, in bounded memory. First every file is read,
// converted and checked, a few at a time on every core, and what changed is
// written into a staging folder in .thematic/; a bad file stops it there,
// the staging folder is removed and the project is untouched. Then the
// staged files are moved into sources/ (each source's text, then its
// sidecar), after a commit mark that lets the next ingest finish the moves
// if this one is interrupted. So sources/ never holds a half-written file,
// and memory holds only the files in flight, whatever their number.
func (p *Project) Ingest(paths []string, opts IngestOptions) (*IngestReport, error) {
	if opts.Kind != "" && !ValidKind(opts.Kind) {
		return nil, errs.New("", 0, 0, "unknown kind %q (use one of %s)", opts.Kind, strings.Join(Kinds, ", "))
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	rep := &IngestReport{}
	files, casesFile, err := collectFiles(paths, rep)
	if err != nil {
		return nil, err
	}
	if opts.ID != "" && len(files) != 1 {
		return nil, errs.New("", 0, 0, "--id names one source, but %d files were given", len(files))
	}
	var cases Cases
	var casesData []byte
	if casesFile != "" {
		if cases, err = ReadCases(casesFile); err != nil {
			return nil, err
		}
		if casesData, err = os.ReadFile(casesFile); err != nil {
			return nil, err
		}
		rep.Cases = len(cases)
	}

	// An earlier ingest interrupted while moving its files is completed
	// first, so that what follows sees its sources.
	if rep.Changed, err = p.recoverIngest(); err != nil {
		return nil, err
	}

	known, err := ReadCases(p.Path(CasesFile))
	if err != nil {
		return nil, err
	}
	for id, attrs := range cases {
		known[id] = attrs
	}

	// What is known of the existing sources: their sidecars without the
	// segments, mostly from the cache in .thematic/.
	infos, err := p.SourceInfos()
	if err != nil {
		return nil, err
	}
	in := &ingestRun{p: p, opts: opts, known: known, files: files, rep: rep,
		byID: make(map[string]*SourceInfo, len(infos)), maxNumber: map[string]int{}, fromFile: map[string]string{}}
	for i := range infos {
		s := &infos[i]
		in.byID[s.ID] = s
		in.maxNumber[s.Kind] = max(in.maxNumber[s.Kind], s.Number)
	}

	st, err := p.newStaging()
	if err != nil {
		return nil, err
	}
	defer func() {
		// Until the commit mark is written, a failure leaves nothing
		// behind; after it, the staging folder must stay for the next
		// ingest to complete the moves.
		if !st.marked {
			st.discard()
		}
	}()
	if err := in.stageAll(st); err != nil {
		return nil, err
	}
	if casesData != nil {
		if err := st.stageCases(casesData); err != nil {
			return nil, err
		}
	}
	changed, err := st.commit(in.changed)
	if err != nil {
		return nil, err
	}
	rep.Changed = mergeSorted(rep.Changed, changed)
	return rep, nil
}

// ingestRun is one ingest: what it knows before reading, and the
// decisions taken file by file, in file order.
type ingestRun struct {
	p     *Project
	opts  IngestOptions
	known Cases
	files []string
	rep   *IngestReport

	byID      map[string]*SourceInfo // existing sources
	maxNumber map[string]int         // highest number per kind so far
	fromFile  map[string]string      // source id -> file it is made from in this ingest
	changed   []string               // ids whose text changed
}

// convertFile reads one file into its sources, with their hashes; it runs
// on several files at once.
func (in *ingestRun) convertFile(file string) ([]*Source, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	docs, err := Read(file, data, in.opts.Read)
	if err != nil {
		return nil, err
	}
	rawSum := sha256.Sum256(data)
	raw := hex.EncodeToString(rawSum[:])
	out := make([]*Source, 0, len(docs))
	for _, doc := range docs {
		src, err := in.p.newSource(file, doc, in.opts, in.known)
		if err != nil {
			return nil, err
		}
		src.RawSHA = raw
		if src.Text == string(data) {
			src.SHA = raw // already normalised: the same bytes, the same hash
		} else {
			src.SHA = HashText(src.Text)
		}
		out = append(out, src)
	}
	return out, nil
}

// decide classifies a source read from file against the project, in file
// order: new ones take the next number of their kind. It reports whether
// the source must be written.
func (in *ingestRun) decide(file string, src *Source) (bool, error) {
	if other, dup := in.fromFile[src.ID]; dup {
		return false, errs.New(file, 0, 0, "source id %q is also made from %s; give one of them --id or rename it", src.ID, other)
	}
	in.fromFile[src.ID] = file
	old := in.byID[src.ID]
	switch {
	case old == nil:
		in.maxNumber[src.Kind]++
		src.Number = in.maxNumber[src.Kind]
		in.rep.Added = append(in.rep.Added, src.ID)
		return true, nil
	case old.OrigPath != src.OrigPath:
		return false, errs.New(src.OrigPath, 0, 0, "source id %q already holds %s; give this file another --id or rename it", src.ID, old.OrigPath)
	case old.SHA == src.SHA && sameMeta(old, src):
		in.rep.Unchanged = append(in.rep.Unchanged, src.ID)
		return false, nil
	}
	src.Number = old.Number
	if old.Kind != src.Kind {
		in.maxNumber[src.Kind]++
		src.Number = in.maxNumber[src.Kind]
	}
	src.PrevSHA = append([]string(nil), old.PrevSHA...)
	if old.SHA != src.SHA {
		src.PrevSHA = append(src.PrevSHA, old.SHA)
		in.changed = append(in.changed, src.ID)
	}
	in.rep.Updated = append(in.rep.Updated, src.ID)
	return true, nil
}

// Bounds on the work in flight while staging. At most ingestWindow files
// are read or converted ahead of the one being decided, at most
// stageQueue sources wait for a writer, and stageWriters write at once
// (enough to overlap their fsyncs with the conversions). Memory is thus a
// few dozen sources, whatever the number of files.
const (
	stageQueue   = 8
	stageWriters = 8
)

func ingestWindow() int { return 2*runtime.GOMAXPROCS(0) + 2 }

// stageAll reads and converts the files on every core, decides on each
// source in file order and writes those that changed into st. It returns
// the first problem in file order, as reading one file after the other
// would, or else the first failure to write.
func (in *ingestRun) stageAll(st *ingestStaging) error {
	n := len(in.files)
	type result struct {
		srcs []*Source
		err  error
	}
	// File i's result goes to results[i%window]: a file takes a slot before
	// it is read and gives it back once its result is taken, so no two
	// files in flight share a channel.
	window := ingestWindow()
	results := make([]chan result, window)
	for i := range results {
		results[i] = make(chan result, 1)
	}
	var stop atomic.Bool // set on the first problem: the rest is skipped
	slots := make(chan struct{}, window)
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := 0; i < n; i++ {
			slots <- struct{}{}
			jobs <- i
		}
	}()
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Go(func() {
			for i := range jobs {
				var r result
				if !stop.Load() {
					r.srcs, r.err = in.convertFile(in.files[i])
				}
				results[i%window] <- r
			}
		})
	}

	writes := make(chan *Source, stageQueue)
	var writeErr error
	var writeMu sync.Mutex
	var writers sync.WaitGroup
	for w := 0; w < stageWriters; w++ {
		writers.Go(func() {
			var buf []byte
			for src := range writes {
				if stop.Load() {
					continue
				}
				var err error
				if buf, err = st.stageSource(buf[:0], src); err != nil {
					writeMu.Lock()
					if writeErr == nil {
						writeErr = err
					}
					writeMu.Unlock()
					stop.Store(true)
				}
			}
		})
	}

	var firstErr error
	for i := 0; i < n; i++ {
		r := <-results[i%window]
		<-slots
		if firstErr != nil || stop.Load() {
			continue // drain what is in flight
		}
		err := r.err
		for _, src := range r.srcs {
			if err != nil {
				break
			}
			var save bool
			if save, err = in.decide(in.files[i], src); save {
				writes <- src
			}
		}
		if err != nil {
			firstErr = err
			stop.Store(true)
		}
		if in.opts.Progress != nil {
			in.opts.Progress(i+1, n)
		}
	}
	close(writes)
	wg.Wait()
	writers.Wait()
	if firstErr != nil {
		return firstErr
	}
	return writeErr
}

// sameMeta reports whether re-ingesting would change nothing but the time.
func sameMeta(a *SourceInfo, b *Source) bool {
	segs := 0
	for _, n := range a.Units {
		segs += n
	}
	if a.Kind != b.Kind || a.Case != b.Case || a.Title != b.Title || len(a.Attrs) != len(b.Attrs) || segs != len(b.Segments) {
		return false
	}
	for k, v := range a.Attrs {
		if b.Attrs[k] != v {
			return false
		}
	}
	return true
}

// mergeSorted returns the sorted union of two lists of ids.
func mergeSorted(a, b []string) []string {
	out := append(append([]string(nil), a...), b...)
	sort.Strings(out)
	return slices.Compact(out)
}

// ---- staging -----------------------------------------------------------------

// Where an ingest stages its files, under .thematic/, and the mark that
// says every staged file is complete and the moves may begin.
const (
	ingestStagingDir = "ingest-staging"
	ingestCommitMark = "COMMIT"
)

// ingestStaging is the staging folder of one ingest. Staged files are
// written straight (not through a temporary name) and flushed: until the
// commit mark exists, nothing in the folder is trusted.
type ingestStaging struct {
	p   *Project
	dir string
	mu  sync.Mutex
	ids []string // staged sources, in the order they were staged
	// marked is set once the commit mark is written: from then on the
	// staged files belong in the project.
	marked bool
}

// newStaging makes an empty staging folder.
func (p *Project) newStaging() (*ingestStaging, error) {
	dir := p.Path(CacheDir, ingestStagingDir)
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &ingestStaging{p: p, dir: dir}, nil
}

// discard removes the staging folder of an ingest that failed.
func (st *ingestStaging) discard() { os.RemoveAll(st.dir) }

// stageSource writes a source's text and sidecar into the staging folder,
// encoding the sidecar into buf, which it returns for reuse.
func (st *ingestStaging) stageSource(buf []byte, src *Source) ([]byte, error) {
	buf, err := appendSidecar(buf, src)
	if err != nil {
		return buf, err
	}
	buf = append(buf, '\n')
	txt, sidecar := filepath.Join(st.dir, src.ID+".txt"), filepath.Join(st.dir, src.ID+".json")
	if err := writeSynced(txt, nil, src.Text); err != nil {
		return buf, err
	}
	if err := writeSynced(sidecar, buf, ""); err != nil {
		return buf, err
	}
	// The source cache entry is made now, from the source at hand, so
	// that nothing need decode the sidecar again; renaming the staged
	// files keeps what the entry records of them.
	st.p.cacheSaved(src, sidecar, txt)
	st.mu.Lock()
	st.ids = append(st.ids, src.ID)
	st.mu.Unlock()
	return buf, nil
}

// stageCases stages the project's new cases.csv.
func (st *ingestStaging) stageCases(data []byte) error {
	return writeSynced(filepath.Join(st.dir, CasesFile), data, "")
}

// writeSynced writes a new file, the bytes of data or else of text (a
// string is written without a copy), and flushes it to disk.
func writeSynced(path string, data []byte, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if data != nil {
		_, err = f.Write(data)
	} else {
		_, err = f.WriteString(text)
	}
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// commit moves the staged files into the project and removes the staging
// folder. changed lists the sources whose text changed; it is kept in the
// commit mark so that an ingest completing this one after a crash can have
// their codings re-anchored. commit returns changed, sorted.
func (st *ingestStaging) commit(changed []string) ([]string, error) {
	changed = mergeSorted(nil, changed)
	st.mu.Lock()
	staged := len(st.ids)
	st.mu.Unlock()
	_, err := os.Stat(filepath.Join(st.dir, CasesFile))
	if staged == 0 && err != nil {
		st.discard() // nothing to move
		return changed, nil
	}
	// The staged files were flushed one by one; their names in the
	// folder must be on disk too before the mark says they are complete.
	syncDir(st.dir)
	mark := strings.Join(changed, "\n")
	if err := fsx.WriteFile(filepath.Join(st.dir, ingestCommitMark), []byte(mark), 0o644); err != nil {
		return nil, err
	}
	st.marked = true
	if _, err := st.p.finishStaged(st.dir, st.ids); err != nil {
		return nil, fmt.Errorf("moving the ingested files into %s: %w (the next ingest completes the move)", SourcesDir, err)
	}
	return changed, nil
}

// recoverIngest looks for the staging folder of an earlier ingest: one
// that was committed is completed (its remaining files are moved into the
// project) and the sources whose text it changed are returned; one that was
// not is removed.
func (p *Project) recoverIngest() ([]string, error) {
	dir := p.Path(CacheDir, ingestStagingDir)
	if _, err := os.Stat(filepath.Join(dir, ingestCommitMark)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, os.RemoveAll(dir)
		}
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		id := strings.TrimSuffix(strings.TrimSuffix(name, ".txt"), ".json")
		if id != name && !seen[id] && !strings.HasPrefix(name, ".") {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return p.finishStaged(dir, ids)
}

// finishStaged moves the staged files of ids (each source's text, then its
// sidecar; those already moved are skipped) and a staged cases.csv into
// the project, flushes the folders and removes the staging folder with its
// commit mark. It returns the changed sources the mark lists.
func (p *Project) finishStaged(dir string, ids []string) ([]string, error) {
	mark, err := os.ReadFile(filepath.Join(dir, ingestCommitMark))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(p.Path(SourcesDir), 0o755); err != nil {
		return nil, err
	}
	for _, id := range ids {
		for _, ext := range []string{".txt", ".json"} {
			if err := moveStaged(filepath.Join(dir, id+ext), p.Path(SourcesDir, id+ext)); err != nil {
				return nil, err
			}
		}
	}
	if err := moveStaged(filepath.Join(dir, CasesFile), p.Path(CasesFile)); err != nil {
		return nil, err
	}
	syncDir(p.Path(SourcesDir))
	syncDir(p.Root)
	if err := os.Remove(filepath.Join(dir, ingestCommitMark)); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	var changed []string
	for _, id := range strings.Split(string(mark), "\n") {
		if id != "" {
			changed = append(changed, id)
		}
	}
	return changed, nil
}

// moveStaged renames a staged file over its place in the project; a file
// not in the staging folder (already moved) is skipped. Where the rename
// fails otherwise (the cache folder on another file system), the file is
// copied atomically instead.
func moveStaged(from, to string) error {
	err := os.Rename(from, to)
	if err == nil {
		return nil
	}
	if _, serr := os.Lstat(from); errors.Is(serr, fs.ErrNotExist) {
		return nil
	}
	data, rerr := os.ReadFile(from)
	if rerr != nil {
		return err
	}
	if err := fsx.WriteFile(to, data, 0o644); err != nil {
		return err
	}
	return os.Remove(from)
}

// syncDir flushes a folder's entries (the files renamed into it) to disk,
// as far as the system can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
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
	// ASCII, most of most texts, goes through a table without branching
	// on word boundaries: in is 1 inside a word; a letter or digit (class
	// 1) starts or continues one, an apostrophe (class 2) continues one.
	n, in := 0, uint8(0)
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			cl := asciiWordClass[c]
			next := cl&1 | in&(cl>>1)
			n += int(next &^ in)
			in = next
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if unicode.IsLetter(r) || unicode.IsDigit(r) || (in == 1 && r == '’') {
			if in == 0 {
				n++
			}
			in = 1
		} else {
			in = 0
		}
	}
	return n
}

// asciiWordClass is 1 for the ASCII letters and digits, 2 for the
// apostrophe, 0 for the rest.
var asciiWordClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		if unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) {
			t[c] = 1
		}
	}
	t['\''] = 2
	return t
}()

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
	idx := newCPIndex(text)
	questions, sentences := map[string]int{}, map[string]int{}
	for _, s := range segs {
		if s.Unit != UnitSentence || s.Speaker == "" {
			continue
		}
		sentences[s.Speaker]++
		if strings.HasSuffix(strings.TrimSpace(text[idx.byteAt(s.Start):idx.byteAt(s.End)]), "?") {
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
