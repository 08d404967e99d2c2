"""Build the curation check set: ``pages.jsonl`` (the input `curate` reads: id, url,
fetch_time, html) and ``labels.jsonl`` (id, expected keep/drop, language, kind, expected
reason). Good pages are the hand-written articles of ``good/<lang>.toml`` put inside their
site's chrome (``chrome.toml``: menus, cookie banner, share bar, related links, comments,
footer); junk pages are written here, one function per kind of junk. Deterministic: the
output depends on these files only.

    python tests/data/curation_check/make_pages.py   # rewrites pages.jsonl and labels.jsonl
    python tests/data/curation_check/make_pages.py DIR   # writes them into DIR instead
"""

from __future__ import annotations

import html
import json
import random
import sys
import re
import tomllib
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FETCH_TIME = "2024-05-01T12:00:00Z"


@dataclass(frozen=True)
class Label:
    id: str
    expected: str  # "keep" | "drop"
    language: str
    kind: str  # good: news/blog/forum/docs; junk: spam, keyword_stuffing, ...
    reason: str  # good: "" ; junk: the rule family expected to drop it
    note: str = ""


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html: str


def esc(text: str) -> str:
    return html.escape(text, quote=True)


def _slug(site: str) -> str:
    ascii_part = "".join(c.lower() if c.isascii() and c.isalnum() else "-" for c in site).strip("-")
    return "-".join(filter(None, ascii_part.split("-"))) or f"site{zlib.crc32(site.encode()) % 100_000}"


def chrome_top(c: dict, site: str, lang: str) -> str:
    nav = "".join(f'<li><a href="/{i}">{esc(item)}</a></li>' for i, item in enumerate(c["nav"]))
    return (
        f'<div id="cookie-consent" class="banner"><p>{esc(c["cookie"])}</p>'
        f'<button>{esc(c["accept"])}</button> <button>{esc(c["manage"])}</button></div>'
        f'<header class="site-header"><a class="logo" href="/">{esc(site)}</a>'
        f'<form class="search"><input placeholder="{esc(c["search"])}"></form>'
        f'<a href="/login">{esc(c["login"])}</a><nav><ul>{nav}</ul></nav></header>'
    )


def chrome_bottom(c: dict, site: str) -> str:
    links = "".join(f'<li><a href="/p/{i}">{esc(item)}</a></li>' for i, item in enumerate(c["footer"][:-1]))
    return (
        f'<div class="newsletter"><h3>{esc(c["newsletter"])}</h3><input type="email"><button>OK</button></div>'
        f'<footer><ul>{links}</ul><p>{esc(site)} {esc(c["footer"][-1])}</p></footer>'
        '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}</script>'
    )


def body_html(body: str) -> str:
    parts = []
    for para in body.strip().split("\n\n"):
        if para.startswith("    "):
            code = "\n".join(line[4:] for line in para.split("\n"))
            parts.append(f"<pre><code>{esc(code)}</code></pre>")
        else:
            parts.append(f"<p>{esc(' '.join(para.split()))}</p>")
    return "\n".join(parts)


def news_body(page: dict, kind: str) -> str:
    """A news article as news sites lay it out: a photo whose caption repeats the headline,
    an advertisement slot between paragraphs, and a pull quote that repeats a sentence of
    the body (what makes real articles repeat n-grams)."""
    if kind != "news":
        return body_html(page["body"])
    paras = body_html(page["body"]).split("\n")
    paragraph = page["body"].strip().split("\n\n")[min(2, len(paras) - 1)]
    first_sentence = re.split(r"(?<=[.!?。])\s*", paragraph)[0]
    figure = (f'<figure><img src="/img/{abs(len(page["title"]))}.jpg" alt="{esc(page["title"])}">'
              f'<figcaption>{esc(page["title"])}</figcaption></figure>')
    quote = f'<blockquote class="pullquote">{esc(" ".join(first_sentence.split()))}</blockquote>'
    ad = '<div class="ad-slot"><span>Advertisement</span></div>'
    return figure + "\n".join(paras[:2] + [ad] + paras[2:3] + [quote] + paras[3:4] + [ad] + paras[4:])


def comments_html(c: dict, comments: list[str], rng: random.Random) -> str:
    if not comments:
        return ""
    items = "".join(
        f'<div class="comment"><span class="author">{esc(rng.choice(c["users"]))}</span> '
        f'<time>{rng.randint(1, 23)}h</time><p>{esc(text)}</p><a href="#">{esc(c["reply"])}</a></div>'
        for text in comments
    )
    return f'<section class="comments"><h2>{esc(c["comments"])} ({len(comments)})</h2>{items}</section>'


