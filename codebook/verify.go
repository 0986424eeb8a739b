package codebook

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// expect says what an edit should change; check compares the codebooks
// before and after against it.
type expect struct {
	renamed map[string]string // old id -> new id
	removed map[string]bool   // ids that go
	added   map[string]placed // new ids
	moved   map[string]string // id -> new parent id ("" for the top)
	changed map[string]bool   // ids whose content changes
	extra   func(cur *Codebook) error
}

type placed struct{ parent, name string }

func parentID(n *Node) string {
	if n.Parent == nil {
		return ""
	}
	return n.Parent.ID
}

func (x expect) check(old, cur *Codebook) error {
	tr := func(id string) string {
		if r, ok := x.renamed[id]; ok {
			return r
		}
		return id
	}
	seen := map[string]bool{}
	for _, o := range old.Codes() {
		if x.removed[o.ID] {
			if cur.Node(o.ID) != nil {
				return fmt.Errorf("%q is still there", o.ID)
			}
			continue
		}
		id := tr(o.ID)
		seen[id] = true
		c := cur.Node(id)
		if c == nil {
			return fmt.Errorf("%q went missing", id)
		}
		if !x.changed[id] && fingerprint(o) != fingerprint(c) {
			return fmt.Errorf("%q changed", id)
		}
		want := ""
		if o.Parent != nil {
			want = tr(o.Parent.ID)
		}
		if p, ok := x.moved[id]; ok {
			want = p
		}
		if got := parentID(c); got != want {
			return fmt.Errorf("%q is under %q, not %q", id, got, want)
		}
	}
	for _, c := range cur.Codes() {
		if seen[c.ID] {
			continue
		}
		a, ok := x.added[c.ID]
		if !ok {
			return fmt.Errorf("%q appeared", c.ID)
		}
		if parentID(c) != a.parent || c.Name != a.name {
			return fmt.Errorf("%q was added as %q under %q", c.ID, c.Name, parentID(c))
		}
		delete(x.added, c.ID)
	}
	for id := range x.added {
		return fmt.Errorf("%q was not added", id)
	}
	if x.extra != nil {
		return x.extra(cur)
	}
	return nil
}

// fingerprint sums up what a node says, apart from its id and place.
func fingerprint(n *Node) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q %q %q %q %q %q %q|%q %q %q|", n.Name, n.Definition, n.WhenToUse, n.WhenNotToUse,
		n.Examples, n.Colour, n.Memo, n.own.unit, n.own.speakers, n.own.kinds)
	keys := make([]string, 0, len(n.own.attrs))
	for k := range n.own.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%q=%q ", k, n.own.attrs[k])
	}
	for _, r := range n.Rules {
		b.WriteString("|" + r.String())
	}
	return b.String()
}

// transact runs an edit and keeps it only when the result parses without
// problems and matches x.
func (e *Editor) transact(what string, x expect, edit func() error) error {
	lines, cb, probs, next := slices.Clone(e.lines), e.cb, e.probs, e.next
	undo := func() { e.lines, e.cb, e.probs, e.next = lines, cb, probs, next }
	if err := edit(); err != nil {
		undo()
		return err
	}
	// Every step ends by parsing its result, so e.cb and e.probs are current.
	if len(e.probs) > 0 {
		msg := e.probs[0].Msg
		undo()
		return fmt.Errorf("%s: %s would leave a problem in the codebook (%s); nothing was changed", e.path, what, msg)
	}
	if err := x.check(cb, e.cb); err != nil {
		undo()
		return fmt.Errorf("%s: internal error: %s went wrong (%v); nothing was changed", e.path, what, err)
	}
	e.changed = true
	return nil
}
