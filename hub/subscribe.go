package hub

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
)

// Request limits: a subscription request is a small form.
const (
	maxRequestBytes  = 16 << 10
	maxURLBytes      = 2048
	maxSecretBytes   = 199 // WebSub §5.1: hub.secret "MUST be less than 200 bytes"
	maxChallengeEcho = 1 << 10
)

// request is one valid subscription request.
type request struct {
	mode     string // "subscribe" or "unsubscribe"
	callback string
	host     string
	topic    string
	secret   string
	lease    time.Duration
}

// ServeHTTP is the hub endpoint (POST /websub, WebSub §5.1). It checks the request and answers
// 202 Accepted, then verifies the subscriber's intent in the background; problems it can tell at
// once get a 4xx with a plain-text reason.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.limits.allow(clientIP(r)) {
		h.m.requests.WithLabelValues("", "rate_limited").Inc()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	// §5.1: the request "MUST have a Content-Type header of application/x-www-form-urlencoded";
	// another body would parse as no parameters at all, and be refused for a confusing reason.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		h.refuse(w, "", http.StatusUnsupportedMediaType, "the request body must be application/x-www-form-urlencoded (WebSub §5.1)")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	if err := r.ParseForm(); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			h.refuse(w, "", http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", maxRequestBytes))
			return
		}
		h.refuse(w, "", http.StatusBadRequest, "malformed form: "+err.Error())
		return
	}
	req, err := h.parse(r.PostForm)
	if err != nil {
		h.refuse(w, r.PostForm.Get("hub.mode"), http.StatusBadRequest, err.Error())
		return
	}
	if req.mode == "subscribe" && h.Topic(req.topic) {
		byTopic, byHost, err := h.opt.Store.CountSubscriptions(r.Context(), req.callback, req.topic, req.host, h.opt.Now())
		if err != nil {
			h.opt.Log.Error("websub hub: count subscriptions", slog.Any("error", err))
			h.refuse(w, req.mode, http.StatusInternalServerError, "internal error")
			return
		}
		switch {
		case byTopic >= h.opt.MaxPerTopic:
			h.refuse(w, req.mode, http.StatusForbidden, "too many subscriptions to this topic")
			return
		case byHost >= h.opt.MaxPerHost:
			h.refuse(w, req.mode, http.StatusForbidden, "too many subscriptions for callbacks on "+req.host)
			return
		}
	}
	select {
	case h.verifySlots <- struct{}{}:
	default:
		w.Header().Set("Retry-After", "5")
		h.refuse(w, req.mode, http.StatusServiceUnavailable, "too many verifications in progress")
		return
	}
	h.m.requests.WithLabelValues(req.mode, "accepted").Inc()
	w.WriteHeader(http.StatusAccepted)
	// Verification begins once the subscriber has its 202 (§5.1: the request "will now be verified"), so a
	// subscriber that records its pending request on 202 knows the challenge that follows.
	http.NewResponseController(w).Flush()
	h.verifying.Add(1)
	go func() {
		defer h.verifying.Done()
		defer func() { <-h.verifySlots }()
		h.verify(h.ctx, req)
	}()
}

func (h *Hub) refuse(w http.ResponseWriter, mode string, status int, reason string) {
	switch mode {
	case "subscribe", "unsubscribe":
	default:
		mode = ""
	}
	h.m.requests.WithLabelValues(mode, "refused").Inc()
	http.Error(w, reason, status)
}

