// Package config loads Syndicate's settings: built-in defaults (the portal's channel tree), then
// an optional YAML file, then SYNDICATE_* environment variables, then validation that names the
// offending key.
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The built-in configuration: settings, then the portal's channel tree (a verbatim copy of the
// shared fixture), which serve uses when no file is given.
var (
	//go:embed default.yaml
	defaultYAML []byte
	//go:embed channels.yaml
	channelsYAML []byte
)

// Config is the whole configuration. The yaml tags are the keys of the file and, upper-cased and
// joined by "_", of the environment (nats.url → SYNDICATE_NATS_URL).
type Config struct {
	Site     Site      `yaml:"site"`
	DataDir  string    `yaml:"data_dir"`
	Store    Store     `yaml:"store"`
	NATS     NATS      `yaml:"nats"`
	HTTP     HTTP      `yaml:"http"`
	Admin    Admin     `yaml:"admin"`
	Log      Log       `yaml:"log"`
	Defaults Defaults  `yaml:"defaults"`
	Demo     bool      `yaml:"demo"`
	Ingest   Ingest    `yaml:"ingest"`
	WebSub   WebSub    `yaml:"websub"`
	Limits   Limits    `yaml:"limits"`
	Jobs     Jobs      `yaml:"jobs"`
	Import   Import    `yaml:"import"`
	Channels []Channel `yaml:"channels" env:"-"`
	Sources  []Source  `yaml:"sources" env:"-"`
}

// WebSub lists the hubs feeds advertise and notify after every change, and how the queue of
// notifications treats them (see package websub).
type WebSub struct {
	Hubs        string   `yaml:"hubs"`         // comma-separated hub URLs
	PerHub      int      `yaml:"per_hub"`      // notifications in flight to one hub
	InFlight    int      `yaml:"in_flight"`    // notifications in flight in all, per replica
	MaxAttempts int      `yaml:"max_attempts"` // attempts before a notification is dropped
	MaxAge      Duration `yaml:"max_age"`      // age after which a failing notification is dropped
	BackoffBase Duration `yaml:"backoff_base"` // wait after the first failure, doubled after each
	BackoffMax  Duration `yaml:"backoff_max"`  // longest wait between attempts
	Timeout     Duration `yaml:"timeout"`      // one attempt

	// The built-in hub (package hub, issue #18).
	Builtin          bool     `yaml:"builtin"`             // serve POST /websub and advertise it
	LeaseDefault     Duration `yaml:"lease_default"`       // lease when a subscriber asks for none
	LeaseMax         Duration `yaml:"lease_max"`           // longest lease granted
	AllowPrivate     bool     `yaml:"allow_private"`       // callbacks may be internal addresses
	MaxPerTopic      int      `yaml:"max_per_topic"`       // subscriptions to one feed
	MaxPerHost       int      `yaml:"max_per_host"`        // subscriptions whose callback is on one host
	HubRatePerMinute int      `yaml:"hub_rate_per_minute"` // hub requests per client address
	HubBurst         int      `yaml:"hub_burst"`           // hub requests per client address at once
	HubInFlight      int      `yaml:"hub_in_flight"`       // content deliveries in flight, per replica
}

// HubList returns the configured hubs.
func (w WebSub) HubList() []string {
	var out []string
	for _, h := range strings.Split(w.Hubs, ",") {
		if h = strings.TrimSpace(h); h != "" {
			out = append(out, h)
		}
	}
	return out
}

// Import configures how `syndicate import` stores records.
type Import struct {
	BatchSize int `yaml:"batch_size"` // records per transaction
}

// Ingest configures how upstream sources are fetched.
type Ingest struct {
	Timeout      Duration `yaml:"timeout"`
	MaxBytes     int64    `yaml:"max_bytes"`
	MaxRedirects int      `yaml:"max_redirects"`
	BackoffMax   Duration `yaml:"backoff_max"`
	// AllowPrivate lets sources (and their redirects) reach loopback, private, link-local and
	// other internal addresses; off, only public addresses are dialled.
	AllowPrivate bool `yaml:"allow_private"`
}

