package publisher

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongzhou-news/syndicate/natstest"
)

func TestStreamConfigDefaults(t *testing.T) {
	cfg, err := StreamConfig(Options{StoreDir: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	want := jetstream.StreamConfig{
		Name: DefaultStream, Subjects: []string{"syndicate.items.>"}, Storage: jetstream.FileStorage,
		Retention: jetstream.LimitsPolicy, Discard: jetstream.DiscardOld, MaxAge: 30 * 24 * time.Hour,
		MaxBytes: -1, MaxMsgs: -1, MaxConsumers: -1, MaxMsgsPerSubject: -1, Duplicates: 10 * time.Minute, Replicas: 1,
	}
	cfg.Description = ""
	if !streamConfigEqual(cfg, want) {
		t.Errorf("StreamConfig(defaults) = %+v\nwant %+v", cfg, want)
	}
}

func streamConfigEqual(a, b jetstream.StreamConfig) bool {
	return a.Name == b.Name && slices.Equal(a.Subjects, b.Subjects) && a.Storage == b.Storage &&
		a.Retention == b.Retention && a.Discard == b.Discard && a.MaxAge == b.MaxAge && a.MaxBytes == b.MaxBytes &&
		a.MaxMsgs == b.MaxMsgs && a.MaxConsumers == b.MaxConsumers && a.MaxMsgsPerSubject == b.MaxMsgsPerSubject &&
		a.Duplicates == b.Duplicates && a.Replicas == b.Replicas
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"embedded defaults", Options{StoreDir: "d"}, true},
		{"external defaults", Options{URLs: "nats://x:4222"}, true},
		{"embedded without store dir", Options{}, false},
		{"embedded listen loopback", Options{StoreDir: "d", Listen: "127.0.0.1:4222"}, true},
		{"embedded listen localhost", Options{StoreDir: "d", Listen: "localhost:4222"}, true},
		{"embedded listen ipv6 loopback", Options{StoreDir: "d", Listen: "[::1]:4222"}, true},
		{"embedded listen everywhere", Options{StoreDir: "d", Listen: ":4222"}, false},
		{"embedded listen public", Options{StoreDir: "d", Listen: "192.0.2.1:4222"}, false},
		{"embedded replicas", Options{StoreDir: "d", Replicas: 3}, false},
		{"external replicas", Options{URLs: "nats://x", Replicas: 3}, true},
		{"short duplicate window", Options{URLs: "nats://x", Duplicates: 30 * time.Second}, false},
		{"max age below duplicates", Options{URLs: "nats://x", MaxAge: 5 * time.Minute}, false},
		{"negative max bytes", Options{URLs: "nats://x", MaxBytes: -2}, false},
		{"stream with dot", Options{URLs: "nats://x", Stream: "a.b"}, false},
		{"prefix with wildcard", Options{URLs: "nats://x", SubjectPrefix: "a.*"}, false},
		{"prefix with empty token", Options{URLs: "nats://x", SubjectPrefix: "a..b"}, false},
		{"prefix with full wildcard", Options{URLs: "nats://x", SubjectPrefix: "a.>"}, false},
		{"prefix with space", Options{URLs: "nats://x", SubjectPrefix: "a.b c"}, false},
		{"blank prefix", Options{URLs: "nats://x", SubjectPrefix: " "}, false},
		{"two auth methods", Options{URLs: "nats://x", Token: "t", User: "u"}, false},
		{"cert without key", Options{URLs: "nats://x", TLSCert: "c"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.withDefaults()
			if (err == nil) != tt.ok {
				t.Errorf("withDefaults() error = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

func TestEnsureStreamCreatesWithDefaults(t *testing.T) {
	c := connect(t, natstest.URL(t)) // Start ensures the stream
	ctx := context.Background()
	s, err := c.JetStream().Stream(ctx, c.Options().Stream)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := StreamConfig(c.Options())
	if got := s.CachedInfo().Config; !streamConfigEqual(got, want) {
		t.Errorf("stream config = %+v\nwant %+v", got, want)
	}
	// A second call finds the stream as it should be and leaves it alone.
	created := s.CachedInfo().Created
	s, err = EnsureStream(ctx, c.JetStream(), c.Options())
	if err != nil {
		t.Fatal(err)
	}
	if !s.CachedInfo().Created.Equal(created) {
		t.Error("EnsureStream recreated an existing stream")
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestEnsureStreamExisting(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*jetstream.StreamConfig)
		conflict bool
	}{
		{"other subjects", func(c *jetstream.StreamConfig) { c.Subjects = []string{"other." + c.Name + ".>"} }, true},
		{"extra subject", func(c *jetstream.StreamConfig) { c.Subjects = append(c.Subjects, "other."+c.Name) }, true},
		{"memory storage", func(c *jetstream.StreamConfig) { c.Storage = jetstream.MemoryStorage }, true},
		{"work queue", func(c *jetstream.StreamConfig) { c.Retention = jetstream.WorkQueuePolicy }, true},
		{"no ack", func(c *jetstream.StreamConfig) { c.NoAck = true }, true},
		{"shorter max age", func(c *jetstream.StreamConfig) { c.MaxAge = time.Hour }, false},
		{"byte limit and discard new", func(c *jetstream.StreamConfig) { c.MaxBytes = 1 << 20; c.Discard = jetstream.DiscardNew }, false},
		{"longer duplicate window", func(c *jetstream.StreamConfig) { c.Duplicates = time.Hour }, false},
	}
	c := connect(t, natstest.URL(t))
	ctx := context.Background()
	js := c.JetStream()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A second stream beside the test's own, on subjects that do not overlap it.
			opts := c.Options()
			opts.Stream += "_X"
			opts.SubjectPrefix = "pre." + opts.SubjectPrefix
			want, _ := StreamConfig(opts)
			pre := want
			tt.edit(&pre)
			if _, err := js.CreateStream(ctx, pre); err != nil {
				t.Fatal(err)
			}
			natstest.DeleteStream(t, js, opts.Stream)

			s, err := EnsureStream(ctx, js, opts)
			if tt.conflict {
				if !errors.Is(err, ErrStreamConflict) {
					t.Fatalf("EnsureStream error = %v, want ErrStreamConflict", err)
				}
				after, err := js.Stream(ctx, opts.Stream)
				if err != nil {
					t.Fatal(err)
				}
				if got := after.CachedInfo().Config; !streamConfigEqual(got, pre) {
					t.Errorf("conflicting stream was changed: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.CachedInfo().Config; !streamConfigEqual(got, want) {
				t.Errorf("updated config = %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestEnsureStreamSubjectsTaken(t *testing.T) {
	c := connect(t, natstest.URL(t))
	opts := c.Options()
	opts.Stream += "_OTHER" // same subjects as the test's stream
	if _, err := EnsureStream(context.Background(), c.JetStream(), opts); err == nil {
		t.Fatal("EnsureStream created a second stream on the same subjects")
	} else {
		t.Log(err)
	}
}

// TestStartEmbedded runs the production embedded set-up: default stream, in-process only or with
// the loopback listener for `syndicate events tail`, and a clean shutdown that frees the store
// for the next start.
func TestStartEmbedded(t *testing.T) {
	tests := []struct {
		name   string
		listen string
	}{
		{"in-process only", ""},
		{"loopback listener", freeLoopbackAddr(t)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for run := range 2 {
				c, err := Start(ctx, Options{StoreDir: dir, Listen: tt.listen, User: testUser, Password: testPassword}, natstest.Log(t))
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if err := c.Ping(ctx); err != nil {
					t.Errorf("run %d: Ping: %v", run, err)
				}
				s, err := c.JetStream().Stream(ctx, DefaultStream)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if got := s.CachedInfo().Config.Subjects; !slices.Equal(got, []string{"syndicate.items.>"}) {
					t.Errorf("run %d: subjects %v", run, got)
				}
				// The event of the first run survives the restart.
				if got := s.CachedInfo().State.Msgs; got != uint64(run) {
					t.Errorf("run %d: %d messages, want %d", run, got, run)
				}
				if run == 0 {
					if _, err := c.JetStream().Publish(ctx, "syndicate.items.a", []byte(`{}`)); err != nil {
						t.Fatal(err)
					}
				}
				if tt.listen != "" {
					// Another process reaches the embedded server on its loopback listener.
					nc, err := nats.Connect("nats://"+tt.listen, nats.UserInfo(testUser, testPassword))
					if err != nil {
						t.Fatalf("run %d: connect to listener: %v", run, err)
					}
					nc.Close()
				}
				if err := c.Close(ctx); err != nil {
					t.Errorf("run %d: Close: %v", run, err)
				}
				if err := c.Close(ctx); err != nil {
					t.Errorf("run %d: second Close: %v", run, err)
				}
			}
		})
	}
}

func TestStartEmbeddedPortTaken(t *testing.T) {
	taken := natstest.Start(t, "").Addr().String()
	start := time.Now()
	_, err := Start(context.Background(), Options{StoreDir: t.TempDir(), Listen: taken,
		User: testUser, Password: testPassword}, discardLog())
	if err == nil {
		t.Fatal("Start succeeded on a taken port")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Start took %s to report a taken port", d)
	}
}

func TestStartExternalUnreachable(t *testing.T) {
	url := "nats://user:secret@" + freeLoopbackAddr(t)
	_, err := Start(context.Background(), Options{URLs: url}, discardLog())
	if err == nil {
		t.Fatal("Start succeeded without a server")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestRedactURLs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://u:p@a:4222,nats://tok@b:4222", "nats://redacted@a:4222,nats://redacted@b:4222"},
	}
	for _, tt := range tests {
		if got := redactURLs(tt.in); got != tt.want {
			t.Errorf("redactURLs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
