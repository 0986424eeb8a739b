// Package analysis works on codings: the store of each coder's codings,
// autocoding by codebook rules, code queries, matrices and suggestions.
package analysis

import "time"

// Origins of a coding.
const (
	OriginManual = "manual"
	OriginSheet  = "sheet"
	// Rule origins are "rule:<code id>/<rule index>"; imports "import:<tool>".
)

// Coding is one coded span of a source's text by one coder. Start and End are
// code points into the source's normalised text; Quote, Prefix and Suffix
// anchor the span so it can be found again when the text changes.
type Coding struct {
	ID      string    `json:"id"`
	Source  string    `json:"source"`
	Start   int       `json:"start"`
	End     int       `json:"end"`
	Quote   string    `json:"quote"`
	Prefix  string    `json:"prefix,omitempty"`
	Suffix  string    `json:"suffix,omitempty"`
	Code    string    `json:"code"`
	Coder   string    `json:"coder"`
	Origin  string    `json:"origin"`
	Segment string    `json:"segment,omitempty"` // the segment coded, when a whole segment was
	Time    time.Time `json:"time"`
	Memo    string    `json:"memo,omitempty"`
	// Orphan marks a coding whose quote could not be found again after its
	// source changed; it keeps its last known position and is never dropped.
	Orphan bool `json:"orphan,omitempty"`
}
