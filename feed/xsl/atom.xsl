<?xml version="1.0" encoding="UTF-8"?>
<!--
  Shows a Syndicate Atom 1.0 feed as a readable page when someone opens it in a browser.
  XSLT 1.0, the version browsers implement. Summaries are type="html" holding HTML-escaped plain
  text (Syndicate never puts markup there), so disable-output-escaping only turns "&lt;" back into "<".
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:a="http://www.w3.org/2005/Atom"
    xmlns:fh="http://purl.org/syndication/history/1.0"
    exclude-result-prefixes="a fh">
  <xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>

  <!-- The address to subscribe to: on an RFC 5005 archive page, the feed its "current" link names. -->
  <xsl:variable name="self" select="/a:feed/a:link[@rel='current']/@href | /a:feed/a:link[@rel='self'][not(../a:link[@rel='current'])]/@href"/>

  <xsl:template match="/">
    <html lang="zh-CN">
      <head>
        <meta charset="UTF-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="/a:feed/a:title"/>（Atom 订阅源）</title>
        <style>
          :root { color-scheme: light dark; }
          body {
            margin: 0 auto; max-width: 46rem; padding: 1.5rem 1rem 3rem; line-height: 1.75;
            font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
              "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif;
          }
          a { color: #b3261e; }
          .badge { display: inline-block; font-size: .85rem; padding: .1rem .6rem; border-radius: 1rem; background: #f6e3e1; color: #7a1a14; }
          .subscribe { margin: 1.5rem 0; padding: 1rem 1.25rem; border-left: 4px solid #b3261e; background: rgba(179, 38, 30, .06); }
          .subscribe h2 { margin: 0 0 .5rem; font-size: 1.1rem; }
          .subscribe p { margin: .4rem 0; }
          code.url { display: block; padding: .5rem .75rem; overflow-wrap: anywhere; user-select: all; background: rgba(127, 127, 127, .15); border-radius: .25rem; }
          article { padding: 1rem 0; border-bottom: 1px solid rgba(127, 127, 127, .3); }
          article h3 { margin: 0 0 .25rem; font-size: 1.15rem; }
          .meta { margin: 0; font-size: .85rem; opacity: .75; }
          .tag { margin-right: .5em; }
          footer { margin-top: 2rem; font-size: .85rem; opacity: .75; }
        </style>
      </head>
      <body>
        <header>
          <span class="badge">Atom 订阅源</span>
          <h1><xsl:value-of select="/a:feed/a:title"/></h1>
          <xsl:if test="/a:feed/a:subtitle != /a:feed/a:title">
            <p><xsl:value-of select="/a:feed/a:subtitle"/></p>
          </xsl:if>
          <p><a href="{/a:feed/a:link[@rel='alternate']/@href}">打开网站上的频道页面 →</a></p>
        </header>
        <section class="subscribe">
          <h2>如何订阅</h2>
          <p>这是一个供 RSS/Atom 阅读器使用的订阅源，不是普通网页。复制下面的地址，粘贴到你常用的阅读器（如 Feedly、Inoreader、NetNewsWire、Reeder 或浏览器的订阅插件）中“添加订阅”即可；有新文章时，阅读器会自动收到。</p>
          <code class="url"><xsl:value-of select="$self"/></code>
        </section>
        <main>
          <h2>
            <xsl:choose>
              <xsl:when test="/a:feed/fh:archive">往期文章（归档）</xsl:when>
              <xsl:otherwise>最新文章</xsl:otherwise>
            </xsl:choose>
          </h2>
          <xsl:for-each select="/a:feed/a:entry">
            <article>
              <h3><a href="{a:link[@rel='alternate']/@href}"><xsl:value-of select="a:title"/></a></h3>
              <p class="meta">
                <time datetime="{a:published}">
                  <xsl:value-of select="translate(substring(a:published, 1, 16), 'T', ' ')"/>
                </time>
                <xsl:for-each select="a:author">
                  <xsl:choose>
                    <xsl:when test="position() = 1"> · </xsl:when>
                    <xsl:otherwise>、</xsl:otherwise>
                  </xsl:choose>
                  <xsl:value-of select="a:name"/>
                </xsl:for-each>
              </p>
              <p><xsl:value-of select="a:summary" disable-output-escaping="yes"/></p>
              <p class="meta">
                <xsl:for-each select="a:category"><span class="tag">#<xsl:value-of select="@term"/></span></xsl:for-each>
              </p>
            </article>
          </xsl:for-each>
        </main>
        <footer>
          <p>由 <xsl:value-of select="/a:feed/a:generator"/> 生成 · 最后更新：<xsl:value-of select="translate(substring(/a:feed/a:updated, 1, 16), 'T', ' ')"/></p>
        </footer>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
