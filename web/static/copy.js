// Copy-the-URL buttons: a button with data-copy="URL" copies it and says so. The feed view's
// format links are relative (they hold for feeds and archive pages alike), and a reader cannot
// subscribe to "lingling.rss": the copy is always resolved to an absolute URL.
document.addEventListener("click", function (ev) {
  var b = ev.target.closest("button[data-copy]");
  if (!b) return;
  var url = new URL(b.getAttribute("data-copy"), document.baseURI).href;
  var done = function () { var t = b.textContent; b.textContent = "已复制"; setTimeout(function () { b.textContent = t; }, 1500); };
  if (navigator.clipboard) { navigator.clipboard.writeText(url).then(done, function () { window.prompt("复制订阅地址:", url); }); }
  else { window.prompt("复制订阅地址:", url); }
});
