package ingest

import (
	"net/netip"
	"testing"
)

func TestAddressReasons(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1", "loopback"},
		{"127.255.0.9", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"192.168.1.1", "private"},
		{"fc00::1", "private"},
		{"::ffff:192.168.0.1", "private"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"255.255.255.255", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"100.127.255.254", "shared (CGNAT)"},
		{"64:ff9b::a9fe:a9fe", "link-local"},
		{"64:ff9b::808:808", ""},
		{"100.128.0.1", ""},
		{"8.8.8.8", ""},
		{"2606:4700::1111", ""},
		{"::ffff:8.8.8.8", ""},
	} {
		if got := reason(netip.MustParseAddr(tc.addr)); got != tc.want {
			t.Errorf("reason(%s) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestPolicyAllowList(t *testing.T) {
	allowed := netip.MustParseAddrPort("127.0.0.1:8080")
	p := AddressPolicy{Allow: []netip.AddrPort{allowed}}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{"[::ffff:127.0.0.1]:8080", true},
		{"127.0.0.1:8081", false}, // the same host on another port is another server
		{"127.0.0.2:8080", false},
		{"93.184.215.14:80", true},
	} {
		err := p.control("tcp", tc.addr, nil)
		if (err == nil) != tc.ok {
			t.Errorf("dial %s: err = %v, want allowed %v", tc.addr, err, tc.ok)
		}
	}
	if err := (AddressPolicy{AllowPrivate: true}).control("tcp", "169.254.169.254:80", nil); err != nil {
		t.Errorf("allow_private: %v", err)
	}
}

func TestDeclaresEntities(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		want bool
	}{
		{`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss/>`, true},
		{`<?xml version="1.0"?><!DOCTYPE rss SYSTEM "x.dtd"><rss/>`, false},
		{`<?xml version="1.0"?><rss><channel><description>&lt;!DOCTYPE x [<![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]></description></channel></rss>`, false},
		{`<?xml version="1.0"?><!-- c --><!DOCTYPE feed [<!ENTITY % p SYSTEM "http://169.254.169.254/">]><feed/>`, true},
		{`<rss/>`, false},
	} {
		if got := declaresEntities([]byte(tc.doc)); got != tc.want {
			t.Errorf("declaresEntities(%s) = %v, want %v", tc.doc, got, tc.want)
		}
	}
}
