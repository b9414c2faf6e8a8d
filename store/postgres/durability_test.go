package postgres

import (
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Only a build whose commit carries nothing that leaves the system skips the WAL flush wait.
// (TestConformance runs such commits on a real server, so the statement is valid there.)
func TestBuildsWithEventsCommitSynchronously(t *testing.T) {
	doc := syndicate.Document{Channel: "lingling", Format: "rss", Body: []byte("<rss/>"), ETag: `"x"`}
	ev := syndicate.OutboxRow{EventID: "e1", Subject: "syndicate.items.lingling", Channel: "lingling", Payload: []byte(`{}`)}
	tests := []struct {
		name  string
		build store.Build
		async bool
	}{
		{"documents only", store.Build{Channel: "lingling", Documents: []syndicate.Document{doc}}, true},
		{"state only", store.Build{Channel: "lingling"}, true},
		{"with events", store.Build{Channel: "lingling", Documents: []syndicate.Document{doc}, Events: []syndicate.OutboxRow{ev}}, false},
		{"announcements only", store.Build{Channel: "lingling", Announced: map[string]string{"a1": ""}}, false},
	}
	for _, tc := range tests {
		batch, what := buildBatch(tc.build)
		if len(what) != len(batch.QueuedQueries) {
			t.Fatalf("%s: %d descriptions for %d statements", tc.name, len(what), len(batch.QueuedQueries))
		}
		async := false
		for _, q := range batch.QueuedQueries {
			async = async || strings.Contains(q.SQL, "synchronous_commit = off")
		}
		if async != tc.async {
			t.Errorf("%s: asynchronous commit %v, want %v", tc.name, async, tc.async)
		}
	}
}
