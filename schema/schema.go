// Package schema publishes the JSON Schema of Syndicate's item events (item-event.schema.json) and
// validates documents against it, so tests and aggregators check events against the same file
// the README points to.
package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed item-event.schema.json
var itemEvent []byte

// ItemEventJSON returns the schema document.
func ItemEventJSON() []byte { return bytes.Clone(itemEvent) }

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(itemEvent))
	if err != nil {
		return nil, fmt.Errorf("schema: parse item-event.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("item-event.schema.json", doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return c.Compile("item-event.schema.json")
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
