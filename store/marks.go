package store

import "slices"

// Mark is what ChannelMarks reports for one channel.
type Mark struct {
	Seq   int64 // newest change number that touched the channel
	Filed int64 // newest change number that filed an article in it or removed one (0 if none)
}

// Refiled returns the channels whose filings an article's write changes: those it leaves and
// those it enters, sorted. An article being created (or stored again after deletion) has no
// old channels, and one being deleted no new ones.
func Refiled(old, new []string) []string {
	var out []string
	for _, c := range old {
		if !slices.Contains(new, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, c := range new {
		if !slices.Contains(old, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
