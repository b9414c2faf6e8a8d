package ingest

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// AddressPolicy decides which IP addresses upstream requests may connect to. It is applied to the
// address actually dialled, after DNS resolution, so a name that resolves (or rebinds) to an
// internal address is refused like the address itself, on the first request and on every redirect.
type AddressPolicy struct {
	// AllowPrivate lets sources reach loopback, private, link-local and other internal addresses
	// (ingest.allow_private, for intranet sources).
	AllowPrivate bool
	// Allow lists exact address:port pairs reachable whatever AllowPrivate says. Configuration
	// never sets it: it lets tests, whose servers all listen on 127.0.0.1, play a public host.
	Allow []netip.AddrPort
}

// RefusedError is the error of a connection the policy did not allow.
type RefusedError struct {
	Addr     netip.Addr
	Reason   string // e.g. "link-local"
	Redirect bool   // refused while following a redirect
}

func (e *RefusedError) Error() string {
	what := "upstream address"
	if e.Redirect {
		what = "upstream redirect to"
	}
	return fmt.Sprintf("%s %s refused: %s address; set ingest.allow_private to allow", what, e.Addr, e.Reason)
}

var (
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	sharedCGNAT = netip.MustParsePrefix("100.64.0.0/10")
	broadcast   = netip.MustParseAddr("255.255.255.255")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
)

// reason says why addr is internal, or "" when it is a public address. IPv4-mapped IPv6
// addresses (::ffff:127.0.0.1) and NAT64 ones (64:ff9b::7f00:1) are judged as the IPv4 address
// they carry.
func reason(addr netip.Addr) string {
	addr = addr.Unmap()
	// A NAT64 gateway reaches the IPv4 address in the last 32 bits: judge that one.
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case addr.IsUnspecified() || thisNetwork.Contains(addr):
		return "unspecified"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsLinkLocalUnicast():
		return "link-local"
	case addr.IsMulticast() || addr == broadcast:
		return "multicast"
	case addr.IsPrivate():
		return "private"
	case sharedCGNAT.Contains(addr):
		return "shared (CGNAT)"
	}
	return ""
}

// check returns a *RefusedError when addrPort may not be dialled.
func (p AddressPolicy) check(addrPort netip.AddrPort) error {
	if p.AllowPrivate {
		return nil
	}
	for _, a := range p.Allow {
		if a.Addr().Unmap() == addrPort.Addr().Unmap() && a.Port() == addrPort.Port() {
			return nil
		}
	}
	if r := reason(addrPort.Addr()); r != "" {
		return &RefusedError{Addr: addrPort.Addr().Unmap(), Reason: r}
	}
	return nil
}

// control is a net.Dialer.Control: it sees the resolved address of every connection attempt.
func (p AddressPolicy) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("upstream address %q: %w", address, err)
	}
	return p.check(ap)
}

// checkLiteral refuses a redirect to an IP literal before any connection is tried, so the error
// can say it was the redirect; names are judged when dialled.
func (p AddressPolicy) checkLiteral(host, port string) error {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	var n uint16
	if pn, err := net.LookupPort("tcp", port); err == nil {
		n = uint16(pn)
	}
	if err := p.check(netip.AddrPortFrom(addr, n)); err != nil {
		re := err.(*RefusedError)
		re.Redirect = true
		return re
	}
	return nil
}