def article_page(c: dict, lang: str, page: dict, related: list[str], rng: random.Random) -> str:
    site, title, kind = page["site"], page["title"], page["kind"]
    share = " ".join(f'<a href="#">{esc(s)}</a>' for s in c["share"])
    rel = "".join(f'<li><a href="/r/{i}">{esc(t)}</a></li>' for i, t in enumerate(related))
    date = f"2024-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
    if kind == "forum":
        posts = page["body"].split("\n---\n")
        main = "".join(
            f'<div class="post"><div class="post-meta"><a href="/u/{j}">{esc(rng.choice(c["users"]))}</a> '
            f'{esc(c["posted"])} {date} #{j + 1}</div><div class="post-body">{body_html(post)}</div>'
            f'<div class="post-actions"><a href="#">{esc(c["reply"])}</a> <a href="#">{esc(c["quote"])}</a></div></div>'
            for j, post in enumerate(posts)
        )
        main = f'<main><h1>{esc(title)}</h1><div class="thread">{main}</div></main>'
    elif kind == "docs":
        toc = "".join(f'<li><a href="/docs/{i}">{esc(t)}</a></li>' for i, t in enumerate(related))
        main = (
            f'<div class="docs"><aside class="sidebar"><ul>{toc}</ul></aside><main><article>'
            f'<h1>{esc(title)}</h1>{body_html(page["body"])}</article>'
            f'<a href="#">{esc(c["edit"])}</a><nav class="pager"><a href="#">{esc(c["prev"])}</a> '
            f'<a href="#">{esc(c["next"])}</a></nav></main></div>'
        )
    else:
        author = rng.choice(c["authors"])
        main = (
            f'<main><article><h1>{esc(title)}</h1><p class="byline">{esc(c["by"])} {esc(author)} · {date}</p>'
            f'<div class="share">{share}</div>{news_body(page, kind)}</article>'
            f'<aside class="related"><h2>{esc(c["related"])}</h2><ul>{rel}</ul></aside>'
            f'{comments_html(c, page.get("comments", []), rng)}</main>'
        )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{esc(title)} | {esc(site)}</title>'
        f'<meta name="viewport" content="width=device-width"><link rel="stylesheet" href="/s.css"></head><body>'
        f'{chrome_top(c, site, lang)}{main}{chrome_bottom(c, site)}</body></html>'
    )


def good_pages() -> list[tuple[Page, Label]]:
    chrome = tomllib.loads((HERE / "chrome.toml").read_text(encoding="utf-8"))
    out = []
    for path in sorted((HERE / "good").glob("*.toml")):
        lang = path.stem
        pages = tomllib.loads(path.read_text(encoding="utf-8"))["page"]
        rng = random.Random(f"good-{lang}")
        for i, page in enumerate(pages):
            related = [p["title"] for p in pages if p is not page][:4]
            doc_id = f"good-{lang}-{i:02d}-{page['kind']}"
            url = f"https://{_slug(page['site'])}.example.{lang}/{page['kind']}/{i}"
            out.append((Page(doc_id, url, article_page(chrome[lang], lang, page, related, rng)),
                        Label(doc_id, "keep", lang, page["kind"], "", page.get("note", ""))))
    return out


# -- junk --------------------------------------------------------------------------------

def _junk_page(lang: str, title: str, inner: str, chrome: dict | None = None) -> str:
    top = chrome_top(chrome, title, lang) if chrome else ""
    bottom = chrome_bottom(chrome, title) if chrome else ""
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{esc(title)}</title></head>'
            f'<body>{top}<main>{inner}</main>{bottom}</body></html>')


