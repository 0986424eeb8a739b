package analysis

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

func TestCodeQuotes(t *testing.T) {
	src := &corpus.Source{ID: "s1", Text: "Zoë: The café was calm.\nI liked it. I liked it.\n"}
	sources := map[string]*corpus.Source{"s1": src}
	known := func(c string) bool { return c != "nope" }
	tests := []struct {
		csv       string
		wantQuote string
		wantStart int
		wantErr   string // "file:line: ..." prefix
	}{
		{"source,code,quote\ns1,calm,The café was calm.\n", "The café was calm.", 5, ""},
		// The quote is NFC-normalised like the text: "cafe\u0301" is NFD.
		{"quote,source,code\n\"The cafe\u0301 was\",s1,calm\n", "The café was", 5, ""},
		{"source,code,quote\ns1,calm,I liked it.\n", "", 0, "q.csv:2: quote occurs more than once"},
		{"source,code,quote\ns1,calm,absent words\n", "", 0, "q.csv:2: quote not found"},
		{"source,code,quote\ns2,calm,calm\n", "", 0, "q.csv:2: no source"},
		{"source,code,quote\ns1,nope,calm\n", "", 0, "q.csv:2: code \"nope\""},
		{"source,quote\ns1,calm\n", "", 0, "q.csv:1: no \"code\" column"},
		{"source,code,quote\n\ns1,calm,\n", "", 0, "q.csv:3: source, code and quote"},
	}
	for _, tt := range tests {
		rows, err := ReadQuotes("q.csv", strings.NewReader(tt.csv))
		var cs []Coding
		if err == nil {
			cs, err = CodeQuotes("q.csv", rows, sources, known, "bob", OriginManual, time.Unix(0, 0))
		}
		if tt.wantErr != "" {
			var ie *errs.InputError
			if err == nil || !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q...", tt.csv, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.csv, err)
			continue
		}
		if len(cs) != 1 || cs[0].Quote != tt.wantQuote || cs[0].Start != tt.wantStart || cs[0].Coder != "bob" {
			t.Errorf("%q: codings = %+v, want quote %q at %d", tt.csv, cs, tt.wantQuote, tt.wantStart)
			continue
		}
		if got := string([]rune(src.Text)[cs[0].Start:cs[0].End]); got != tt.wantQuote {
			t.Errorf("offsets slice %q", got)
		}
	}
}
