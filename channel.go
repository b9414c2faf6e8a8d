package syndicate

import (
	"fmt"
	"regexp"
)

// Channel is one node of the portal's channel tree. A parent's feed holds its own items and all of
// its descendants'.
type Channel struct {
	Slug        string
	Title       string
	Description string
	Parent      string // "" for a root channel
	Schedule    string // cron spec of the build job
	Limit       int    // items per feed document
}

// slugPattern keeps slugs safe as NATS subject tokens (no '.', '*', '>' or spaces) and in URLs.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidSlug reports whether s can be a channel slug.
func ValidSlug(s string) bool { return slugPattern.MatchString(s) }

// Tree is the channel tree in configuration order. It is immutable once built.
type Tree struct {
	order    []string
	bySlug   map[string]*Channel
	children map[string][]string
}

// NewTree checks the channels (unique subject-safe slugs, parents that exist, no cycles) and
// builds the tree.
func NewTree(channels []Channel) (*Tree, error) {
	t := &Tree{bySlug: map[string]*Channel{}, children: map[string][]string{}}
	for i := range channels {
		c := channels[i]
		if !ValidSlug(c.Slug) {
			return nil, fmt.Errorf("channel %q: slug must match %s (it is a URL segment and a NATS subject token)", c.Slug, slugPattern)
		}
		if c.Slug == SiteFeed {
			return nil, fmt.Errorf("channel %q: the slug is reserved for the site-wide feed", c.Slug)
		}
		if _, dup := t.bySlug[c.Slug]; dup {
			return nil, fmt.Errorf("channel %q: defined twice", c.Slug)
		}
		t.bySlug[c.Slug] = &c
		t.order = append(t.order, c.Slug)
	}
	for _, s := range t.order {
		c := t.bySlug[s]
		if c.Parent == "" {
			continue
		}
		if _, ok := t.bySlug[c.Parent]; !ok {
			return nil, fmt.Errorf("channel %q: parent %q does not exist", s, c.Parent)
		}
		t.children[c.Parent] = append(t.children[c.Parent], s)
	}
	for _, s := range t.order {
		seen := map[string]bool{}
		for p := s; p != ""; p = t.bySlug[p].Parent {
			if seen[p] {
				return nil, fmt.Errorf("channel %q: parent chain forms a cycle", s)
			}
			seen[p] = true
		}
		if len(seen) > MaxChannelDepth { // event subjects hold at most that many path tokens (EventSubject)
			return nil, fmt.Errorf("channel %q: %d levels deep, at most %d allowed", s, len(seen), MaxChannelDepth)
		}
	}
	return t, nil
}

// Slugs returns every slug in configuration order.
func (t *Tree) Slugs() []string { return append([]string(nil), t.order...) }

// Channel returns the channel with the slug.
func (t *Tree) Channel(slug string) (Channel, bool) {
	c, ok := t.bySlug[slug]
	if !ok {
		return Channel{}, false
	}
	return *c, true
}

// Has reports whether the slug names a channel.
func (t *Tree) Has(slug string) bool { _, ok := t.bySlug[slug]; return ok }

// Children returns the direct children of slug in configuration order ("" gives the roots).
func (t *Tree) Children(slug string) []string {
	if slug == "" {
		var roots []string
		for _, s := range t.order {
			if t.bySlug[s].Parent == "" {
				roots = append(roots, s)
			}
		}
		return roots
	}
	return append([]string(nil), t.children[slug]...)
}

// Subtree returns slug followed by all of its descendants, depth first.
func (t *Tree) Subtree(slug string) []string {
	if !t.Has(slug) {
		return nil
	}
	out := []string{slug}
	for _, c := range t.children[slug] {
		out = append(out, t.Subtree(c)...)
	}
	return out
}

// Path returns the slugs from the root down to slug, e.g. [xianshiqu lingling].
func (t *Tree) Path(slug string) []string {
	var path []string
	for p := slug; p != ""; {
		c, ok := t.bySlug[p]
		if !ok {
			return nil
		}
		path = append([]string{p}, path...)
		p = c.Parent
	}
	return path
}
