package syndicate

import (
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Document is one rendered feed as saved by a build and served over HTTP.
type Document struct {
	Channel  string
	Format   string
	Body     []byte
	ETag     string    // strong, quoted; derived from Body only, so equal bytes give equal ETags everywhere
	Modified time.Time // when a build last changed Body, second precision (HTTP dates have no more)
}

// ETagOf returns the strong entity tag of body.
func ETagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}