// Source is an upstream feed polled on a schedule; its items become articles in Channels.
type Source struct {
	Name     string            `yaml:"name"`
	URL      string            `yaml:"url"`
	Channels []string          `yaml:"channels"`
	Schedule string            `yaml:"schedule"`
	Headers  map[string]string `yaml:"headers"` // e.g. {Authorization: "Bearer …"}
	// StartingDeadline, when set, makes a poll missed during downtime run at start-up if it is
	// at most this late; without it a source just waits for its next tick.
	StartingDeadline Duration `yaml:"starting_deadline"`
}

// Site describes the portal.
type Site struct {
	Title       string `yaml:"title"`
	Description string `yaml:"description"`
	BaseURL     string `yaml:"base_url"`
	Language    string `yaml:"language"`
	Timezone    string `yaml:"timezone"`
	TagDate     string `yaml:"tag_date"`
}

// Store selects the database.
type Store struct {
	DSN string `yaml:"dsn"` // sqlite:PATH (default: DATA_DIR/syndicate.db) or postgres://…
}

// NATS configures the event stream: embedded server when URL is empty.
type NATS struct {
	URL           string   `yaml:"url"`
	Listen        string   `yaml:"listen"`
	StoreDir      string   `yaml:"store_dir"`
	Stream        string   `yaml:"stream"`
	SubjectPrefix string   `yaml:"subject_prefix"`
	MaxAge        Duration `yaml:"max_age"`
	MaxBytes      int64    `yaml:"max_bytes"`
	Duplicates    Duration `yaml:"duplicates"`
	Replicas      int      `yaml:"replicas"`
	Retention     Duration `yaml:"outbox_retention"`
	// StartupTimeout bounds how long start-up retries reaching external servers and creating
	// the stream (replicas started together time out on each other's creation requests).
	StartupTimeout Duration `yaml:"startup_timeout"`
	Name           string   `yaml:"name"`
	CredsFile      string   `yaml:"creds_file"`
	NKeySeedFile   string   `yaml:"nkey_seed_file"`
	User           string   `yaml:"user"`
	Password       string   `yaml:"password"`
	Token          string   `yaml:"token"`
	TLSCA          string   `yaml:"tls_ca"`
	TLSCert        string   `yaml:"tls_cert"`
	TLSKey         string   `yaml:"tls_key"`
}

// HTTP configures the server.
type HTTP struct {
	Addr        string   `yaml:"addr"`
	Stylesheet  bool     `yaml:"stylesheet"`    // <?xml-stylesheet?> browser view in RSS and Atom
	MaxAgeMin   Duration `yaml:"max_age_min"`   // feeds' Cache-Control max-age: time to the next build,
	MaxAgeMax   Duration `yaml:"max_age_max"`   // clamped to this range
	MaxInFlight int      `yaml:"max_in_flight"` // concurrent requests; more get 503 + Retry-After
	// IdentityCacheBytes bounds the uncompressed feed bodies kept for clients without gzip;
	// feeds are held gzip-compressed, 0 keeps none.
	IdentityCacheBytes int `yaml:"identity_cache_bytes"`
}

// Admin holds the bearer tokens of the admin API.
type Admin struct {
	// Token is one token or several separated by commas, so they can be rotated. Empty: one is
	// generated and saved in DATA_DIR/admin-token.
	Token string `yaml:"token"`
}

// Log configures log/slog.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// Defaults apply to channels that do not set their own.
type Defaults struct {
	Schedule string `yaml:"schedule"`
	Limit    int    `yaml:"limit"`
}

