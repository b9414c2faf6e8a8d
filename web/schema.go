package web

import (
	"net/http"

	"github.com/yongzhou-news/syndicate/schema"
)

// itemDataSchema is the document every item event's dataschema names (syndicate.ItemDataSchemaPath):
// the schema of its data, version 1. Only additive changes reach it, so clients may cache it.
var itemDataSchema = schema.ItemDataJSON()

func serveItemDataSchema(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Header().Set("Access-Control-Allow-Origin", "*") // aggregators' browser tools fetch it too
	w.Write(itemDataSchema)
}
