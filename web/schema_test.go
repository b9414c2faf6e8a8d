package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schema"
)

// TestItemDataSchemaServed: the dataschema every event names answers with the schema of its data.
func TestItemDataSchemaServed(t *testing.T) {
	_, srv, _ := newServer(t)
	resp, err := http.Get(srv.URL + syndicate.ItemDataSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/schema+json" {
		t.Fatalf("GET %s: %d %s", syndicate.ItemDataSchemaPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		Schema   string         `json:"$schema"`
		Required []string       `json:"required"`
		Props    map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Props["revision"] == nil || !bytes.Equal(body, schema.ItemDataJSON()) {
		t.Errorf("served schema %s: %v", body, err)
	}
}