def spam(i: int, rng: random.Random) -> tuple[str, str, str]:
    offers = [
        ("en", "CHEAP MEDS ONLINE", ["Buy cheap pills online without prescription!!!", "Lowest prices guaranteed, fast worldwide shipping.",
                                     "Order now and get 50% OFF + FREE bonus pills!!!", "No prescription needed, 100% discreet packaging.",
                                     "Best online pharmacy, trusted by millions, order today!!!"]),
        ("en", "Make $5000 a week from home", ["Make $5000 a week working from home!!!", "No experience needed. Click here to start earning NOW!!!",
                                               "Limited spots available, sign up today!!!", "My secret system made me rich in 30 days!!!",
                                               "Don't miss out, click the link below!!!"]),
        ("ru", "Казино онлайн бонус", ["Лучшее онлайн казино с бонусом 200% на первый депозит!!!", "Играй прямо сейчас и выигрывай!!!",
                                        "Быстрый вывод денег, без верификации!!!", "Жми на ссылку и получи бонус!!!",
                                        "Казино онлайн, слоты, рулетка, покер, ставки!!!"]),
        ("id", "Situs judi online terpercaya", ["Situs judi slot online terpercaya gacor hari ini!!!", "Daftar sekarang dapat bonus deposit 100%!!!",
                                                "Slot gacor maxwin, bocoran rtp slot live!!!", "Link alternatif judi slot online resmi!!!",
                                                "Deposit pulsa tanpa potongan, wd cepat!!!"]),
        ("de", "Kredit ohne Schufa sofort", ["Kredit ohne Schufa sofort aufs Konto!!!", "Jetzt beantragen und in 24 Stunden Geld erhalten!!!",
                                             "Keine Fragen, keine Auskunft, 100% Zusage!!!", "Hier klicken und Sofortkredit sichern!!!",
                                             "Nur heute: Zinsen ab 0,0%!!!"]),
    ]
    lang, title, lines = offers[i % len(offers)]
    items = [rng.choice(lines) for _ in range(40)]
    inner = f"<h1>{esc(title)}</h1>" + "".join(f'<p><a href="https://spam{i}.example/{k}">{esc(t)}</a></p>' for k, t in enumerate(items))
    return lang, title, inner


def keyword_stuffing(i: int, rng: random.Random) -> tuple[str, str, str]:
    topics = [
        ("en", ["cheap flights", "cheap flights to paris", "best cheap flights", "cheap airline tickets", "flights cheap"]),
        ("en", ["best vpn", "best vpn 2024", "vpn free", "best free vpn", "vpn download best"]),
        ("de", ["günstige Handyverträge", "Handyvertrag günstig", "beste Handyverträge", "Handytarif günstig", "günstig Handyvertrag online"]),
        ("pt", ["emagrecer rápido", "como emagrecer rápido", "dieta para emagrecer", "emagrecer em 7 dias", "chá para emagrecer"]),
        ("en", ["plumber near me", "emergency plumber near me", "best plumber near me", "cheap plumber", "plumber near me open now"]),
    ]
    lang, keys = topics[i % len(topics)]
    paras = []
    for _ in range(6):
        words = [rng.choice(keys) for _ in range(18)]
        paras.append(f"<p>{esc(' '.join(words))}. {esc(keys[0])} {esc(keys[1])} {esc(keys[2])}.</p>")
    return lang, keys[0], f"<h1>{esc(keys[0].title())}</h1>" + "".join(paras)


def link_farm(i: int, rng: random.Random) -> tuple[str, str, str]:
    anchors = ["best online casino", "payday loans", "cheap viagra", "replica watches", "buy followers",
               "seo services", "essay writing service", "forex signals", "crypto bonus", "weight loss pills",
               "car insurance quotes", "web hosting deals", "dating site", "free movies online", "bitcoin casino"]
    lis = "".join(
        f'<li><a href="https://{rng.choice(anchors).replace(" ", "-")}-{k}.example/">{esc(rng.choice(anchors).title())} {k}</a></li>'
        for k in range(60)
    )
    title = f"Useful Links Directory {i + 1}"
    return "en", title, f"<h1>{esc(title)}</h1><ul>{lis}</ul>"


def repeated_text(i: int, rng: random.Random) -> tuple[str, str, str]:
    sentences = [
        ("en", "Click here to read the full article about this amazing product that everyone is talking about today."),
        ("ja", "この商品は今とても人気があります。今すぐ購入してください。送料無料でお届けします。"),
        ("en", "Welcome to our website. We offer the best services at the best prices in the whole country."),
        ("ko", "지금 바로 가입하고 특별한 혜택을 받으세요. 오늘만 진행되는 이벤트입니다."),
        ("fr", "Découvrez notre offre exceptionnelle, valable seulement aujourd'hui, sur tous nos produits."),
    ]
    lang, sentence = sentences[i % len(sentences)]
    inner = "".join(f"<p>{esc(sentence)}</p>" for _ in range(25))
    return lang, f"Special offer {i}", f"<h1>Special offer</h1>{inner}"


def adult_spam(i: int, rng: random.Random) -> tuple[str, str, str]:
    words = ["hot", "xxx", "porn", "sex", "nude", "milf", "horny", "pussy", "cumshot", "hardcore", "live cams",
             "free porn videos", "teen", "webcam", "girls", "naked", "videos", "online", "hd", "best"]
    paras = []
    for _ in range(8):
        paras.append("<p>" + esc(" ".join(rng.choice(words) for _ in range(20)) + ".") + "</p>")
    title = f"Free XXX Porn Videos {i}"
    return "en", title, f"<h1>{esc(title)}</h1>" + "".join(paras)