// parse checks a request's parameters (WebSub §5.1).
func (h *Hub) parse(form url.Values) (request, error) {
	// A parameter given twice is ambiguous (which mode, which callback?): refused rather than
	// guessed, as the article API refuses duplicate keys.
	for k, vs := range form {
		if strings.HasPrefix(k, "hub.") && len(vs) > 1 {
			return request{}, fmt.Errorf("%q is given %d times; give each hub.* parameter once", k, len(vs))
		}
	}
	// §5.1.1: hubs "MUST always decode non-reserved characters" of the two URLs, so that a
	// topic written with %6C for l is the same topic.
	req := request{mode: form.Get("hub.mode"), callback: decodeUnreserved(form.Get("hub.callback")),
		topic: decodeUnreserved(form.Get("hub.topic")), secret: form.Get("hub.secret")}
	switch req.mode {
	case "subscribe", "unsubscribe":
	case "publish":
		return req, errors.New("hub.mode=publish: this hub distributes this service's own feeds, which it publishes itself")
	default:
		return req, fmt.Errorf("hub.mode must be subscribe or unsubscribe")
	}
	switch {
	case req.callback == "":
		return req, errors.New("hub.callback is required")
	case len(req.callback) > maxURLBytes:
		return req, fmt.Errorf("hub.callback is longer than %d bytes", maxURLBytes)
	case req.topic == "":
		return req, errors.New("hub.topic is required")
	case len(req.topic) > maxURLBytes:
		return req, fmt.Errorf("hub.topic is longer than %d bytes", maxURLBytes)
	case len(req.secret) > maxSecretBytes:
		return req, fmt.Errorf("hub.secret must be less than 200 bytes")
	}
	u, err := url.Parse(req.callback)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" {
		return req, errors.New("hub.callback must be an absolute http or https URL, without user information or fragment")
	}
	req.host = strings.ToLower(u.Hostname())
	if v := form.Get("hub.lease_seconds"); v != "" && req.mode == "subscribe" {
		// A positive decimal integer (§5.1): digits only, and one past int64 is still one,
		// clamped to LeaseMax like any long lease.
		n, err := strconv.ParseInt(v, 10, 64)
		if errors.Is(err, strconv.ErrRange) && strings.Trim(v, "0123456789") == "" {
			n, err = math.MaxInt64, nil
		}
		if err != nil || n <= 0 || v[0] == '+' {
			return req, errors.New("hub.lease_seconds must be a positive integer")
		}
		req.lease = time.Duration(min(n, int64(h.opt.LeaseMax/time.Second))) * time.Second
	}
	if req.mode == "subscribe" {
		if req.lease == 0 {
			req.lease = h.opt.LeaseDefault
		}
		req.lease = min(max(req.lease, h.opt.LeaseMin), h.opt.LeaseMax)
	}
	return req, nil
}

// verify validates a request (§5.2) and verifies the subscriber's intent (§5.3); only a
// verified subscription is saved or deleted.
func (h *Hub) verify(ctx context.Context, req request) {
	log := h.opt.Log.With(slog.String("mode", req.mode), slog.String("callback", req.callback), slog.String("topic", req.topic))
	if req.mode == "subscribe" && !h.Topic(req.topic) {
		reason := "hub.topic is not a channel feed of this service"
		err := h.callbackGET(ctx, req.callback, url.Values{"hub.mode": {"denied"}, "hub.topic": {req.topic}, "hub.reason": {reason}}, "")
		h.m.verifications.WithLabelValues(req.mode, "denied").Inc()
		log.Info("websub hub: subscription denied", slog.String("reason", reason), slog.Any("notify_error", err))
		return
	}
	// §5.3: the lease is "measured from the time the verification request was made", not from
	// the subscriber's answer, which may take up to the timeout.
	asked := h.opt.Now()
	challenge := rand.Text()
	q := url.Values{"hub.mode": {req.mode}, "hub.topic": {req.topic}, "hub.challenge": {challenge}}
	if req.mode == "subscribe" {
		q.Set("hub.lease_seconds", strconv.Itoa(int(req.lease/time.Second)))
	}
	if err := h.callbackGET(ctx, req.callback, q, challenge); err != nil {
		outcome := "failed"
		if refused := refusedCallback(err); refused != nil {
			outcome, err = "refused_address", refused
		}
		h.m.verifications.WithLabelValues(req.mode, outcome).Inc()
		log.Info("websub hub: intent not verified", slog.Any("error", err))
		return
	}
	if req.mode == "unsubscribe" {
		if _, err := h.opt.Store.DeleteSubscription(ctx, req.callback, req.topic); err != nil {
			h.m.verifications.WithLabelValues(req.mode, "failed").Inc()
			log.Error("websub hub: unsubscribe", slog.Any("error", err))
			return
		}
		h.m.verifications.WithLabelValues(req.mode, "verified").Inc()
		log.Info("websub hub: unsubscribed")
		return
	}
	over, err := h.save(ctx, req, asked)
	if err != nil {
		h.m.verifications.WithLabelValues(req.mode, "failed").Inc()
		log.Error("websub hub: save subscription", slog.Any("error", err))
		return
	}
	if over != "" {
		err := h.callbackGET(ctx, req.callback, url.Values{"hub.mode": {"denied"}, "hub.topic": {req.topic}, "hub.reason": {over}}, "")
		h.m.verifications.WithLabelValues(req.mode, "over_limit").Inc()
		log.Info("websub hub: subscription denied", slog.String("reason", over), slog.Any("notify_error", err))
		return
	}
	h.m.verifications.WithLabelValues(req.mode, "verified").Inc()
	log.Info("websub hub: subscribed", slog.Duration("lease", req.lease))
}

