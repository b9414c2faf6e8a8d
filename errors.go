package syndicate

import (
	"errors"
	"fmt"
)

// Error codes: the web package maps each to one HTTP status in one place.
const (
	ENOTFOUND = "not_found"
	EINVALID  = "invalid"
	ECONFLICT = "conflict"
	EINTERNAL = "internal"
	// ETOOLARGE is a request body past its size cap.
	ETOOLARGE = "too_large"
	// EUNSUPPORTED is a request body in a media type the endpoint does not read.
	EUNSUPPORTED = "unsupported_media_type"
)

// Error is an application error whose Message is safe to show to a client.
type Error struct {
	Code    string
	Field   string // the input field at fault, when there is one
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error naming the bad input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err: an *Error's own text, or "Internal error."
// for anything else, so internal details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "Internal error."
}
