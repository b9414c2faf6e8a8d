package web

import "github.com/yongzhou-news/syndicate/schema"

// itemDataSchema is the document every item event's dataschema names (syndicate.ItemDataSchemaPath):
// the schema of its data, version 1. Only additive changes reach it, so clients may cache it.
var itemDataSchema = schema.ItemDataJSON()
