"""Render the hand-written main texts into pages of ten site layouts (two per kind: news, blog,
forum, documentation, product), each body in both layouts of its kind, and write
``pages/<layout>--<body>.html`` with its gold main text ``pages/<layout>--<body>.txt``.

The gold text is the body as written (title, then every block; inline markup reduced to its
words), never the output of an extractor. Everything the layouts add (navigation, cookie
banners, teasers, comments, reviews, user panels, signatures, footers, scripts) is boilerplate.

    python bench/data/extraction_gold/build.py           # (re)write pages/
    python bench/data/extraction_gold/build.py --check   # exit 1 when pages/ differs
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bodies_forum_docs_shop import DOCS, FORUMS, PRODUCTS  # noqa: E402
from bodies_news_blog import BLOGS, NEWS  # noqa: E402
from chrome import CHROME  # noqa: E402

PAGES = HERE / "pages"
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_EM = re.compile(r"\*([^*]+)\*")
_CODE = re.compile(r"`([^`]+)`")


def inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _LINK.sub(r'<a href="\2">\1</a>', out)
    out = _EM.sub(r"<em>\1</em>", out)
    return _CODE.sub(r"<code>\1</code>", out)


def inline_text(text: str) -> str:
    return _CODE.sub(r"\1", _EM.sub(r"\1", _LINK.sub(r"\1", text)))


def blocks_html(blocks, p_class: str = "") -> str:
    pc = f' class="{p_class}"' if p_class else ""
    out = []
    for kind, value in blocks:
        if kind == "p":
            out.append(f"<p{pc}>{inline_html(value)}</p>")
        elif kind == "h2":
            out.append(f"<h2>{inline_html(value)}</h2>")
        elif kind in ("ul", "ol"):
            out.append(f"<{kind}>" + "".join(f"<li>{inline_html(i)}</li>" for i in value) + f"</{kind}>")
        elif kind == "table":
            head, *rows = value
            out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
                       + "</tbody></table>")
        elif kind == "pre":
            out.append(f"<pre><code>{html.escape(value, quote=False)}</code></pre>")
        elif kind == "quote":
            out.append(f"<blockquote><p>{inline_html(value)}</p></blockquote>")
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return "\n".join(out)


def blocks_text(blocks) -> list[str]:
    out = []
    for kind, value in blocks:
        if kind in ("ul", "ol"):
            out += [inline_text(i) for i in value]
        elif kind == "table":
            out += ["\t".join(r) for r in value]
        else:
            out.append(inline_text(value) if kind != "pre" else value)
    return out


def gold_text(title: str, kind: str, content) -> str:
    lines = [title]
    if kind == "forum":
        for _, blocks in content:
            lines += blocks_text(blocks)
    else:
        lines += blocks_text(content)
    return "\n".join(lines) + "\n"


# --- shared pieces --------------------------------------------------------------------------

def head(title: str, lang: str, site: str, extra: str = "") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">\n<title>{html.escape(title)} | {site}</title>\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="description" content="{html.escape(title)}">\n<link rel="stylesheet" href="/static/site.css">\n'
            '<style>.hidden{display:none}.nav a{padding:4px}</style>\n'
            f'<script async src="https://analytics.example.com/tag.js"></script>\n'
            '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag("js",new Date());'
            'gtag("config","G-XXXX",{"anonymize_ip":true});</script>\n' + extra + "</head>\n")


def nav_links(c, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return "".join(f'<li{attr}><a href="/{i}-{re.sub(r"[^a-z]", "", n.lower()) or "s"}/">{html.escape(n)}</a></li>' for i, n in enumerate(c["nav"]))


def cookie_banner(c, variant: int) -> str:
    if variant == 0:
        return (f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>{html.escape(c["cookie"])}</p>'
                f'<button class="btn-accept">{html.escape(c["accept"])}</button><button>{html.escape(c["reject"])}</button></div>\n')
    return (f'<div class="cmp-container" data-cmp="1"><div class="cmp-text">{html.escape(c["cookie"])} '
            f'<a href="/privacy">Privacy</a></div><a class="cmp-btn" href="#">{html.escape(c["accept"])}</a>'
            f'<a class="cmp-btn" href="#">{html.escape(c["reject"])}</a></div>\n')


def footer_links(c) -> str:
    return " ".join(f'<a href="/{re.sub(r"[^a-z]", "", f.lower()) or "f"}">{html.escape(f)}</a>' for f in c["footer"])


def teasers(c, cls: str) -> str:
    return "".join(f'<li class="{cls}"><a href="/article/{i}"><img src="/img/t{i}.jpg" alt=""><span>{html.escape(t)}</span></a></li>'
                   for i, t in enumerate(c["teasers"]))


def comment_list(c, style: int) -> str:
    out = []
    for i, text in enumerate(c["user_comments"]):
        name = ["anna_r", "Tom B.", "reader1987", "k.m."][i % 4]
        if style == 0:
            out.append(f'<li class="comment" id="comment-{i}"><div class="comment-author vcard"><b>{name}</b> '
                       f'<time>12.03.2024 09:{10 + i}</time></div><div class="comment-content"><p>{html.escape(text)}</p></div>'
                       f'<a class="comment-reply-link" href="#r{i}">{html.escape(c["reply"])}</a></li>')
        else:
            out.append(f'<div class="x9f2 r-item"><div class="x9f2-h"><span>{name}</span> · <span>2 h</span></div>'
                       f'<div class="x9f2-b">{html.escape(text)}</div><div class="x9f2-f">👍 {3 + i} · {html.escape(c["reply"])}</div></div>')
    return "\n".join(out)


# --- layouts ---------------------------------------------------------------------------------

def news_a(b, c):
    _, _, lang, title, blocks = b
    body = blocks_html(blocks)
    return (head(title, lang, "The Daily Ledger", '<script type="application/ld+json">' + json.dumps(
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title, "datePublished": "2024-03-12"}) + "</script>\n")
        + "<body>\n" + cookie_banner(c, 0)
        + f'<header class="site-header"><a class="logo" href="/">The Daily Ledger</a><nav class="main-nav"><ul>{nav_links(c)}</ul></nav>'
        + f'<form class="search" action="/search"><input name="q" placeholder="{html.escape(c["search"])}"></form></header>\n'
        + f'<main id="main"><article class="story">\n<h1>{html.escape(title)}</h1>\n'
        + f'<p class="byline">{html.escape(c["posted"])} Sam Reed · 12 March 2024, 09:41</p>\n'
        + f'<figure><img src="/img/lead.jpg" alt="Photo"><figcaption>Photo: Agency</figcaption></figure>\n'
        + f'<div class="story-body">{body}</div>\n'
        + f'<div class="share"><span>{html.escape(c["share"])}</span> <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>\n'
        + "</article>\n"
        + f'<aside class="sidebar"><h3>{html.escape(c["related"])}</h3><ol>{teasers(c, "teaser")}</ol>'
        + f'<div class="newsletter"><p>{html.escape(c["newsletter"])}</p><input type="email"><button>{html.escape(c["subscribe"])}</button></div></aside>\n'
        + f'<section id="comments" class="comments"><h3>{html.escape(c["comments"])} ({len(c["user_comments"])})</h3><ol class="comment-list">{comment_list(c, 0)}</ol></section>\n'
        + f'</main>\n<footer class="site-footer"><p>{footer_links(c)}</p><p>© 2024 The Daily Ledger. {html.escape(c["rights"])}</p></footer>\n'
        + "</body></html>\n")


def news_b(b, c):
    _, _, lang, title, blocks = b
    half = max(1, len(blocks) // 2)
    inline_related = (f'<div class="inline-rel"><strong>{html.escape(c["more"])}</strong><ul>'
                      + "".join(f'<li><a href="/a/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(c["teasers"][:2])) + "</ul></div>")
    return (head(title, lang, "Courier Online")
            + "<body class=\"pg-article\">\n" + cookie_banner(c, 1)
            + '<div class="top-strip"><a href="/login">Login</a> | <a href="/abo">Abo</a> | <a href="/epaper">E-Paper</a></div>\n'
            + f'<div id="hdr"><div class="menu"><ul>{nav_links(c, "m-item")}</ul></div></div>\n'
            + '<div class="ad-slot" id="ad-top"><script>loadAd("top")</script><span>Anzeige / Advertisement</span></div>\n'
            + '<div id="wrap"><div class="col-main">\n'
            + f'<div class="kicker">{html.escape(c["nav"][1])}</div><h1 class="headline">{html.escape(title)}</h1>\n'
            + '<div class="meta">12.03.2024 · 4 min</div>\n'
            + f'<div class="txt">{blocks_html(blocks[:half])}\n{inline_related}\n{blocks_html(blocks[half:])}</div>\n'
            + f'<div class="tags"><a href="/t/1">{html.escape(c["nav"][2])}</a> <a href="/t/2">{html.escape(c["nav"][4])}</a></div>\n'
            + f'<div class="c-wrap"><div class="c-title">{html.escape(c["comments"])}</div>{comment_list(c, 1)}</div>\n'
            + '</div>\n'
            + f'<div class="col-side"><div class="box"><div class="box-h">{html.escape(c["related"])}</div><ul>{teasers(c, "b-item")}</ul></div>'
            + '<div class="ad-slot"><iframe src="/ads/side"></iframe></div></div>\n'
            + f'</div>\n<div class="ft"><div>{footer_links(c)}</div><div>© Courier Media 2024 — {html.escape(c["rights"])}</div></div>\n'
            + '<script>var _paq=window._paq=window._paq||[];_paq.push(["trackPageView"]);</script>\n</body></html>\n')


def blog_a(b, c):
    _, _, lang, title, blocks = b
    recent = "".join(f'<li><a href="/p/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(c["teasers"]))
    return (head(title, lang, "Notes from a small kitchen")
            + '<body class="post-template-default single single-post">\n<div id="page" class="site">\n'
            + f'<header id="masthead" class="site-header"><p class="site-title"><a href="/">Notes from a small kitchen</a></p>'
            + f'<nav id="site-navigation" class="main-navigation"><ul id="primary-menu">{nav_links(c, "menu-item")}</ul></nav></header>\n'
            + '<div id="content" class="site-content"><div id="primary" class="content-area"><main id="main" class="site-main">\n'
            + f'<article id="post-118" class="post-118 post type-post status-publish"><header class="entry-header"><h1 class="entry-title">{html.escape(title)}</h1>'
            + f'<div class="entry-meta"><span class="posted-on">March 12, 2024</span> <span class="byline">{html.escape(c["posted"])} Jo</span></div></header>\n'
            + f'<div class="entry-content">{blocks_html(blocks)}</div>\n'
            + '<footer class="entry-footer"><span class="cat-links">Posted in <a href="/c/life">Life</a></span> '
            + '<span class="tags-links">Tagged <a href="/t/a">notes</a>, <a href="/t/b">year</a></span></footer></article>\n'
            + f'<nav class="navigation post-navigation"><div class="nav-previous"><a href="/p/0">{html.escape(c["prev"])}: {html.escape(c["teasers"][0])}</a></div>'
            + f'<div class="nav-next"><a href="/p/1">{html.escape(c["next"])}: {html.escape(c["teasers"][1])}</a></div></nav>\n'
            + f'<div id="comments" class="comments-area"><h2 class="comments-title">{len(c["user_comments"])} {html.escape(c["comments"])}</h2>'
            + f'<ol class="comment-list">{comment_list(c, 0)}</ol><div id="respond"><h3>Leave a Reply</h3><form><textarea></textarea><input type="submit" value="Post Comment"></form></div></div>\n'
            + '</main></div>\n'
            + f'<aside id="secondary" class="widget-area"><section class="widget widget_search"><form><input placeholder="{html.escape(c["search"])}"></form></section>'
            + f'<section class="widget widget_recent_entries"><h2 class="widget-title">{html.escape(c["related"])}</h2><ul>{recent}</ul></section>'
            + '<section class="widget widget_archive"><h2>Archives</h2><ul><li><a href="/2024/03">March 2024</a></li><li><a href="/2024/02">February 2024</a></li><li><a href="/2024/01">January 2024</a></li></ul></section>'
            + f'<section class="widget"><p>{html.escape(c["newsletter"])}</p></section></aside></div>\n'
            + f'<footer id="colophon" class="site-footer"><div class="site-info">{footer_links(c)} · Proudly powered by WordPress</div></footer></div>\n'
            + '<script src="/wp-includes/js/wp-embed.min.js"></script>\n</body></html>\n')


def blog_b(b, c):
    _, _, lang, title, blocks = b
    more = "".join(f'<div class="q7"><a href="/s/{i}"><h3 class="q8">{html.escape(t)}</h3><p class="q9">{html.escape(c["user_comments"][i % len(c["user_comments"])])}</p></a></div>'
                   for i, t in enumerate(c["teasers"][:3]))
    return (head(title, lang, "Medium-ish")
            + '<body><div id="root"><div class="a1 a2">\n'
            + f'<div class="a3"><a href="/">Medium-ish</a><div class="a4"><a href="/signin">Sign in</a> <a href="/get-started">Get started</a></div></div>\n'
            + '<div class="a5"><div class="a6">\n'
            + f'<h1 class="pw-post-title">{html.escape(title)}</h1>\n'
            + '<div class="a7"><img src="/u/jo.png" alt="Jo"><div><a href="/@jo">Jo Marsh</a> · <button>Follow</button></div><div>6 min read · Mar 12, 2024</div></div>\n'
            + '<div class="a8"><button aria-label="clap">👏 1.2K</button><button>💬 18</button><button aria-label="bookmark"></button></div>\n'
            + f'<section><div class="a9">{blocks_html(blocks, "pw-post-body-paragraph")}</div></section>\n'
            + '<div class="a8"><button aria-label="clap">👏 1.2K</button><button>💬 18</button></div>\n'
            + f'<div class="b1"><h2>More from Jo Marsh</h2>{more}</div>\n'
            + f'<div class="b2"><h2>{html.escape(c["comments"])} (18)</h2>{comment_list(c, 1)}</div>\n'
            + f'</div></div><div class="b3">{footer_links(c)}</div></div></div>\n'
            + '<script>window.__APOLLO_STATE__={"ROOT_QUERY":{"viewer":null}};</script>\n</body></html>\n')


def _posts_a(b, c):
    out = []
    for i, (user, blocks) in enumerate(b[4]):
        out.append(f'<tr class="row{i % 2 + 1}"><td class="postprofile" valign="top"><b class="username">{html.escape(user)}</b><br>'
                   f'<span>{html.escape(c["joined"])}: 0{i + 2}.2019</span><br><span>{html.escape(c["posts"])}: {120 * (i + 1) + 7}</span></td>'
                   f'<td class="postbody"><div class="postdate">#{i + 1} · 12.03.2024 {10 + i}:05</div>'
                   f'<div class="content">{blocks_html(blocks)}</div>'
                   f'<div class="signature">-- {html.escape(user)} | {html.escape(c["teasers"][i % 4])}</div></td></tr>')
    return "\n".join(out)


def forum_a(b, c):
    _, _, lang, title, _ = b
    return (head(title, lang, "Community Board")
            + '<body id="phpbb" class="section-viewtopic">\n'
            + f'<div class="headerbar"><h1 class="sitename"><a href="/">Community Board</a></h1><ul class="navlinks">{nav_links(c)}</ul></div>\n'
            + f'<div class="breadcrumbs"><a href="/">Index</a> » <a href="/f/3">{html.escape(c["nav"][2])}</a></div>\n'
            + f'<h2 class="topic-title"><a href="/t/55">{html.escape(title)}</a></h2>\n'
            + '<div class="action-bar"><a class="button" href="/post">Post Reply</a> <span class="pagination">4 posts · Page 1 of 1</span></div>\n'
            + f'<table class="tablebg" width="100%" cellspacing="1">{_posts_a(b, c)}</table>\n'
            + '<div class="action-bar"><a class="button" href="/post">Post Reply</a></div>\n'
            + f'<div class="online"><h3>{html.escape(c["related"])}</h3><ul>' + "".join(f'<li><a href="/t/{i}">{html.escape(t)}</a></li>' for i, t in enumerate(c["teasers"])) + '</ul>'
            + f'<p>{html.escape(c["online"])}</p></div>\n'
            + f'<div class="copyright">Powered by phpBB® Forum Software · {footer_links(c)}</div>\n</body></html>\n')


def forum_b(b, c):
    _, _, lang, title, posts = b
    out = []
    for i, (user, blocks) in enumerate(posts):
        out.append(f'<div class="topic-post" data-post-number="{i + 1}"><article class="boxed onscreen-post">'
                   f'<div class="topic-avatar"><img src="/u/{i}.png" alt="{html.escape(user)}"></div>'
                   f'<div class="topic-body"><div class="topic-meta-data"><span class="names"><a href="/u/{html.escape(user)}">{html.escape(user)}</a></span>'
                   f'<div class="post-infos">{i + 2}d</div></div><div class="regular contents"><div class="cooked">{blocks_html(blocks)}</div>'
                   f'<section class="post-menu-area"><button>♥ {i}</button><button>{html.escape(c["reply"])}</button></section></div></div></article></div>')
    suggested = "".join(f'<tr><td><a href="/t/{i}">{html.escape(t)}</a></td><td>{3 + i}</td><td>{i + 1}d</td></tr>' for i, t in enumerate(c["teasers"]))
    return (head(title, lang, "Discuss")
            + f'<body class="archetype-regular"><header class="d-header"><a href="/">Discuss</a><div class="panel"><a href="/login">Log In</a></div></header>\n'
            + f'<div id="main-outlet"><div id="topic-title"><h1><a href="/t/x">{html.escape(title)}</a></h1>'
            + f'<div class="topic-category"><a href="/c/1">{html.escape(c["nav"][3])}</a></div></div>\n'
            + '<div class="post-stream">' + "\n".join(out) + "</div>\n"
            + f'<div class="more-topics"><h3>{html.escape(c["related"])}</h3><table class="topic-list"><tr><th>Topic</th><th>Replies</th><th>Activity</th></tr>{suggested}</table></div>\n'
            + f'</div><footer class="footer">{footer_links(c)}</footer>\n<noscript>Enable JavaScript to use all features.</noscript></body></html>\n')


def docs_a(b, c):
    _, _, lang, title, blocks = b
    toc = "".join(f'<li class="toc-item"><a href="/docs/{i}">{html.escape(t)}</a></li>'
                  for i, t in enumerate(["Introduction", "Quick start", "Installation", "Configuration", "Authentication", "Projects",
                                         "Files", "Webhooks", "Rate limits", "Errors", "Changelog", "FAQ"]))
    return (head(title, lang, "Docs")
            + f'<body><div class="navbar"><a class="brand" href="/">Docs</a><ul>{nav_links(c)}</ul><input type="search" placeholder="{html.escape(c["search"])}"></div>\n'
            + f'<div class="container"><nav class="sidebar" aria-label="docs"><ul class="toc">{toc}</ul></nav>\n'
            + f'<main class="content"><ol class="breadcrumb"><li><a href="/docs">Docs</a></li><li>{html.escape(title)}</li></ol>\n'
            + f'<article class="markdown"><h1>{html.escape(title)}</h1>\n{blocks_html(blocks)}</article>\n'
            + f'<div class="edit"><a href="https://github.com/example/docs/edit/main/page.md">{html.escape(c["edit"])}</a></div>\n'
            + f'<div class="pager"><a href="/docs/p">← {html.escape(c["prev"])}: Quick start</a> <a href="/docs/n">{html.escape(c["next"])}: Projects →</a></div></main></div>\n'
            + f'<footer>{footer_links(c)} · © 2024 Example Inc.</footer>\n</body></html>\n')


def docs_b(b, c):
    _, _, lang, title, blocks = b
    local = "".join(f'<li><a class="reference internal" href="#s{i}">{html.escape(v)}</a></li>'
                    for i, (k, v) in enumerate(blocks) if k == "h2")
    toctree = "".join(f'<li class="toctree-l1"><a class="reference internal" href="/{i}.html">{html.escape(t)}</a></li>'
                      for i, t in enumerate(c["teasers"] + c["nav"][:5]))
    return (head(title, lang, "Project documentation")
            + '<body class="wy-body-for-nav"><div class="wy-grid-for-nav">\n'
            + f'<nav data-toggle="wy-nav-shift" class="wy-nav-side"><div class="wy-side-scroll"><div class="wy-side-nav-search"><a href="/">Project</a>'
            + f'<form id="rtd-search-form"><input type="text" name="q" placeholder="{html.escape(c["search"])}"></form></div>'
            + f'<div class="wy-menu wy-menu-vertical" role="navigation"><ul>{toctree}</ul></div></div></nav>\n'
            + '<section class="wy-nav-content-wrap"><div class="wy-nav-content"><div class="rst-content">\n'
            + f'<div role="navigation" aria-label="breadcrumbs"><ul class="wy-breadcrumbs"><li><a href="/">Home</a> »</li><li>{html.escape(title)}</li></ul></div>\n'
            + f'<div role="main" class="document"><div class="section"><h1>{html.escape(title)}<a class="headerlink" href="#t">¶</a></h1>\n'
            + (f'<div class="contents local topic"><p class="topic-title">{html.escape(c["onpage"])}</p><ul>{local}</ul></div>\n' if local else "")
            + f'{blocks_html(blocks)}</div></div>\n'
            + f'<footer><div class="rst-footer-buttons"><a href="/p.html" class="btn">{html.escape(c["prev"])}</a> <a href="/n.html" class="btn">{html.escape(c["next"])}</a></div>'
            + f'<hr><p>© Copyright 2024, Project authors. Built with Sphinx.</p></footer>\n</div></div></section></div>\n'
            + '<script>jQuery(function(){SphinxRtdTheme.Navigation.enable(true)});</script></body></html>\n')


def product_a(b, c):
    _, _, lang, title, blocks = b
    reviews = "".join(f'<div class="review"><div class="stars">★★★★☆</div><p>{html.escape(t)}</p><span class="reviewer">Verified buyer</span></div>'
                      for t in c["review_text"])
    also = "".join(f'<li class="product-tile"><a href="/p/{i}"><img src="/i/{i}.jpg" alt="{html.escape(t)}"><span class="name">{html.escape(t)}</span><span class="price">{19 + i},99</span></a></li>'
                   for i, t in enumerate(c["teasers"]))
    return (head(title, lang, "Shop")
            + f'<body class="product-page">{cookie_banner(c, 0)}<header><a href="/" class="logo">Shop</a><form><input placeholder="{html.escape(c["search"])}"></form>'
            + f'<a href="/cart">🛒 0</a><nav><ul>{nav_links(c)}</ul></nav></header>\n'
            + f'<div class="breadcrumbs"><a href="/">Home</a> / <a href="/c/{c["nav"][1]}">{html.escape(c["nav"][1])}</a></div>\n'
            + '<div class="product"><div class="gallery"><img src="/p/1.jpg" alt="front"><img src="/p/2.jpg" alt="side"></div>\n'
            + f'<div class="buy-box"><h1 class="product-title">{html.escape(title)}</h1><div class="rating">★★★★☆ (127)</div>'
            + f'<div class="price">49,99 <small>{html.escape(c["price"])}</small></div><button class="add-to-cart">{html.escape(c["cart"])}</button>'
            + f'<p class="shipping-note">{html.escape(c["shipping"])}</p></div>\n'
            + f'<div class="product-description" id="description">{blocks_html(blocks)}</div></div>\n'
            + f'<section class="reviews"><h2>{html.escape(c["reviews"])}</h2>{reviews}</section>\n'
            + f'<section class="carousel"><h2>{html.escape(c["also"])}</h2><ul>{also}</ul></section>\n'
            + f'<footer><div class="newsletter">{html.escape(c["newsletter"])}</div><div>{footer_links(c)}</div></footer>\n</body></html>\n')


def product_b(b, c):
    _, _, lang, title, blocks = b
    specs = [x for x in blocks if x[0] == "table"]
    desc = [x for x in blocks if x[0] != "table"]
    state = json.dumps({"product": {"sku": "A-1", "name": title, "price": 49.99, "variants": [{"id": i, "stock": 3 * i} for i in range(6)]}})
    return (head(title, lang, "Store")
            + f'<body><div class="hdr"><div class="hdr-top">{html.escape(c["shipping"])}</div><div class="hdr-nav"><ul>{nav_links(c)}</ul></div></div>\n'
            + f'<div class="pdp"><div class="pdp-media"><img src="/m.jpg" alt=""></div><div class="pdp-info"><h1>{html.escape(title)}</h1>'
            + f'<span class="pdp-price">49,99</span><select><option>S</option><option>M</option><option>L</option></select><button>{html.escape(c["cart"])}</button></div>\n'
            + '<div class="tabs"><ul class="tab-nav"><li><a href="#d">Description</a></li><li><a href="#s">Specs</a></li><li><a href="#sh">Shipping</a></li></ul>\n'
            + f'<div class="tab-pane" id="d">{blocks_html(desc)}</div>\n<div class="tab-pane" id="s">{blocks_html(specs)}</div>\n'
            + f'<div class="tab-pane" id="sh"><p>{html.escape(c["shipping"])}</p></div></div></div>\n'
            + f'<div class="recently"><h3>{html.escape(c["related"])}</h3>' + "".join(f'<a href="/r/{i}">{html.escape(t)}</a>' for i, t in enumerate(c["teasers"])) + "</div>\n"
            + f'<div class="ftr">{footer_links(c)} <p>{html.escape(c["rights"])}</p></div>\n'
            + f'<script id="__NEXT_DATA__" type="application/json">{state}</script>\n</body></html>\n')


LAYOUTS = {"news": (news_a, news_b), "blog": (blog_a, blog_b), "forum": (forum_a, forum_b),
           "docs": (docs_a, docs_b), "product": (product_a, product_b)}


def pages() -> dict[str, tuple[str, str]]:
    out = {}
    for body in NEWS + BLOGS + FORUMS + DOCS + PRODUCTS:
        name, kind, lang, title, content = body
        for layout in LAYOUTS[kind]:
            out[f"{layout.__name__}--{name}"] = (layout(body, CHROME[lang]), gold_text(title, kind, content))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    rendered = pages()
    if args.check:
        stale = [k for k, (h, g) in rendered.items()
                 if not (PAGES / f"{k}.html").exists() or (PAGES / f"{k}.html").read_text() != h or (PAGES / f"{k}.txt").read_text() != g]
        sys.exit(1 if stale else 0)
    PAGES.mkdir(exist_ok=True)
    for key, (page, gold) in rendered.items():
        (PAGES / f"{key}.html").write_text(page)
        (PAGES / f"{key}.txt").write_text(gold)
    print(f"{len(rendered)} pages in {PAGES}")


if __name__ == "__main__":
    main()
