package config_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/config"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "syndicate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuiltinDefaults(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" || c.DataDir != "./data" || c.NATS.URL != "" || c.NATS.Listen != "127.0.0.1:4222" {
		t.Errorf("defaults: addr %q data %q nats url %q listen %q", c.HTTP.Addr, c.DataDir, c.NATS.URL, c.NATS.Listen)
	}
	if c.Store.DSN != "sqlite:"+filepath.Join("data", "syndicate.db") || c.NATS.StoreDir != filepath.Join("data", "nats") {
		t.Errorf("derived paths: dsn %q nats dir %q", c.Store.DSN, c.NATS.StoreDir)
	}
	if c.Site.Language != "zh-CN" || c.Site.Timezone != "Asia/Shanghai" || c.Site.Title != "红网永州站" {
		t.Errorf("site = %+v", c.Site)
	}
	tree, err := c.Tree()
	if err != nil {
		t.Fatal(err)
	}
	if got := tree.Path("lingling"); !slices.Equal(got, []string{"xianshiqu", "lingling"}) {
		t.Errorf("path of lingling = %v", got)
	}
	ling, _ := tree.Channel("lingling")
	if ling.Title != "零陵" || ling.Schedule != "*/10 * * * *" || ling.Limit != 50 {
		t.Errorf("lingling inherits parent's schedule and default limit: %+v", ling)
	}
	if n := len(tree.Subtree("xianshiqu")); n != 15 {
		t.Errorf("县市区 subtree has %d channels, want 15", n)
	}
	zw, _ := tree.Channel("zhengwu")
	if zw.Schedule != "*/5 * * * *" {
		t.Errorf("root channel without schedule gets the default: %q", zw.Schedule)
	}
}