LOREM = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et "
         "dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex "
         "ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse cillum dolore eu fugiat "
         "nulla pariatur. Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit "
         "anim id est laborum. Curabitur pretium tincidunt lacus. Nulla gravida orci a odio. Nullam varius, turpis et "
         "commodo pharetra, est eros bibendum elit, nec luctus magna felis sollicitudin mauris. Integer in mauris eu "
         "nibh euismod gravida. Duis ac tellus et risus vulputate vehicula. Donec lobortis risus a elit. Etiam tempor.")


def lorem_ipsum(i: int, rng: random.Random) -> tuple[str, str, str]:
    """Placeholder text as lipsum generators make it: the classic opening, then sentences of
    words drawn from the Latin vocabulary (so no n-gram repeats)."""
    vocabulary = sorted({w.strip(".,").lower() for w in LOREM.split()})
    paras = [LOREM.split(". ")[0] + "."]
    for _ in range(5):
        sentences = []
        for _ in range(rng.randint(4, 7)):
            words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 14))]
            sentences.append(" ".join(words).capitalize() + ".")
        paras.append(" ".join(sentences))
    title = ["Our Services", "About Our Company", "New Product", "Blog Post Title", "Sample Page"][i % 5]
    return "en", title, f"<h1>{title}</h1>" + "".join(f"<p>{esc(p)}</p>" for p in paras)


ERRORS = [
    ("en", "404 Not Found", "<h1>404 Not Found</h1><p>The page you requested could not be found. It may have been moved or deleted.</p><p><a href='/'>Return to the homepage</a></p>"),
    ("en", "Service Unavailable", "<h1>503 Service Unavailable</h1><p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>"),
    ("de", "Seite nicht gefunden", "<h1>Fehler 404</h1><p>Die angeforderte Seite wurde leider nicht gefunden.</p><p><a href='/'>Zur Startseite</a></p>"),
    ("ja", "ページが見つかりません", "<h1>404 ページが見つかりません</h1><p>お探しのページは削除されたか、URLが変更された可能性があります。</p>"),
    ("en", "Access denied", "<h1>403 Forbidden</h1><p>You don't have permission to access this resource.</p><hr><address>Apache/2.4.41 Server at example.com Port 443</address>"),
]

JUNK_KINDS = {
    "spam": ("gopher_repetition", spam),
    "keyword_stuffing": ("gopher_repetition", keyword_stuffing),
    "link_farm": ("gopher_quality", link_farm),
    "boilerplate_only": ("length", None),
    "repeated_text": ("gopher_repetition", repeated_text),
    "adult_spam": ("adult_keywords", adult_spam),
    "lorem_ipsum": ("placeholder_text", lorem_ipsum),
    "error_page": ("length", None),
}


def junk_pages() -> list[tuple[Page, Label]]:
    chrome = tomllib.loads((HERE / "chrome.toml").read_text(encoding="utf-8"))
    out = []
    for kind, (reason, make) in JUNK_KINDS.items():
        rng = random.Random(f"junk-{kind}")
        for i in range(5):
            if kind == "boilerplate_only":
                lang = ["en", "de", "fr", "ko", "pt"][i]
                site = f"Portal {i}"
                page_html = _junk_page(lang, site, "", chrome[lang])
            elif kind == "error_page":
                lang, title, inner = ERRORS[i]
                page_html = _junk_page(lang, title, inner, chrome[lang])
            else:
                lang, title, inner = make(i, rng)
                page_html = _junk_page(lang, title, inner)
            doc_id = f"junk-{kind}-{i}"
            url = f"https://junk-{kind.replace('_', '-')}-{i}.example.net/page"
            out.append((Page(doc_id, url, page_html), Label(doc_id, "drop", lang, kind, reason)))
    return out


def build(out: Path) -> tuple[int, int]:
    """Write ``pages.jsonl`` and ``labels.jsonl`` into ``out``; returns (good, junk) counts."""
    pairs = good_pages() + junk_pages()
    with open(out / "pages.jsonl", "w", encoding="utf-8") as pages, open(out / "labels.jsonl", "w", encoding="utf-8") as labels:
        for page, label in pairs:
            pages.write(json.dumps({"id": page.id, "url": page.url, "fetch_time": FETCH_TIME, "html": page.html},
                                   ensure_ascii=False) + "\n")
            labels.write(json.dumps(asdict(label), ensure_ascii=False) + "\n")
    return sum(l.expected == "keep" for _, l in pairs), sum(l.expected == "drop" for _, l in pairs)


def main() -> None:
    good, junk = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
    print(f"{good} good, {junk} junk pages")


if __name__ == "__main__":
    main()
