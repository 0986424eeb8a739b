// Package corpus holds a study's sources: the readers that turn transcripts,
// diaries and survey answers into normalised text, the speaker turns and
// segments found in that text, the project folder that stores them, and the
// bleve index used to search them.
//
// Positions are Unicode code points, 0-based and half-open, into a source's
// normalised text (NFC, LF line ends). Byte offsets never leave this package.
package corpus

import "time"

// Source kinds a researcher can give with --kind.
const (
	KindInterview  = "interview"
	KindFocusGroup = "focus-group"
	KindDiary      = "diary"
	KindNotes      = "notes"
	KindSurvey     = "survey"
)

// Segment units, from the largest to the smallest.
const (
	UnitTurn      = "turn"      // a speaker turn, a diary entry, or a block of unlabelled text
	UnitParagraph = "paragraph" // a blank-line separated block inside a turn
	UnitSentence  = "sentence"  // a sentence inside a paragraph
)

// Speaker roles.
const (
	RoleInterviewer = "interviewer"
	RoleParticipant = "participant"
	RoleOther       = "other"
)

// Source is one ingested document: its metadata sidecar (sources/ID.json)
// together with its normalised text (sources/ID.txt).
type Source struct {
	ID       string            `json:"id"`
	Title    string            `json:"title,omitempty"`
	Kind     string            `json:"kind"`
	Case     string            `json:"case,omitempty"`
	Number   int               `json:"number"` // stable ordinal within Kind, used in citations: "(Interview 11)"
	Attrs    map[string]string `json:"attributes,omitempty"`
	Format   string            `json:"format"`        // txt md docx odt vtt srt csv xlsx
	OrigPath string            `json:"original_path"` // as given at ingest, slash-separated
	RawSHA   string            `json:"raw_sha256"`    // of the original bytes
	SHA      string            `json:"sha256"`        // of the normalised text
	// PrevSHA lists the hashes of earlier versions of the normalised text,
	// oldest first, so codings made on them can be re-anchored.
	PrevSHA  []string  `json:"previous_sha256,omitempty"`
	Speakers []Speaker `json:"speakers,omitempty"`
	Ingested time.Time `json:"ingested"`
	Words    int       `json:"words"`
	Segments []Segment `json:"segments"`

	// Text is the normalised text; it is stored beside the sidecar, not in it.
	Text string `json:"-"`
}

// Speaker is a voice in a transcript and the role it plays.
type Speaker struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	Turns int    `json:"turns"`
}

// Segment is a span of a source's text at one unit of analysis. Turns contain
// paragraphs, which contain sentences; every segment knows its parent.
type Segment struct {
	ID      string `json:"id"` // stable for unchanged text: "t3", "t3.p1", "t3.p1.s2" (diary entries: "e4"...)
	Unit    string `json:"unit"`
	Parent  string `json:"parent,omitempty"`
	Start   int    `json:"start"` // code points, inclusive
	End     int    `json:"end"`   // code points, exclusive
	Line    int    `json:"line"`  // 1-based line of Start
	EndLine int    `json:"end_line"`
	Speaker string `json:"speaker,omitempty"`
	Role    string `json:"role,omitempty"`
	Time    string `json:"time,omitempty"` // timestamp as written in the transcript, e.g. "00:01:02"
	Date    string `json:"date,omitempty"` // diary entry date, YYYY-MM-DD where it could be read
}
