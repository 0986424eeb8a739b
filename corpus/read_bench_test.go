package corpus

import (
	"fmt"
	"strings"
	"testing"
)

// benchTranscriptText makes about n bytes of interview transcript with
// accented letters, curly quotes and CRLF line ends.
func benchTranscriptText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "Interviewer: How did the café job go in week %d?\r\n\r\n", i)
		b.WriteString("Participant: Honestly, it was “fine” – naïve of me to think otherwise, but the rota was hard and I didn’t sleep.\r\n\r\n")
	}
	return b.String()
}

func BenchmarkReadTxt1MB(b *testing.B) {
	data := []byte(benchTranscriptText(1 << 20))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("interview.txt", data, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadDocx(b *testing.B) {
	var body strings.Builder
	for i := 0; body.Len() < 1<<20; i++ {
		fmt.Fprintf(&body, `<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">Participant: </w:t></w:r>`+
			`<w:r><w:t>It was hard in week %d, and the </w:t></w:r><w:hyperlink r:id="rId1"><w:r><w:t>café</w:t></w:r></w:hyperlink>`+
			`<w:ins w:id="1"><w:r><w:t xml:space="preserve"> rota</w:t></w:r></w:ins><w:r><w:t xml:space="preserve"> did not help.</w:t></w:r></w:p>`, i)
	}
	doc := `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>` +
		body.String() + `</w:body></w:document>`
	data := docxPackage(b, doc)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("interview.docx", data, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadVTT(b *testing.B) {
	var v strings.Builder
	v.WriteString("WEBVTT\n\n")
	speakers := []string{"Priya Shah", "Priya Shah", "Tom O'Neil"}
	for i := 0; v.Len() < 1<<20; i++ {
		s := i * 3
		fmt.Fprintf(&v, "%d\n%02d:%02d:%02d.000 --> %02d:%02d:%02d.500\n%s: and so in week %d we tried the new rota, which was hard.\n\n",
			i+1, s/3600, s/60%60, s%60, (s+2)/3600, (s+2)/60%60, (s+2)%60, speakers[i%3], i)
	}
	data := []byte(v.String())
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("meeting.vtt", data, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCSV(b *testing.B) {
	var c strings.Builder
	c.WriteString("id,site,answer\n")
	for i := 0; c.Len() < 1<<20; i++ {
		fmt.Fprintf(&c, "R%d,North,\"The staff were kind, and the café was open late; week %d was fine.\"\n", i, i)
	}
	data := []byte(c.String())
	opts := ReadOptions{TextColumns: []string{"answer"}, IDColumn: "id"}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read("survey.csv", data, opts); err != nil {
			b.Fatal(err)
		}
	}
}
