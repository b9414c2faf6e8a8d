package app_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// chromium finds Debian's browser; .ci/run installs it.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("no Chromium installed: the browser test needs Debian's chromium (apt-get install chromium); .ci/run installs it")
	return ""
}

// A person opens the directory, finds the 零陵 story, follows the Atom link and sees the feed as
// a readable HTML page the server sends (no XSLT: Chrome is removing it), with the channel's
// items as links and the other formats linked.
func TestBrowserDirectoryAndFeedView(t *testing.T) {
	browser := chromium(t)
	// Browsers apply an XSL only from the feed's own origin: the site URL is the server's.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a, base := startService(t, t.TempDir(), "", "SYNDICATE_DEMO=true", "SYNDICATE_HTTP_ADDR="+addr, "SYNDICATE_SITE_BASE_URL=http://"+addr)
	testwait.For(t, "the demo feed", func() bool {
		_, err := a.Store.Document(context.Background(), "lingling", "atom")
		return err == nil
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.DisableGPU,
		// No XSLT, as in Chrome once it is removed: the feed page must not need it.
		chromedp.Flag("disable-blink-features", "XSLT"),
		chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// The first Run starts the browser and must not carry a timeout (it would end the browser).
	if _, err := chromedp.Run(browserCtx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the directory: %v", err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, 60*time.Second)
	defer cancel()
	shots := t.TempDir()
	if dir := os.Getenv("SYNDICATE_TEST_SCREENSHOTS"); dir != "" { // keep them for a person to look at
		shots = dir
	}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	screenshot := func(name string) {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		must("screenshot", err)
		must("save screenshot", os.WriteFile(filepath.Join(shots, name), shot, 0o600))
	}

	_, err = chromedp.Run(ctx, chromedp.WaitVisible(chromedp.CSS(`body`)))
	must("wait for the directory", err)
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	must("read the directory", err)
	screenshot("directory.png")
	if !strings.Contains(page, "零陵") || !strings.Contains(page, "零陵抗疫工作纪实") {
		t.Fatalf("directory does not show the 零陵 channel and story:\n%.500s", page)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a[href$="/feeds/lingling.atom"]`), "href"))
	must("find the Atom subscribe link", err)
	// Links carry the public base URL; the browser follows the same path on the test server.
	feedURL := base + strings.TrimPrefix(href.Value, a.Site.BaseURL)
	_, err = chromedp.Run(ctx, chromedp.Navigate(feedURL))
	must("open the Atom feed", err)
	_, err = chromedp.Run(ctx, chromedp.WaitVisible(chromedp.CSS(`body`)))
	must("wait for the feed view", err)
	feedText, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	must("read the feed view", err)
	screenshot("feed.png")
	t.Logf("screenshots in %s", shots)
	if !strings.Contains(feedText, "零陵抗疫工作纪实") {
		t.Errorf("the opened Atom feed does not show the story's title:\n%.500s", feedText)
	}
	// The server sent HTML: nothing depends on the browser's XSLT.
	contentType, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.contentType`))
	must("read the document type", err)
	if contentType != "text/html" {
		t.Errorf("the feed opened as %q, want text/html", contentType)
	}
	if strings.Contains(feedText, "<?xml") || strings.Contains(feedText, "<feed") {
		t.Errorf("the browser shows the feed's source:\n%.500s", feedText)
	}
	// The story is a link to the article, with its date and summary as text.
	storyHref, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`section h2 a`), "href"))
	must("find the story's link", err)
	if !strings.Contains(storyHref.Value, "yongzhou-20221116-lingling-kangyi") {
		t.Errorf("first item links to %q, want the 零陵 story", storyHref.Value)
	}
	for _, want := range []string{"2022-11-16", "关键时刻冲得上", "订阅"} {
		if !strings.Contains(feedText, want) {
			t.Errorf("the feed page lacks %q:\n%.800s", want, feedText)
		}
	}
	for _, f := range []string{"rss", "atom", "json"} {
		if _, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`a[href="lingling.`+f+`"]`), "href")); err != nil {
			t.Errorf("no link to the %s format: %v", f, err)
		}
	}
}