func TestEnvOverridesFile(t *testing.T) {
	p := writeFile(t, `
http:
  addr: 127.0.0.1:9000
nats:
  max_age: 7d
channels:
  - {slug: news, title: 新闻, schedule: "@hourly", limit: 20}
`)
	c, err := config.Load(p, []string{
		"SYNDICATE_HTTP_ADDR=127.0.0.1:9999",
		"SYNDICATE_DATA_DIR=/var/lib/syndicate",
		"SYNDICATE_STORE_DSN=postgres://db/syndicate",
		"SYNDICATE_NATS_URL=nats://a:4222,nats://b:4222",
		"SYNDICATE_NATS_LISTEN=",
		"SYNDICATE_ADMIN_TOKEN=s3cret,next",
		"SYNDICATE_HTTP_STYLESHEET=false",
		"SYNDICATE_TEST_PG_DSN=ignored",
		"PATH=/usr/bin",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ key, got, want string }{
		{"http.addr", c.HTTP.Addr, "127.0.0.1:9999"},
		{"data_dir", c.DataDir, "/var/lib/syndicate"},
		{"store.dsn", c.Store.DSN, "postgres://db/syndicate"},
		{"nats.url", c.NATS.URL, "nats://a:4222,nats://b:4222"},
		{"nats.listen", c.NATS.Listen, ""},
		{"nats.store_dir", c.NATS.StoreDir, "/var/lib/syndicate/nats"},
		{"admin.token", c.Admin.Token, "s3cret,next"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %q, want %q", ck.key, ck.got, ck.want)
		}
	}
	if c.HTTP.Stylesheet {
		t.Error("http.stylesheet: env false did not apply")
	}
	if c.NATS.MaxAge.D() != 7*24*time.Hour {
		t.Errorf("nats.max_age from file = %v, want 168h", c.NATS.MaxAge)
	}
	if len(c.Channels) != 1 || c.Channels[0].Slug != "news" {
		t.Errorf("channels from file replace the built-in tree: %+v", c.Channels)
	}
}

func TestRejectsNamingTheKey(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  []string
		want []string // substrings of the error
	}{
		{"unknown key", "site:\n  titel: x\n", nil, []string{"unknown key site.titel", "line 2"}},
		{"unknown channel key", "channels:\n  - {slug: a, title: A, shedule: \"@hourly\"}\n", nil, []string{"unknown key channels[].shedule"}},
		{"unknown top-level key", "htp:\n  addr: x\n", nil, []string{"htp"}},
		{"bad cron spec", "channels:\n  - {slug: news, title: 新闻, schedule: \"61 * * * *\"}\n", nil, []string{"channels[news].schedule", "61"}},
		{"cron spec that panics robfig/cron", "channels:\n  - {slug: news, title: 新闻, schedule: \"TZ=0\"}\n", nil, []string{"channels[news].schedule"}},
		{"bad child cron spec", "channels:\n  - slug: a\n    title: A\n    children:\n      - {slug: b, title: B, schedule: \"@fortnightly\"}\n", nil, []string{"channels[a].children[b].schedule"}},
		{"bad time zone", "site:\n  timezone: Mars/Olympus\n", nil, []string{"site.timezone"}},
		{"subject-unsafe slug", "channels:\n  - {slug: a.b, title: x}\n", nil, []string{"channels[a.b].slug"}},
		{"duplicate slug", "channels:\n  - {slug: a, title: x}\n  - {slug: a, title: y}\n", nil, []string{"defined twice"}},
		{"bad duration", "nats:\n  max_age: forever\n", nil, []string{"nats.max_age", "forever"}},
		{"negative duration", "nats:\n  max_age: -1h\n", nil, []string{"nats.max_age", "negative"}},
		{"zero max age", "", []string{"SYNDICATE_NATS_MAX_AGE=0"}, []string{"nats.max_age", "ambiguous"}},
		{"two unknown keys", "site:\n  titel: x\n  tital: y\n", nil, []string{"unknown key site.titel", "; line 3: unknown key site.tital"}},
		{"wrong type in a flow mapping", "channels:\n  - {slug: a, title: A, limit: x}\n", nil, []string{"channels[0].limit", "`x`"}},
		{"duplicate key", "site:\n  title: a\n  title: b\n", nil, []string{"site.title", "already defined"}},
		{"bad limit", "defaults:\n  limit: 0\n", nil, []string{"defaults.limit"}},
		{"zero startup timeout", "nats:\n  startup_timeout: 0s\n", nil, []string{"nats.startup_timeout"}},
		{"unknown env var", "", []string{"SYNDICATE_HTTP_ADRR=:1"}, []string{"SYNDICATE_HTTP_ADRR"}},
		{"bad env value", "", []string{"SYNDICATE_NATS_REPLICAS=three"}, []string{"SYNDICATE_NATS_REPLICAS", "nats.replicas"}},
		{"bad env cron", "", []string{"SYNDICATE_DEFAULTS_SCHEDULE=every minute"}, []string{"defaults.schedule"}},
		{"relative base url", "site:\n  base_url: /feeds\n", nil, []string{"site.base_url"}},
		{"http addr without a port", "", []string{"SYNDICATE_HTTP_ADDR=notanaddr"}, []string{"http.addr", "missing port"}},
		{"http port out of range", "", []string{"SYNDICATE_HTTP_ADDR=:99999"}, []string{"http.addr", "0 to 65535"}},
		{"source with unknown channel", "sources:\n  - {name: up, url: \"http://x/feed\", channels: [mars], schedule: \"@hourly\"}\n", nil, []string{"sources[up].channels", "mars"}},
		{"source with bad schedule", "sources:\n  - {name: up, url: \"http://x/feed\", channels: [lingling], schedule: \"TZ=TZ=\"}\n", nil, []string{"sources[up].schedule"}},
		{"source with relative url", "sources:\n  - {name: up, url: \"/feed\", channels: [lingling], schedule: \"@hourly\"}\n", nil, []string{"sources[up].url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := config.Load(path, tt.env)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q takes more than one line", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestEveryEnvKeyIsSettable(t *testing.T) {
	for name, key := range config.EnvKeys() {
		if !strings.HasPrefix(name, "SYNDICATE_") || key == "" {
			t.Errorf("env %s → key %q", name, key)
		}
	}
	if config.EnvKeys()["SYNDICATE_NATS_LISTEN"] != "nats.listen" {
		t.Error("SYNDICATE_NATS_LISTEN does not map to nats.listen")
	}
}

// The base URL's scheme and host are case-insensitive but copied into every item id and event
// source: they are folded to lower case, so a change of case alone changes no public id.
func TestBaseURLCaseFolded(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"HTTP://LocalHost:18093", "http://localhost:18093"},
		{"https://News.Example/Portal/", "https://news.example/Portal"},
		{"http://localhost:8080", "http://localhost:8080"},
	} {
		c, err := config.Load("", []string{"SYNDICATE_SITE_BASE_URL=" + tc.in})
		if err != nil {
			t.Fatal(err)
		}
		if c.Site.BaseURL != tc.want {
			t.Errorf("base_url %q became %q, want %q", tc.in, c.Site.BaseURL, tc.want)
		}
	}
}
