// Package proxytest puts a TCP proxy between a client under test and a real server, so a test
// can partition the two: Cut drops the link as a failed network or a killed peer would, Pause
// stops it as a frozen process (SIGSTOP) or a black hole would, holding what was sent until
// Resume. Tests fail a replica's link to its database this way instead of stubbing the store.
package proxytest

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards every connection made to Addr to the target until the test ends.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener // nil while cut
	conns  map[net.Conn]struct{}
	resume chan struct{} // open while paused, closed otherwise
	wg     sync.WaitGroup
}

// Start listens on a random port of 127.0.0.1, forwards to target (host:port), and cuts every
// link when t ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxytest: listen: %v", err)
	}
	p := &Proxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}, resume: closed()}
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

// Addr is the host:port clients dial instead of the target's.
func (p *Proxy) Addr() string { return p.addr }

// Cut closes the listener and every connection, both halves: clients see their connections
// reset and new dials refused, the server sees its sessions end. A pause ends with it.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.unpause()
}

// Restore listens on Addr again after Cut; connections made from now on are forwarded. Call it
// from the test's goroutine: it fails the test when the port was taken in the meantime.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxytest: listen again on %s: %v", p.addr, err)
	}
	p.serveLocked(ln)
}

// Pause stops forwarding in both directions without closing anything: bytes sent either way,
// and the end of a connection, are held until Resume, as TCP holds them across a partition that
// heals before the peers give up. New connections are still accepted, and held likewise.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.resume:
		p.resume = make(chan struct{})
	default: // already paused
	}
}

// Resume delivers what Pause held and forwards again.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unpause()
}

// Close cuts every link and waits for the proxy's goroutines to end.
func (p *Proxy) Close() {
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) unpause() {
	select {
	case <-p.resume:
	default:
		close(p.resume)
	}
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serveLocked(ln)
}

func (p *Proxy) serveLocked(ln net.Listener) {
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.link(ln, c)
			}()
		}
	}()
}

// link dials the target for the client c accepted on ln and copies both ways until either side
// ends or the proxy is cut.
func (p *Proxy) link(ln net.Listener, c net.Conn) {
	s, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln != ln { // cut while dialling
		p.mu.Unlock()
		c.Close()
		s.Close()
		return
	}
	p.conns[c], p.conns[s] = struct{}{}, struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.conns, c)
		delete(p.conns, s)
		p.mu.Unlock()
	}()
	done := make(chan struct{}, 2)
	go func() { p.copy(s, c); done <- struct{}{} }()
	go func() { p.copy(c, s); done <- struct{}{} }()
	<-done
	// One side ended (or the proxy was cut): end the other as well, as PostgreSQL and its
	// clients do not half-close.
	c.Close()
	s.Close()
	<-done
}

// copy forwards src to dst, waiting at every chunk, and before passing on the end of src, while
// the proxy is paused.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.waitResumed()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.waitResumed()
			}
			return
		}
	}
}

func (p *Proxy) waitResumed() {
	p.mu.Lock()
	resume := p.resume
	p.mu.Unlock()
	<-resume
}

func closed() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
