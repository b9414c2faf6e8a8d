package ingest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// ClientOptions configure the HTTP client sources share.
type ClientOptions struct {
	Timeout      time.Duration // whole request, body included: a trickling body hits it too
	MaxRedirects int
	Policy       AddressPolicy
}

// DefaultMaxRedirects caps redirects unless configured.
const DefaultMaxRedirects = 5

// NewClient returns the HTTP client sources share. It dials only addresses its policy allows,
// ignores HTTP_PROXY (a proxy would dial on our behalf, past the policy), follows at most
// MaxRedirects redirects (none: the 3xx answer is returned as it is) and only to http and https, and sends a source's own headers (and any
// Authorization, Cookie or Referer) only to the origin the source names.
func NewClient(o ClientOptions) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, Control: o.Policy.control}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	tr.DialContext = dialer.DialContext
	max := o.MaxRedirects
	if max < 0 {
		max = DefaultMaxRedirects
	}
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if max == 0 {
				// The caller gets the 3xx itself, to report as such: an error here would be
				// wrapped as a failed GET of the redirect's target, which was never fetched.
				return http.ErrUseLastResponse
			}
			if len(via) > max {
				return fmt.Errorf("upstream redirected more than %d times (last to %s)", max, req.URL.Redacted())
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("upstream redirect to %q refused: only http and https are followed", req.URL.Scheme+":")
			}
			if err := o.Policy.checkLiteral(req.URL.Hostname(), portOf(req.URL)); err != nil {
				return err
			}
			// Go copies the first request's headers onto every hop and drops only a few of them
			// between hosts, ignoring the port; a source's API key must not reach anyone else.
			info := infoOf(req.Context())
			info.redirected = true
			if origin(req.URL) != origin(via[0].URL) {
				for _, name := range info.headers {
					req.Header.Del(name)
				}
				req.Header.Del("Authorization")
				req.Header.Del("Cookie")
				// The Referer is the previous URL, which may carry a key in its query.
				req.Header.Del("Referer")
			}
			return nil
		},
	}
}

// origin is scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), portOf(u))
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

type requestKey struct{}

// requestInfo passes what the client needs to know about a source's request, and what it
// learned, between Poll and CheckRedirect.
type requestInfo struct {
	headers    []string // the source's own header names
	redirected bool     // a redirect was followed
}

func withRequestInfo(ctx context.Context, h map[string]string) (context.Context, *requestInfo) {
	info := &requestInfo{headers: make([]string, 0, len(h))}
	for k := range h {
		info.headers = append(info.headers, k)
	}
	return context.WithValue(ctx, requestKey{}, info), info
}

func infoOf(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{}
}

// refusal finds the policy's error in a failed request.
func refusal(err error) (*RefusedError, bool) {
	var re *RefusedError
	return re, errors.As(err, &re)
}