// Channel is one channel as configured. Children inherit the parent's schedule and limit.
type Channel struct {
	Slug        string    `yaml:"slug"`
	Title       string    `yaml:"title"`
	Description string    `yaml:"description"`
	Parent      string    `yaml:"parent"`
	Schedule    string    `yaml:"schedule"`
	Limit       int       `yaml:"limit"`
	Children    []Channel `yaml:"children"`
	// StartingDeadline bounds how late a tick missed during downtime still runs at start-up
	// (0: however late; a build always catches up once).
	StartingDeadline Duration `yaml:"starting_deadline"`
}

// Load builds the configuration from the built-in defaults, the file at path (if path is not
// empty) and the environment (a list of KEY=VALUE, as os.Environ returns).
func Load(path string, environ []string) (*Config, error) {
	var c Config
	for _, builtin := range [][]byte{defaultYAML, channelsYAML} {
		if err := decode(bytes.NewReader(builtin), &c); err != nil {
			return nil, fmt.Errorf("config: built-in defaults: %w", err)
		}
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := decode(f, &c); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.finish(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// decode reads YAML over c, rejecting unknown keys; keys absent from the file keep c's values.
// Errors are one line, each problem named by its key where the YAML has one, and its line.
func decode(r io.Reader, c *Config) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	err = dec.Decode(c)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	msgs := []string{err.Error()}
	if te := (*yaml.TypeError)(nil); errors.As(err, &te) {
		msgs = te.Errors // yaml.v3 puts each on a line of its own
	}
	var root yaml.Node
	_ = yaml.Unmarshal(b, &root) // it decoded as far as the error: the keys before it are there
	for i, m := range msgs {
		m = unknownKeyPattern.ReplaceAllStringFunc(m, nameSection)
		if key := keyAt(&root, lineOf(m), m); key != "" && !strings.Contains(m, key) {
			m = key + ": " + m
		}
		msgs[i] = m
	}
	return errors.New(strings.Join(msgs, "; "))
}

// lineOf is the line number a yaml.v3 message starts with ("line 2: …"), or 0.
func lineOf(msg string) int {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(msg, "yaml: "), "line ")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(rest[:strings.IndexFunc(rest+":", func(r rune) bool { return r < '0' || r > '9' })])
	return n
}

// keyAt returns the key ("nats.max_age", "channels[0].limit") whose scalar value is on line and
// is the one msg quotes when the line holds several (a flow mapping), or "".
func keyAt(root *yaml.Node, line int, msg string) string {
	type hit struct{ key, value string }
	var hits []hit
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", strings.TrimSuffix(prefix, "."), i)+".")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, val := n.Content[i], n.Content[i+1]
				if val.Kind == yaml.ScalarNode && val.Line == line {
					hits = append(hits, hit{prefix + key.Value, val.Value})
				}
				walk(val, prefix+key.Value+".")
			}
		}
	}
	if line > 0 {
		walk(root, "")
	}
	if len(hits) == 1 {
		return hits[0].key
	}
	for _, h := range hits {
		if strings.Contains(msg, "`"+h.value+"`") || strings.Contains(msg, `"`+h.value+`"`) {
			return h.key
		}
	}
	return ""
}

// yaml.v3 names the Go type ("field titel not found in type config.Site"); operators know the
// section ("site.titel").
var unknownKeyPattern = regexp.MustCompile(`field (\S+) not found in type config\.(\w+)`)

var sections = map[string]string{
	"Config": "", "Site": "site.", "Store": "store.", "NATS": "nats.", "HTTP": "http.", "Admin": "admin.",
	"Log": "log.", "Defaults": "defaults.", "Ingest": "ingest.", "WebSub": "websub.", "Limits": "limits.", "Jobs": "jobs.", "JobsHistory": "jobs.history.",
	"Import":  "import.",
	"Channel": "channels[].", "Source": "sources[].",
}

func nameSection(m string) string {
	sub := unknownKeyPattern.FindStringSubmatch(m)
	return fmt.Sprintf("unknown key %s%s", sections[sub[2]], sub[1])
}
