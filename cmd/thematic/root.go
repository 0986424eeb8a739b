package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
)

// Main runs thematic with args and returns the process exit status.
func Main(args []string, ios *IOStreams) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(ios.ErrOut, "thematic: %s\n", oneLine(err))
		return 1
	}
	return 0
}

// oneLine keeps an error to one line, as users read it.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", " ")), " ")
}

// globals are the flags every command shares.
type globals struct {
	Dir string // -C: run as if started in this folder
	ios *IOStreams

	CPUProfile  string // hidden --cpuprofile
	MemProfile  string // hidden --memprofile
	stopProfile func()
}

// project finds the project from -C or the working directory.
func (g *globals) project() (*corpus.Project, error) {
	dir := g.Dir
	if dir == "" {
		dir = "."
	}
	p, err := corpus.Find(dir)
	if errors.Is(err, corpus.ErrNoProject) && g.Dir != "" {
		return nil, fmt.Errorf("%s: %w", g.Dir, err)
	}
	return p, err
}

func newRootCmd(ios *IOStreams) *cobra.Command {
	g := &globals{ios: ios}
	root := &cobra.Command{
		Use:   "thematic",
		Short: "Thematic analysis of interviews and diaries from the command line",
		Long: `thematic ingests interview transcripts and diaries, indexes them for search,
codes them with a YAML codebook (deductive rules and manual, inductive coding),
measures agreement between coders and exports quote tables and matrices.

A project is a folder holding thematic.yaml; commands find it by walking up
from the working directory, or from -C DIR.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.Dir, "dir", "C", "", "run as if thematic was started in `DIR`")
	root.PersistentFlags().StringVar(&g.CPUProfile, "cpuprofile", "", "write a CPU profile to `FILE` (for performance work)")
	root.PersistentFlags().MarkHidden("cpuprofile")
	root.PersistentFlags().StringVar(&g.MemProfile, "memprofile", "", "write a heap profile (allocations) to `FILE` at exit (for performance work)")
	root.PersistentFlags().MarkHidden("memprofile")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if g.MemProfile != "" {
			runtime.MemProfileRate = 64 << 10
		}
		if g.CPUProfile == "" {
			return nil
		}
		f, err := os.Create(g.CPUProfile)
		if err != nil {
			return err
		}
		g.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		return pprof.StartCPUProfile(f)
	}
	root.PersistentPostRunE = func(cmd *cobra.Command, args []string) error {
		if g.stopProfile != nil {
			g.stopProfile()
		}
		if g.MemProfile == "" {
			return nil
		}
		f, err := os.Create(g.MemProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		return pprof.Lookup("allocs").WriteTo(f, 0)
	}
	for _, newCmd := range commands {
		root.AddCommand(newCmd(g))
	}
	attachRefiCommands(root, g)
	return root
}

// commands holds the constructor of every subcommand. Each command's file
// registers its own in an init function, so commands stay independent.
var commands []func(g *globals) *cobra.Command

func register(newCmd func(g *globals) *cobra.Command) { commands = append(commands, newCmd) }
