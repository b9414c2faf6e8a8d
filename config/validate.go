package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schedule"
)

// MaxLimit bounds a channel's item limit: a feed is a window, not an archive.
const MaxLimit = 1000

// finish fills derived defaults and validates every value, naming the key at fault.
func (c *Config) finish() error {
	c.Site.BaseURL = syndicate.TrimBaseURL(c.Site.BaseURL)
	u, err := url.Parse(c.Site.BaseURL)
	if err == nil {
		// Scheme and host are case-insensitive, but the base URL is copied into every item id
		// (tag:host,…) and event source: a change of case alone must not change them all.
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	}
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("site.base_url: %q must be an absolute http(s) URL", c.Site.BaseURL)
	}
	c.Site.BaseURL = syndicate.TrimBaseURL(u.String())
	if strings.TrimSpace(c.Site.Title) == "" {
		return fmt.Errorf("site.title: must not be empty")
	}
	if _, err := time.LoadLocation(c.Site.Timezone); err != nil || c.Site.Timezone == "" {
		return fmt.Errorf("site.timezone: unknown time zone %q", c.Site.Timezone)
	}
	if c.Site.TagDate == "" {
		return fmt.Errorf("site.tag_date: must not be empty (it is part of every item id)")
	}
	if _, err := time.Parse("2006", c.Site.TagDate); err != nil {
		if _, err := time.Parse("2006-01-02", c.Site.TagDate); err != nil {
			return fmt.Errorf("site.tag_date: %q must be YYYY or YYYY-MM-DD (RFC 4151)", c.Site.TagDate)
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir: must not be empty")
	}
	if _, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		return fmt.Errorf("http.addr: %q must be host:port or :port (e.g. :8080): %v", c.HTTP.Addr, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("http.addr: %q has port %q; a port is 0 to 65535", c.HTTP.Addr, port)
	}
	if c.Store.DSN == "" {
		c.Store.DSN = "sqlite:" + filepath.Join(c.DataDir, "syndicate.db")
	}
	if !strings.HasPrefix(c.Store.DSN, "sqlite:") && !strings.HasPrefix(c.Store.DSN, "postgres://") && !strings.HasPrefix(c.Store.DSN, "postgresql://") {
		scheme, _, _ := strings.Cut(c.Store.DSN, ":") // not the whole DSN: it may hold a password
		return fmt.Errorf("store.dsn: scheme %q: must be sqlite:PATH or postgres://…", scheme)
	}
	if c.NATS.StoreDir == "" {
		c.NATS.StoreDir = filepath.Join(c.DataDir, "nats")
	}
	if err := c.checkNATS(); err != nil {
		return err
	}
	if c.HTTP.Addr == "" {
		return fmt.Errorf("http.addr: must not be empty")
	}
	if c.HTTP.MaxInFlight < 1 {
		return fmt.Errorf("http.max_in_flight: %d must be at least 1", c.HTTP.MaxInFlight)
	}
	if c.HTTP.IdentityCacheBytes < 0 {
		return fmt.Errorf("http.identity_cache_bytes: %d must not be negative", c.HTTP.IdentityCacheBytes)
	}
	if c.HTTP.MaxAgeMin.D() <= 0 || c.HTTP.MaxAgeMax.D() < c.HTTP.MaxAgeMin.D() {
		return fmt.Errorf("http.max_age_min, http.max_age_max: need 0 < min <= max (got %s, %s)", c.HTTP.MaxAgeMin, c.HTTP.MaxAgeMax)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		return fmt.Errorf("log.format: %q must be json or text", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q must be debug, info, warn or error", c.Log.Level)
	}
	if _, err := schedule.ParseSpec(c.Defaults.Schedule, c.Site.Timezone); err != nil {
		return fmt.Errorf("defaults.schedule: %w", err)
	}
	if c.Defaults.Limit < 1 || c.Defaults.Limit > MaxLimit {
		return fmt.Errorf("defaults.limit: %d must be between 1 and %d", c.Defaults.Limit, MaxLimit)
	}
	if len(c.Channels) == 0 {
		return fmt.Errorf("channels: at least one channel is needed")
	}
	for _, h := range c.WebSub.HubList() {
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("websub.hubs: %q must be an absolute http(s) URL", h)
		}
	}
	if c.Import.BatchSize < 1 {
		return fmt.Errorf("import.batch_size: must be at least 1")
	}
	if err := c.WebSub.check(); err != nil {
		return err
	}
	if err := c.Jobs.check(); err != nil {
		return err
	}
	if err := c.checkLimits(); err != nil {
		return err
	}
	tree, err := c.Tree()
	if err != nil {
		return err
	}
	return c.checkSources(tree)
}