// save saves a verified subscription unless that would take its topic or callback host past
// their limits, which ServeHTTP checked before the verification: verifications in flight at
// once all passed that check, so it is made again here, one save at a time (per replica; replicas
// saving at the same moment can still pass a limit by one each). over is the reason a
// subscription was not saved.
func (h *Hub) save(ctx context.Context, req request, asked time.Time) (over string, err error) {
	h.saveMu.Lock()
	defer h.saveMu.Unlock()
	now := h.opt.Now()
	byTopic, byHost, err := h.opt.Store.CountSubscriptions(ctx, req.callback, req.topic, req.host, now)
	if err != nil {
		return "", err
	}
	switch {
	case byTopic >= h.opt.MaxPerTopic:
		return "too many subscriptions to this topic", nil
	case byHost >= h.opt.MaxPerHost:
		return "too many subscriptions for callbacks on " + req.host, nil
	}
	_, err = h.opt.Store.SaveSubscription(ctx, store.Subscription{Callback: req.callback, Topic: req.topic, Host: req.host,
		Secret: req.secret, LeaseSeconds: int(req.lease / time.Second), ExpiresAt: asked.Add(req.lease), RenewedAt: now})
	return "", err
}

// refusedCallback rewrites a refusal of the address policy for operators (ingest's error names
// ingest.allow_private, and callbacks are judged by websub.allow_private); it is nil when err
// is no refusal.
func refusedCallback(err error) error {
	var re *ingest.RefusedError
	if !errors.As(err, &re) {
		return nil
	}
	return fmt.Errorf("callback address %s refused: %s address; set websub.allow_private to allow", re.Addr, re.Reason)
}

// callbackGET sends a GET to callback with params appended to its query (§5.2, §5.3). With a
// challenge, the answer must be 2xx and its body exactly the challenge.
func (h *Hub) callbackGET(ctx context.Context, callback string, params url.Values, challenge string) error {
	ctx, cancel := context.WithTimeout(ctx, h.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, appendQuery(callback, params), nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxChallengeEcho+1))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return answered(resp)
	}
	if challenge != "" && string(body) != challenge {
		return errors.New("subscriber did not echo hub.challenge")
	}
	return nil
}

const userAgent = "Syndicate-WebSub-Hub/1 (+https://www.w3.org/TR/websub/)"

// clientIP is what rate limits are kept by: the connection's peer address, or for IPv6 its /64.
// A host is routinely given a whole /64, so limiting each IPv6 address alone would let one
// client rotate through 2^64 buckets (and past maxClients, which then forgets every bucket).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is6() {
		return netip.PrefixFrom(ip, 64).Masked().String()
	}
	return ip.String()
}

// appendQuery adds params at the end of callback's query string, which is otherwise left as
// the subscriber wrote it (§5.1.1: the hub "MUST preserve the query string ... by appending new
// parameters to the end of the list using the & (ampersand) character"; parameters of the
// callback named like the hub's are not overwritten). Callbacks have no fragment (parse).
func appendQuery(callback string, params url.Values) string {
	switch i := strings.IndexByte(callback, '?'); {
	case i < 0:
		return callback + "?" + params.Encode()
	case i == len(callback)-1 || strings.HasSuffix(callback, "&"):
		return callback + params.Encode()
	default:
		return callback + "&" + params.Encode()
	}
}

// decodeUnreserved decodes the percent-encoded bytes of s that are unreserved characters
// (RFC 3986 §2.3: letters, digits, "-", ".", "_", "~"), which mean the same encoded or not;
// every other escape is kept as it is.
func decodeUnreserved(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if c, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil && unreserved(byte(c)) {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// answered is the error of a subscriber's answer other than 2xx. A redirect says it was not
// followed (§5.3.1, §7), so the log does not read as if its target failed.
func answered(resp *http.Response) error {
	if resp.StatusCode/100 == 3 {
		return fmt.Errorf("subscriber answered %s; redirects are not followed", resp.Status)
	}
	return fmt.Errorf("subscriber answered %s", resp.Status)
}
