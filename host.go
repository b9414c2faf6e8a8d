package syndicate

import (
	"net"
	"strings"

	"golang.org/x/net/idna"
)

// hostProfile maps a URL's host name as browsers do (the WHATWG URL Standard's "domain to
// ASCII": UTS #46 without the STD3 rules or hyphen checks), so that every host a browser opens is
// accepted (my_blog.example, ab--cd.example) and one it cannot open is not.
var hostProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.StrictDomainName(false),
	idna.CheckHyphens(false), idna.CheckJoiners(true))

// ASCIIHost returns host, a URL's host name or IP literal as url.URL.Hostname gives it, as a
// resolver needs it: internationalised labels in Punycode (例子.测试 is xn--fsqu00a.xn--0zwm56d),
// letters in lower case. IP literals come back as they are. Readers that do not speak IDNA (curl,
// most HTTP libraries) cannot open a host written any other way.
func ASCIIHost(host string) (string, error) {
	if strings.Contains(host, ":") || net.ParseIP(host) != nil {
		return host, nil
	}
	return hostProfile.ToASCII(host)
}
