package publisher

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Defaults of Options.
const (
	DefaultStream        = "SYNDICATE_ITEMS"
	DefaultSubjectPrefix = "syndicate"
	DefaultMaxAge        = 30 * 24 * time.Hour
	DefaultDuplicates    = 10 * time.Minute

	// MinDuplicates is the shortest duplicate window Start accepts. The relay retries a row at most
	// relay.MaxRetryGap after its previous attempt, and the retry only deduplicates while JetStream still
	// remembers the first attempt's Nats-Msg-Id, so the window must outlast that gap with room to spare.
	MinDuplicates = time.Minute
)

// Options configures the connection to NATS and the item stream.
type Options struct {
	URLs          string        // comma-separated external server URLs; "" starts an embedded server
	Listen        string        // embedded: loopback TCP address for other processes; "" = in-process only
	StoreDir      string        // embedded: JetStream storage directory
	Stream        string        // default DefaultStream
	SubjectPrefix string        // default DefaultSubjectPrefix; the stream holds prefix + ".items.>"
	MaxAge        time.Duration // default DefaultMaxAge
	MaxBytes      int64         // default -1 (unlimited)
	Duplicates    time.Duration // default DefaultDuplicates; at least MinDuplicates
	Replicas      int           // default 1; the embedded server only supports 1
	// StartupTimeout bounds StartRetrying's retries of external servers (default
	// DefaultStartupTimeout).
	StartupTimeout time.Duration

	// Connection settings; all optional. With the embedded server, User and Password are the
	// credentials it requires (needed when it listens) and the others must be empty.
	Name         string // client connection name, shown by the server (default "syndicate")
	CredsFile    string
	NKeySeedFile string
	User         string
	Password     string
	Token        string
	TLSCA        string
	TLSCert      string
	TLSKey       string
}

// Subjects returns the stream's subject filter.
func (o Options) Subjects() string { return o.SubjectPrefix + ".items.>" }

// withDefaults fills in the zero fields and checks the result.
// Check reports what is wrong with o, as Start would, without starting or connecting anything:
// start-up checks every option before it touches the data dir.
func (o Options) Check() error {
	_, err := o.withDefaults()
	return err
}

func (o Options) withDefaults() (Options, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if o.SubjectPrefix == "" {
		o.SubjectPrefix = DefaultSubjectPrefix
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = -1
	}
	if o.Duplicates == 0 {
		o.Duplicates = DefaultDuplicates
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Name == "" {
		o.Name = "syndicate"
	}
	return o, o.validate()
}

func (o Options) validate() error {
	switch {
	case o.Stream == "" || strings.ContainsAny(o.Stream, ".*> \t\r\n"):
		return fmt.Errorf("publisher: stream name %q must be non-empty without '.', '*', '>' or spaces", o.Stream)
	// IsValidPublishSubject, not IsValidLiteralSubject: that one lets spaces through.
	case !server.IsValidPublishSubject(o.SubjectPrefix):
		return fmt.Errorf("publisher: subject prefix %q must be dot-separated tokens without wildcards or spaces", o.SubjectPrefix)
	case o.Duplicates < MinDuplicates:
		return fmt.Errorf("publisher: duplicate window %s is shorter than %s, the relay's longest retry gap", o.Duplicates, MinDuplicates)
	case o.MaxAge > 0 && o.MaxAge < o.Duplicates:
		// The server refuses a duplicate window longer than the stream's max age.
		return fmt.Errorf("publisher: max age %s is shorter than the duplicate window %s", o.MaxAge, o.Duplicates)
	case o.MaxAge < 0:
		return fmt.Errorf("publisher: max age %s is negative", o.MaxAge)
	case o.MaxBytes < -1:
		return fmt.Errorf("publisher: max bytes %d must be positive, or -1 for no limit", o.MaxBytes)
	case o.Replicas < 1 || o.Replicas > 5:
		return fmt.Errorf("publisher: replicas %d must be between 1 and 5", o.Replicas)
	case o.URLs == "" && o.Replicas != 1:
		return fmt.Errorf("publisher: the embedded server is a single node, so replicas must be 1 (got %d)", o.Replicas)
	case o.URLs == "" && o.StoreDir == "":
		return errors.New("publisher: the embedded server needs a store directory")
	case (o.TLSCert == "") != (o.TLSKey == ""):
		return errors.New("publisher: TLS client certificate and key must be given together")
	}
	auth := 0
	for _, set := range []bool{o.CredsFile != "", o.NKeySeedFile != "", o.User != "" || o.Password != "", o.Token != ""} {
		if set {
			auth++
		}
	}
	if auth > 1 {
		return errors.New("publisher: set only one of creds file, nkey seed file, user/password and token")
	}
	if o.URLs == "" && o.Listen != "" {
		if _, _, err := loopbackHostPort(o.Listen); err != nil {
			return err
		}
	}
	return nil
}

// loopbackHostPort splits an embedded listen address. The embedded server has no TLS, so its
// password would cross the network in clear: it must never be reachable from outside the machine.
func loopbackHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("publisher: embedded listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("publisher: embedded listen address %q: bad port", addr)
	}
	if host != "localhost" {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsLoopback() {
			return "", 0, fmt.Errorf("publisher: embedded listen address %q is not a loopback address; the embedded server has no TLS", addr)
		}
	}
	return host, port, nil
}

// redactURLs hides the user info of server URLs (a token or user:password), for error messages.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			u.User = url.User("redacted")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
