package main

import (
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress shows a bar on stderr when it is a terminal and nothing
// otherwise. The work reports through the func it returns; done ends it.
func progress(ios *IOStreams, label string) (report func(done, total int), done func()) {
	if !ios.ErrTTY {
		return func(int, int) {}, func() {}
	}
	p := mpb.New(mpb.WithOutput(ios.ErrOut), mpb.WithWidth(40))
	var bar *mpb.Bar
	report = func(n, total int) {
		if bar == nil {
			bar = p.AddBar(int64(total),
				mpb.PrependDecorators(decor.Name(label+" "), decor.CountersNoUnit("%d/%d")),
				mpb.AppendDecorators(decor.Percentage()))
		}
		bar.SetCurrent(int64(n))
	}
	done = func() {
		if bar != nil {
			bar.SetTotal(-1, true)
		}
		p.Wait()
	}
	return report, done
}
