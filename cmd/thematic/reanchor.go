package main

import (
	"fmt"
	"strings"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// reanchorCodings moves every coder's codings on the sources whose text
// changed (previous maps source id -> old text) onto the new text, or marks
// them orphaned; nothing is dropped. Callers hold the project lock.
func reanchorCodings(p *corpus.Project, previous map[string]string, ios *IOStreams) error {
	if len(previous) == 0 {
		return nil
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	coders, err := store.Coders()
	if err != nil {
		return err
	}
	texts := map[string]string{}
	segs := map[string][]corpus.Segment{}
	for id := range previous {
		src, err := p.Source(id, true)
		if err != nil {
			return err
		}
		texts[id] = src.Text
		segs[id] = src.Segments
	}
	for _, coder := range coders {
		var moved, orphaned int
		err := store.Update(coder, func(cs []analysis.Coding) ([]analysis.Coding, error) {
			bySource := map[string][]int{}
			for i, c := range cs {
				if _, ok := texts[c.Source]; ok {
					bySource[c.Source] = append(bySource[c.Source], i)
				}
			}
			for id, idx := range bySource {
				group := make([]analysis.Coding, len(idx))
				for k, i := range idx {
					group[k] = cs[i]
				}
				m, o := analysis.Reanchor(group, texts[id])
				moved += m
				orphaned += o
				for k, i := range idx {
					group[k].Segment = reanchorSegment(group[k], segs[id])
					cs[i] = group[k]
				}
			}
			return cs, nil
		})
		if err != nil {
			return err
		}
		if moved+orphaned > 0 {
			fmt.Fprintf(ios.ErrOut, "Re-anchored %s's codings: %d moved, %d orphaned (see 'thematic status')\n", coder, moved, orphaned)
		}
	}
	return nil
}

// reanchorSegment is the id of the new segment a re-anchored whole-segment
// coding now covers exactly, of the same unit as before; "" when it no
// longer covers one (the coding stays, as a span).
func reanchorSegment(c analysis.Coding, segs []corpus.Segment) string {
	if c.Segment == "" || c.Orphan {
		return c.Segment
	}
	depth := strings.Count(c.Segment, ".")
	for _, s := range segs {
		if s.Start == c.Start && s.End == c.End && strings.Count(s.ID, ".") == depth {
			return s.ID
		}
	}
	return ""
}