func (c *Config) checkSources(tree *syndicate.Tree) error {
	in := c.Ingest
	switch {
	case in.Timeout.D() <= 0:
		return fmt.Errorf("ingest.timeout: must be positive")
	case in.MaxBytes <= 0:
		return fmt.Errorf("ingest.max_bytes: must be positive")
	case in.MaxRedirects < 0:
		return fmt.Errorf("ingest.max_redirects: must not be negative")
	case in.BackoffMax.D() < time.Second:
		return fmt.Errorf("ingest.backoff_max: must be at least 1s")
	}
	seen := map[string]bool{}
	for i, s := range c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		if s.Name != "" {
			key = fmt.Sprintf("sources[%s]", s.Name)
		}
		if !syndicate.ValidSlug(s.Name) {
			return fmt.Errorf("%s.name: %q must be lower-case letters, digits, '-' or '_'", key, s.Name)
		}
		if seen[s.Name] {
			return fmt.Errorf("%s.name: defined twice", key)
		}
		seen[s.Name] = true
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url: %q must be an absolute http(s) URL", key, s.URL)
		}
		if len(s.Channels) == 0 {
			return fmt.Errorf("%s.channels: needs at least one channel", key)
		}
		for _, ch := range s.Channels {
			if !tree.Has(ch) {
				return fmt.Errorf("%s.channels: unknown channel %q", key, ch)
			}
		}
		if _, err := schedule.ParseSpec(s.Schedule, c.Site.Timezone); err != nil {
			return fmt.Errorf("%s.schedule: %w", key, err)
		}
	}
	return nil
}

func (c *Config) checkNATS() error {
	n := &c.NATS
	if n.Stream == "" || strings.ContainsAny(n.Stream, ". *>\t") {
		return fmt.Errorf("nats.stream: %q must be a non-empty name without '.', '*', '>' or spaces", n.Stream)
	}
	for _, tok := range strings.Split(n.SubjectPrefix, ".") {
		if tok == "" || strings.ContainsAny(tok, " *>\t") {
			return fmt.Errorf("nats.subject_prefix: %q must be dot-separated tokens without '*', '>' or spaces", n.SubjectPrefix)
		}
	}
	if n.Replicas < 1 || n.Replicas > 5 {
		return fmt.Errorf("nats.replicas: %d must be between 1 and 5", n.Replicas)
	}
	if n.URL == "" && n.Replicas != 1 {
		return fmt.Errorf("nats.replicas: the embedded server is a single node, so replicas must be 1")
	}
	if n.StartupTimeout.D() <= 0 {
		return fmt.Errorf("nats.startup_timeout: %s must be positive", n.StartupTimeout)
	}
	if n.Duplicates.D() < time.Minute {
		return fmt.Errorf("nats.duplicates: %s must be at least 1m (the relay's longest retry gap)", n.Duplicates)
	}
	if n.MaxAge.D() == 0 {
		// JetStream reads 0 as "keep for ever"; the publisher would read it as "the default". An
		// operator who wrote 0 meant one of the two: ask which.
		return fmt.Errorf("nats.max_age: 0 is ambiguous; give how long the stream keeps events (e.g. 30d, the default; 36500d for as good as for ever)")
	}
	if n.MaxAge.D() < n.Duplicates.D() {
		return fmt.Errorf("nats.max_age: %s must not be shorter than nats.duplicates (%s)", n.MaxAge, n.Duplicates)
	}
	return nil
}

// SiteInfo returns the site as the domain types see it.
func (c *Config) SiteInfo() syndicate.Site {
	return syndicate.Site{
		Title: c.Site.Title, Description: c.Site.Description, BaseURL: c.Site.BaseURL,
		Language: c.Site.Language, Timezone: c.Site.Timezone, TagDate: c.Site.TagDate,
	}
}

