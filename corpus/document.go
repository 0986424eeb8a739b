package corpus

// Document is what a reader makes of one input before segmentation: the
// normalised text and whatever structure the format itself carries.
type Document struct {
	// Text is normalised: valid UTF-8, NFC, LF line ends, no BOM.
	Text string
	// Turns are speaker turns the format already delimits (WebVTT/SRT cues
	// merged by speaker). Nil means "detect turns in Text".
	Turns []Turn
	// Attrs come from the document itself (YAML front matter, survey columns).
	Attrs map[string]string
	// Case and Title, when the document names them (front matter, survey id column).
	Case  string
	Title string
	// Name distinguishes several documents read from one file (survey rows);
	// empty for single-document formats.
	Name string
	// Format is the reader's name: txt md docx odt vtt srt csv xlsx.
	Format string
}

// Turn is a speaker turn or a diary entry: a span of Document.Text holding
// what was said or written, without its label line.
type Turn struct {
	Speaker string
	Time    string // timestamp as written, "" when none
	Date    string // diary entry date, YYYY-MM-DD, "" when none
	Start   int    // code points into Document.Text, inclusive
	End     int    // exclusive
}
