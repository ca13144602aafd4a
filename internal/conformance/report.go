package conformance

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report summarises a run.
type Report struct {
	Title   string
	Results []Result
}

var tableVerdicts = []Verdict{OK, NonStrict, Informational, Unimplemented, Failed, Skipped}

// Counts returns the number of results of each verdict, by family.
func (r Report) Counts() map[string]map[Verdict]int {
	out := map[string]map[Verdict]int{}
	for _, res := range r.Results {
		f := Case{ID: res.ID}.Family()
		if out[f] == nil {
			out[f] = map[Verdict]int{}
		}
		out[f][res.Verdict]++
	}
	return out
}

// Failed returns the results whose verdict is FAILED.
func (r Report) Failed() []Result { return r.with(Failed) }

func (r Report) with(v Verdict) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Verdict == v {
			out = append(out, res)
		}
	}
	return out
}

// Table formats the family × verdict counts.
func (r Report) Table() string {
	counts := r.Counts()
	var fams []string
	for f := range counts {
		fams = append(fams, f)
	}
	sort.Slice(fams, func(i, j int) bool { return lessID(fams[i], fams[j]) })
	cols := []Verdict{}
	for _, v := range tableVerdicts {
		if v == Skipped || v == Unimplemented {
			any := false
			for _, f := range fams {
				if counts[f][v] > 0 {
					any = true
				}
			}
			if !any && v == Skipped {
				continue
			}
		}
		cols = append(cols, v)
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "family\t")
	for _, v := range cols {
		fmt.Fprintf(tw, "%s\t", v)
	}
	fmt.Fprint(tw, "total\ttime\t\n")
	totals := map[Verdict]int{}
	all := 0
	durations := map[string]time.Duration{}
	var allTime time.Duration
	for _, res := range r.Results {
		durations[Case{ID: res.ID}.Family()] += res.Duration
		allTime += res.Duration
	}
	for _, f := range fams {
		fmt.Fprintf(tw, "%s %s\t", f, Families[f])
		n := 0
		for _, v := range cols {
			fmt.Fprintf(tw, "%d\t", counts[f][v])
			totals[v] += counts[f][v]
			n += counts[f][v]
		}
		all += n
		fmt.Fprintf(tw, "%d\t%v\t\n", n, durations[f].Round(time.Millisecond))
	}
	fmt.Fprint(tw, "all\t")
	for _, v := range cols {
		fmt.Fprintf(tw, "%d\t", totals[v])
	}
	fmt.Fprintf(tw, "%d\t%v\t\n", all, allTime.Round(time.Millisecond))
	_ = tw.Flush()
	return b.String()
}

// String is the table, then one line per case that is not OK (FAILED
// first), with its reason.
func (r Report) String() string {
	var b strings.Builder
	if r.Title != "" {
		b.WriteString(r.Title + "\n")
	}
	b.WriteString(r.Table())
	for _, v := range []Verdict{Failed, NonStrict, Informational, Unimplemented} {
		list := r.with(v)
		if len(list) == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (%d):\n", v, len(list))
		for _, res := range list {
			fmt.Fprintf(&b, "  %s: %s\n", res.ID, res.Explain())
		}
	}
	if n := len(r.with(Skipped)); n > 0 {
		fmt.Fprintf(&b, "SKIPPED: %d cases (message size above the limit)\n", n)
	}
	return b.String()
}
