package proxytest_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/proxytest"
)

// echo runs a line echo server until the test ends and returns its address.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

type client struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{Conn: c, r: bufio.NewReader(c)}
}

// roundTrip sends line and reads its echo, giving up after wait.
func (c *client) roundTrip(line string, wait time.Duration) (string, error) {
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return "", err
	}
	got, err := c.r.ReadString('\n')
	return strings.TrimSuffix(got, "\n"), err
}

func TestForwardsBothWays(t *testing.T) {
	p := proxytest.Start(t, echo(t))
	c := dial(t, p.Addr())
	for _, line := range []string{"零陵", "second"} {
		if got, err := c.roundTrip(line, 5*time.Second); err != nil || got != line {
			t.Fatalf("echo of %q: %q, %v", line, got, err)
		}
	}
}

// A cut ends open connections and refuses new ones; after Restore the same address works again.
func TestCutRefusesAndRestoreReopens(t *testing.T) {
	p := proxytest.Start(t, echo(t))
	c := dial(t, p.Addr())
	if _, err := c.roundTrip("before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	if got, err := c.roundTrip("during", 5*time.Second); err == nil {
		t.Fatalf("a cut connection still echoed %q", got)
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a cut connection hung instead of ending: %v", err)
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("a cut proxy accepted a connection")
	}
	p.Restore()
	if got, err := dial(t, p.Addr()).roundTrip("after", 5*time.Second); err != nil || got != "after" {
		t.Fatalf("after Restore: %q, %v", got, err)
	}
}

// A pause holds what was sent, on open and new connections alike, and Resume delivers it.
func TestPauseHoldsUntilResume(t *testing.T) {
	p := proxytest.Start(t, echo(t))
	open := dial(t, p.Addr())
	if _, err := open.roundTrip("before", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	p.Pause()
	fresh := dial(t, p.Addr())
	for _, c := range []*client{open, fresh} {
		if got, err := c.roundTrip("held", 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("paused proxy: %q, %v; want a timeout", got, err)
		}
	}
	p.Resume()
	for _, c := range []*client{open, fresh} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got, err := c.r.ReadString('\n'); err != nil || got != "held\n" {
			t.Fatalf("after Resume: %q, %v; want the held line", got, err)
		}
	}
}

// Cutting a paused proxy ends its connections rather than leaving them held.
func TestCutEndsAPause(t *testing.T) {
	p := proxytest.Start(t, echo(t))
	c := dial(t, p.Addr())
	p.Pause()
	if _, err := c.roundTrip("held", 200*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("paused proxy: %v; want a timeout", err)
	}
	p.Cut()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := c.r.ReadString('\n'); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("cut while paused: read %q, %v; want the connection ended", got, err)
	}
}
