package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestJSONGolden(t *testing.T) {
	tests := []struct {
		file string
		opts JSONOptions
	}{
		{"extracts.json", JSONOptions{}},
		{"extracts_indented.json", JSONOptions{Indent: "  "}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeJSON(&buf, extractTable().Records(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

func TestJSONRecordsDecode(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeJSON(&buf, extractTable().Records(), JSONOptions{Indent: "\t"}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(got) != 6 {
		t.Fatalf("%d records, want 6", len(got))
	}
	checks := []struct {
		rec  int
		key  string
		want any
	}{
		{0, "Extract", `I said "no", and that was that.`},
		{0, "start", 120.0},
		{0, "coded", true},
		{0, "date", "2024-03-01T00:00:00Z"},
		{1, "Extract", `=HYPERLINK("http://x","click")`}, // JSON keeps text as it is
		{2, "share", nil},                                // NaN
		{3, "Citation", "\tTabbed"},
		{3, "share", 1e21},
		{4, "Extract", "bell\x07 and NUL\x00 gone; | pipe * star _under_ `code` <b>x</b> &amp; $5"},
		{5, "date", nil}, // beyond a short row
	}
	for _, c := range checks {
		v, ok := got[c.rec][c.key]
		if !ok {
			t.Errorf("record %d has no %q", c.rec, c.key)
			continue
		}
		if v != c.want {
			t.Errorf("record %d %q = %#v, want %#v", c.rec, c.key, v, c.want)
		}
	}
	// Fields follow the column order.
	first := buf.String()[:strings.Index(buf.String(), "}")]
	if !(strings.Index(first, `"Theme"`) < strings.Index(first, `"Extract"`) && strings.Index(first, `"Extract"`) < strings.Index(first, `"date"`)) {
		t.Errorf("fields out of column order: %s", first)
	}
}

func TestJSONArbitraryRecords(t *testing.T) {
	type code struct {
		ID   string   `json:"id"`
		Tags []string `json:"tags,omitempty"`
	}
	tests := []struct {
		name string
		recs Records
		opts JSONOptions
		want string
	}{
		{"empty", func(emit func(any) error) error { return nil }, JSONOptions{}, "[]\n"},
		{"nil stream", nil, JSONOptions{Indent: "  "}, "[]\n"},
		{"compact", func(emit func(any) error) error {
			if err := emit(code{ID: "a<b"}); err != nil {
				return err
			}
			return emit(code{ID: "c", Tags: []string{"x"}})
		}, JSONOptions{}, "[\n{\"id\":\"a<b\"},\n{\"id\":\"c\",\"tags\":[\"x\"]}\n]\n"},
		{"indented", func(emit func(any) error) error {
			return emit(code{ID: "c", Tags: []string{"x"}})
		}, JSONOptions{Indent: "  "}, "[\n  {\n    \"id\": \"c\",\n    \"tags\": [\n      \"x\"\n    ]\n  }\n]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeJSON(&buf, tt.recs, tt.opts); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("output is not valid JSON")
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		recs Records
		want string
	}{
		{"unencodable value", func(emit func(any) error) error { return emit(make(chan int)) }, "element 1"},
		{"duplicate keys", Table{Columns: []Column{{Title: "A"}, {Title: "B", Key: "A"}}}.Records(), `two columns have the key "A"`},
		{"unsupported cell", Table{Columns: []Column{{Title: "A"}}, Rows: rowsOf([]any{struct{}{}})}.Records(), "unsupported cell value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := EncodeJSON(io.Discard, tt.recs, JSONOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	err := EncodeJSON(io.Discard, Table{Columns: []Column{{Title: "A"}, {Title: "B"}}, Rows: failingRows(2)}.Records(), JSONOptions{})
	if !errors.Is(err, errHalfway) {
		t.Errorf("err = %v, want the rows' error", err)
	}
}

func BenchmarkEncodeJSON100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeJSON(io.Discard, Table{Columns: benchColumns, Rows: benchRows(100000)}.Records(), JSONOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
