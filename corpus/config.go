package corpus

// Config is a project's thematic.yaml.
type Config struct {
	Name string `yaml:"name"`
	// Language of the text analysis: "en" (default) or any language bleve
	// analyses (de, fr, es, it, nl, pt, ...).
	Language string `yaml:"language"`
	// FoldAccents makes naïve match naive in search and rules.
	FoldAccents bool `yaml:"fold_accents"`
	// Citation is the template of citation labels, with {kind} {Kind} {n}
	// {case} {source} {title} and {ATTRIBUTE} placeholders. Default "({Kind} {n})".
	Citation string `yaml:"citation"`
	// Coder is the default coder name for manual coding ($THEMATIC_CODER wins).
	Coder string `yaml:"coder"`
	// Roles maps speaker names (case-insensitive) to a role, overriding the
	// defaults (I/Interviewer/Moderator/Facilitator -> interviewer, others -> participant).
	Roles map[string]string `yaml:"roles"`
}
