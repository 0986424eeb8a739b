package corpus

import "testing"

func TestCitation(t *testing.T) {
	src := &Source{ID: "p11-w1", Kind: KindInterview, Number: 11, Case: "P11", Title: "Ana, first visit", Attrs: map[string]string{"wave": "1"}}
	diary := &Source{ID: "d4", Kind: KindDiary, Number: 4, Case: "P04"}
	fg := &Source{ID: "fg", Kind: KindFocusGroup, Number: 2}
	tests := []struct {
		tmpl  string
		src   *Source
		attrs map[string]string
		want  string
	}{
		{"({Kind} {n})", src, nil, "(Interview 11)"},
		{"({Kind} {n})", diary, nil, "(Diary 4)"},
		{"({Kind} {n})", fg, nil, "(Focus group 2)"},
		{"({case}, wave {wave})", src, nil, "(P11, wave 1)"},
		{"({case}, {site})", src, map[string]string{"site": "North"}, "(P11, North)"},
		{"[{source}] {title}", src, nil, "[p11-w1] Ana, first visit"},
		{"({Knid} {n})", src, nil, "({Knid} 11)"},
		{"unclosed {n", src, nil, "unclosed {n"},
	}
	for _, tt := range tests {
		if got := Citation(tt.tmpl, tt.src, tt.attrs); got != tt.want {
			t.Errorf("Citation(%q) = %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}
