package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"
)

// Replicas keep each other's caches current with core-NATS control subjects (not captured by the
// items stream), best effort, while the store stays the source of truth:
//
//	PREFIX.control.documents  payload: a channel slug whose documents a build just saved
//	PREFIX.control.jobs       payload: a job name whose schedule or pause state changed
//
// A replica that misses messages (disconnected) rereads everything from the store when it
// reconnects: Join's reconnected hook.
const (
	KindDocuments = "documents"
	KindJobs      = "jobs"
)

const replicaHeader = "Syndicate-Replica"

// NewReplicaID names this process among the replicas sharing a store and NATS.
func NewReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Control sends and receives the control messages of one replica.
type Control struct {
	nc      *nats.Conn
	prefix  string
	replica string
	log     *slog.Logger
}

// NewControl returns the control messages of replica on nc, under the subject prefix.
func NewControl(nc *nats.Conn, prefix, replica string, log *slog.Logger) *Control {
	return &Control{nc: nc, prefix: prefix, replica: replica, log: log}
}

// Subject is the control subject of a kind of change.
func (c *Control) Subject(kind string) string { return c.prefix + ".control." + kind }

// Join subscribes handlers (by kind) to the other replicas' messages, its own being ignored, and
// calls reconnected after every reconnect, for the messages missed meanwhile.
func (c *Control) Join(handlers map[string]func(string), reconnected func()) error {
	for kind, fn := range handlers {
		if _, err := c.nc.Subscribe(c.Subject(kind), func(m *nats.Msg) {
			if m.Header.Get(replicaHeader) != c.replica {
				fn(string(m.Data))
			}
		}); err != nil {
			return fmt.Errorf("cluster: subscribe %s: %w", c.Subject(kind), err)
		}
	}
	status := c.nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	go func() {
		for st := range status {
			if st == nats.CLOSED {
				return
			}
			reconnected()
		}
	}()
	return nil
}

// Announce tells the other replicas about a change; best effort, the store is the truth.
func (c *Control) Announce(kind, what string) {
	msg := &nats.Msg{Subject: c.Subject(kind), Data: []byte(what), Header: nats.Header{replicaHeader: {c.replica}}}
	if err := c.nc.PublishMsg(msg); err != nil {
		c.log.Warn("announce change to other replicas", slog.String("kind", kind), slog.Any("error", err))
	}
}