// Tree flattens the configured channels into a validated tree; children inherit their parent's
// schedule and limit, roots the defaults.
func (c *Config) Tree() (*syndicate.Tree, error) {
	var flat []syndicate.Channel
	var add func(list []Channel, path string, parent string, sched string, limit int) error
	add = func(list []Channel, path string, parent string, sched string, limit int) error {
		for i, ch := range list {
			key := fmt.Sprintf("%s[%d]", path, i)
			if ch.Slug != "" {
				key = fmt.Sprintf("%s[%s]", path, ch.Slug)
			}
			if ch.Parent != "" && parent != "" && ch.Parent != parent {
				return fmt.Errorf("%s.parent: %q contradicts the enclosing channel %q", key, ch.Parent, parent)
			}
			if ch.Parent == "" {
				ch.Parent = parent
			}
			if !syndicate.ValidSlug(ch.Slug) {
				return fmt.Errorf("%s.slug: %q must be lower-case letters, digits, '-' or '_' (it is a URL segment and a NATS subject token)", key, ch.Slug)
			}
			if strings.TrimSpace(ch.Title) == "" {
				return fmt.Errorf("%s.title: must not be empty", key)
			}
			if ch.Schedule == "" {
				ch.Schedule = sched
			}
			if _, err := schedule.ParseSpec(ch.Schedule, c.Site.Timezone); err != nil {
				return fmt.Errorf("%s.schedule: %w", key, err)
			}
			if ch.Limit == 0 {
				ch.Limit = limit
			}
			if ch.Limit < 1 || ch.Limit > MaxLimit {
				return fmt.Errorf("%s.limit: %d must be between 1 and %d", key, ch.Limit, MaxLimit)
			}
			flat = append(flat, syndicate.Channel{Slug: ch.Slug, Title: ch.Title, Description: ch.Description,
				Parent: ch.Parent, Schedule: ch.Schedule, Limit: ch.Limit})
			if err := add(ch.Children, key+".children", ch.Slug, ch.Schedule, ch.Limit); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(c.Channels, "channels", "", c.Defaults.Schedule, c.Defaults.Limit); err != nil {
		return nil, err
	}
	tree, err := syndicate.NewTree(flat)
	if err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	return tree, nil
}

// StartingDeadlines returns each channel's catch-up deadline that is set, by slug.
func (c *Config) StartingDeadlines() map[string]time.Duration {
	out := map[string]time.Duration{}
	var walk func([]Channel)
	walk = func(list []Channel) {
		for _, ch := range list {
			if ch.StartingDeadline > 0 {
				out[ch.Slug] = ch.StartingDeadline.D()
			}
			walk(ch.Children)
		}
	}
	walk(c.Channels)
	return out
}

// check rejects queue settings the notifier cannot work with; zero values are never left to a
// hidden default, since default.yaml sets every key.
func (w WebSub) check() error {
	switch {
	case w.PerHub < 1:
		return fmt.Errorf("websub.per_hub: must be at least 1")
	case w.InFlight < 1:
		return fmt.Errorf("websub.in_flight: must be at least 1")
	case w.MaxAttempts < 1:
		return fmt.Errorf("websub.max_attempts: must be at least 1")
	case w.MaxAge.D() <= 0:
		return fmt.Errorf("websub.max_age: must be positive")
	case w.BackoffBase.D() <= 0:
		return fmt.Errorf("websub.backoff_base: must be positive")
	case w.BackoffMax.D() < w.BackoffBase.D():
		return fmt.Errorf("websub.backoff_max: must be at least websub.backoff_base")
	case w.Timeout.D() <= 0:
		return fmt.Errorf("websub.timeout: must be positive")
	case w.LeaseMax.D() < time.Minute:
		return fmt.Errorf("websub.lease_max: must be at least 1m")
	case w.LeaseDefault.D() < time.Minute || w.LeaseDefault.D() > w.LeaseMax.D():
		return fmt.Errorf("websub.lease_default: must be between 1m and websub.lease_max")
	case w.MaxPerTopic < 1:
		return fmt.Errorf("websub.max_per_topic: must be at least 1")
	case w.MaxPerHost < 1:
		return fmt.Errorf("websub.max_per_host: must be at least 1")
	case w.HubRatePerMinute < 1:
		return fmt.Errorf("websub.hub_rate_per_minute: must be at least 1")
	case w.HubBurst < 1:
		return fmt.Errorf("websub.hub_burst: must be at least 1")
	case w.HubInFlight < 1:
		return fmt.Errorf("websub.hub_in_flight: must be at least 1")
	}
	return nil
}
