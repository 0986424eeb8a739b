package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// JSONOptions says how to lay out a JSON array.
type JSONOptions struct {
	// Indent, such as "  ", spreads each record over indented lines; empty
	// writes each record on one line of its own.
	Indent string
}

// Records streams the elements of a JSON array: it calls emit once per
// element, in order, and returns the first error. Each element is encoded
// with encoding/json as soon as it is emitted, so emit keeps nothing.
type Records func(emit func(v any) error) error

// WriteJSON writes the records as a JSON array at path, atomically.
func WriteJSON(path string, recs Records, opts JSONOptions) error {
	return fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		return EncodeJSON(w, recs, opts)
	})
}

// EncodeJSON writes the records as a JSON array to w, one element at a
// time, in bounded memory. The array opens and closes on lines of their
// own and each element starts a line; HTML characters (< > &) are not
// escaped. An empty stream writes [].
func EncodeJSON(w io.Writer, recs Records, opts JSONOptions) error {
	bw := bufio.NewWriter(w)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if opts.Indent != "" {
		enc.SetIndent(opts.Indent, opts.Indent)
	}
	n := 0
	bw.WriteString("[")
	if recs != nil {
		err := recs(func(v any) error {
			buf.Reset()
			if rec, ok := v.(tableRecord); ok {
				// Already valid compact JSON: skip encoding/json's checks.
				if opts.Indent == "" {
					buf.Write(rec)
				} else if err := json.Indent(&buf, rec, opts.Indent, opts.Indent); err != nil {
					return fmt.Errorf("export: json: element %d: %w", n+1, err)
				}
			} else if err := enc.Encode(v); err != nil {
				return fmt.Errorf("export: json: element %d: %w", n+1, err)
			}
			if n > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n")
			bw.WriteString(opts.Indent)
			bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			n++
			return nil
		})
		if err != nil {
			return err
		}
	}
	if n > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: json: %w", err)
	}
	return nil
}

// Records returns the table's rows as JSON objects whose fields are the
// columns' keys (Column.Key, else Title), in column order. Values keep
// their JSON types: strings (unchanged, not cleaned), numbers, booleans,
// null for nil and for NaN and infinities (which JSON cannot hold), times
// in RFC 3339, and a Link as its text. Columns beyond a short row are null.
// Each record emitted is valid only until emit returns, as the next row
// reuses its memory.
func (t Table) Records() Records {
	return func(emit func(v any) error) error {
		ce := newCompactEncoder()
		keys := make([][]byte, len(t.Columns))
		seen := map[string]bool{}
		for i, c := range t.Columns {
			k := c.key()
			if seen[k] {
				return fmt.Errorf("export: json: two columns have the key %q", k)
			}
			seen[k] = true
			b, err := ce.encode(k)
			if err != nil {
				return fmt.Errorf("export: json: column %q: %w", k, err)
			}
			keys[i] = bytes.Clone(b)
		}
		var obj []byte
		return t.stream("json", func(n int, row []any) error {
			obj = append(obj[:0], '{')
			for i, k := range keys {
				if i > 0 {
					obj = append(obj, ',')
				}
				obj = append(obj, k...)
				obj = append(obj, ':')
				var v any
				if i < len(row) {
					v = jsonValue(row[i])
				}
				if _, ok := v.(unsupportedValue); ok {
					return unsupported("json", n, i, row[i])
				}
				switch v := v.(type) {
				case nil:
					obj = append(obj, "null"...)
				case bool:
					obj = strconv.AppendBool(obj, v)
				case int:
					obj = strconv.AppendInt(obj, int64(v), 10)
				case int64:
					obj = strconv.AppendInt(obj, v, 10)
				default:
					b, err := ce.encode(v)
					if err != nil {
						return fmt.Errorf("export: json: row %d, column %d: %w", n, i+1, err)
					}
					obj = append(obj, b...)
				}
			}
			obj = append(obj, '}')
			return emit(tableRecord(obj))
		})
	}
}

// tableRecord is one row of a table as compact JSON. It is valid JSON by
// construction, so EncodeJSON writes it as it is.
type tableRecord []byte

// MarshalJSON returns the record itself.
func (r tableRecord) MarshalJSON() ([]byte, error) { return r, nil }

// unsupportedValue marks a cell value of a type no writer handles.
type unsupportedValue struct{}

// jsonValue maps a cell value to the value to encode.
func jsonValue(v any) any {
	switch v := v.(type) {
	case nil, string, bool:
		return v
	case Link:
		return v.Text
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return v
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil
		}
		return v
	}
	if _, _, ok := cellText(v); ok {
		return v // integers and times
	}
	return unsupportedValue{}
}

// compactEncoder encodes values as compact JSON without escaping < > &,
// reusing one buffer.
type compactEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// newCompactEncoder returns a ready compactEncoder.
func newCompactEncoder() *compactEncoder {
	c := &compactEncoder{}
	c.enc = json.NewEncoder(&c.buf)
	c.enc.SetEscapeHTML(false)
	return c
}

// encode returns the encoding of v, valid until the next call.
func (c *compactEncoder) encode(v any) ([]byte, error) {
	c.buf.Reset()
	if err := c.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(c.buf.Bytes(), []byte("\n")), nil
}
