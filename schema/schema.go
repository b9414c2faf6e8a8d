// Package schema publishes the JSON Schemas of Syndicate's item events (item-event.schema.json, the
// envelope, and item-data.schema.json, its data, which the service serves as the events'
// dataschema) and validates documents against them, so tests and aggregators check events against
// the same files the README points to. Both schemas accept fields they do not know: additive
// changes keep the event type, so consumers must ignore what they do not use.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var (
	//go:embed item-event.schema.json
	itemEvent []byte
	//go:embed item-data.schema.json
	itemData []byte
)

const (
	eventURL = "https://github.com/yongzhou-news/syndicate/schema/item-event.schema.json"
	dataURL  = "https://github.com/yongzhou-news/syndicate/schema/item-data.schema.json"
)

// ItemEventJSON returns the schema of a whole event.
func ItemEventJSON() []byte { return bytes.Clone(itemEvent) }

// ItemDataJSON returns the schema of an event's data, the document its dataschema names.
func ItemDataJSON() []byte { return bytes.Clone(itemData) }

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for url, raw := range map[string][]byte{eventURL: itemEvent, dataURL: itemData} {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("schema: parse %s: %w", url, err)
		}
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("schema: %w", err)
		}
	}
	return c.Compile(eventURL)
})

// ValidateItemEvent checks one event document (the JSON payload of a stream message).
func ValidateItemEvent(payload []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("schema: event is not JSON: %w", err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("schema: event does not match item-event.schema.json: %w", err)
	}
	return nil
}
