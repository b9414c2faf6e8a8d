// Package websub tells WebSub hubs (https://www.w3.org/TR/websub/) that a feed changed, so
// subscribed readers get the new items pushed instead of polling. Notifications run in the
// background with retries: a slow or failing hub never delays a build.
package websub

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Notifier publishes feed changes to hubs.
type Notifier struct {
	Hubs   []string
	Client *http.Client
	Log    *slog.Logger
	// Retries per hub and topic after the first attempt; the wait doubles from Backoff.
	Retries int
	Backoff time.Duration

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once
}

func (n *Notifier) init() {
	n.once.Do(func() { n.ctx, n.cancel = context.WithCancel(context.Background()) })
}

// Publish notifies every hub that the topics (feed URLs) changed. It returns at once.
func (n *Notifier) Publish(topics ...string) {
	if len(n.Hubs) == 0 || len(topics) == 0 {
		return
	}
	n.init()
	for _, hub := range n.Hubs {
		for _, topic := range topics {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				// A panic here would end the whole service; a lost hub notification does not.
				defer func() {
					if v := recover(); v != nil {
						n.Log.Error("websub: hub notification panicked", slog.String("hub", hub), slog.String("topic", topic),
							slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
					}
				}()
				n.deliver(hub, topic)
			}()
		}
	}
}

func (n *Notifier) deliver(hub, topic string) {
	wait := n.Backoff
	for attempt := 0; ; attempt++ {
		err := n.post(hub, topic)
		if err == nil {
			return
		}
		if attempt >= n.Retries {
			n.Log.Warn("websub: hub notification failed", slog.String("hub", hub), slog.String("topic", topic), slog.Any("error", err))
			return
		}
		// Jitter keeps many feeds changed in one build from hitting the hub in lockstep.
		jittered := wait/2 + time.Duration(rand.Int64N(int64(wait/2)+1))
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(jittered):
		}
		wait *= 2
	}
}

func (n *Notifier) post(hub, topic string) error {
	ctx, cancel := context.WithTimeout(n.ctx, 30*time.Second)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := n.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hub answered %s", resp.Status)
	}
	return nil
}

// Close stops retries and waits for notifications in flight, up to ctx.
func (n *Notifier) Close(ctx context.Context) error {
	n.init()
	done := make(chan struct{})
	go func() { n.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return nil
	}
}

// Wait blocks until every notification in flight finished (tests use it).
func (n *Notifier) Wait() { n.wg.Wait() }
