// Package examples ships the invented example study "Growing together" (see
// growing-together/README.md) inside the thematic binary, so that
// 'thematic demo' runs anywhere without a download.
package examples

import "embed"

// Study holds the folder growing-together/: interviews, diaries, cases.csv,
// codebook.yaml and a second coder's codings.
//
//go:embed growing-together
var Study embed.FS

// StudyDir is the name of the study's folder inside Study.
const StudyDir = "growing-together"
