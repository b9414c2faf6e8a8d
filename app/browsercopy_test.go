package app_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// TestBrowserCopyButtonsCopyAbsoluteURLs clicks every copy button of a feed's HTML view in
// Chromium: what lands on the clipboard must be a URL a feed reader can subscribe to, also for
// the other formats, whose links on the page are relative (lingling.rss).
func TestBrowserCopyButtonsCopyAbsoluteURLs(t *testing.T) {
	browser := chromium(t)
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
		chromedp.Flag("disable-sync", true), chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()))
	allocCtx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	browserCtx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	if _, err := chromedp.Run(browserCtx, chromedp.Navigate(base+"/feeds/lingling.atom")); err != nil {
		t.Fatalf("open the feed: %v", err)
	}
	ctx, cancel := context.WithTimeout(browserCtx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitVisible(chromedp.CSS(`button[data-copy]`))); err != nil {
		t.Fatalf("wait for the copy buttons: %v", err)
	}
	// The clipboard of a headless browser is not readable from a test: record what copy.js writes.
	copied, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const got = [];
		Object.defineProperty(navigator, "clipboard", {configurable: true,
			value: {writeText: s => { got.push(s); return Promise.resolve(); }}});
		for (const b of document.querySelectorAll("button[data-copy]")) b.click();
		await new Promise(r => setTimeout(r, 0));
		return got;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("click the copy buttons: %v", err)
	}
	feed := "http://" + addr + "/feeds/lingling."
	want := []string{feed + "atom", feed + "rss", feed + "atom", feed + "json"}
	if len(copied) != len(want) {
		t.Fatalf("copied %q, want %q", copied, want)
	}
	for i := range want {
		if copied[i] != want[i] {
			t.Errorf("button %d copied %q, want %q", i, copied[i], want[i])
		}
	}
}
