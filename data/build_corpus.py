#!/usr/bin/env python3
"""Build herd's built-in raw corpus ``data/corpus/`` from real text found on this machine.

Nothing is downloaded. The text comes from files a Debian/Python installation ships (see
data/README.md for provenance and licences): manual pages (English and translated),
/usr/share/doc HTML pages and copyright files, Python standard-library source and
docstrings, math-heavy docstrings of sympy/scipy/numpy, and translated message catalogs
(/usr/share/locale/*/LC_MESSAGES/*.mo). The builder then injects, with a fixed seed,
what every curation step must find: near-duplicates made by controlled edits, exact
copies, repeated boilerplate lines, junk, PII, blocked-domain pages, several fetches of
one URL and a few broken records.

    python data/build_corpus.py            # writes data/corpus/ and prints the counts

Output (formats chosen so that every source is exercised):
    web.warc.gz               HTML pages (real /usr/share/doc pages + templated pages)
    text.jsonl.gz             English prose: man pages, docstrings, copyright files
    math.jsonl.gz             math docstrings (LaTeX, reST math)
    code.parquet              Python and C source files
    multilingual.jsonl.zst    de, fr, es, ru, zh, ja: translated man pages and catalogs
    injected.jsonl.gz         near-duplicates, exact copies, junk, PII, adult spam
    broken.jsonl              malformed lines (bad JSON, invalid UTF-8, missing id, empty)
"""

from __future__ import annotations

import gettext
import gzip
import hashlib
import html
import importlib
import inspect
import io
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
from collections import Counter
from pathlib import Path

SEED = 20240723  # the Llama 3.1 report's release date
OUT = Path(__file__).resolve().parent / "corpus"
MAX_CHARS = 12_000  # per document: keeps the corpus a few MB
LANGS = {"de": "de", "fr": "fr", "es": "es", "ru": "ru", "zh_CN": "zh", "ja": "ja"}
STDLIB = Path(sysconfig.get_paths()["stdlib"])


def clip(text: str, limit: int = MAX_CHARS) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[: cut if cut > limit // 2 else limit].strip()


def doc_id(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:16]


# --- real text -----------------------------------------------------------------------


def render_man(path: Path) -> str:
    env = {**os.environ, "MANWIDTH": "80", "LANG": "C.UTF-8"}
    try:
        out = subprocess.run(["man", "-l", "-E", "UTF-8", str(path)], capture_output=True, env=env, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    text = out.decode("utf-8", "replace")
    return re.sub(r".\x08", "", text)  # overstrike bold/underline


def man_pages(directory: Path, limit: int, rng: random.Random) -> list[tuple[str, str]]:
    if not directory.is_dir():
        return []
    files = sorted(p for p in directory.iterdir() if p.name.endswith(".gz"))
    rng.shuffle(files)
    pages = []
    for path in files:
        text = render_man(path)
        if len(text.split()) >= 80:
            pages.append((path.name.removesuffix(".gz"), clip(text)))
        if len(pages) >= limit:
            break
    return pages


def stdlib_docstrings(limit: int) -> list[tuple[str, str]]:
    names = sorted(p.stem for p in STDLIB.glob("*.py") if not p.stem.startswith("_"))
    docs = []
    for name in names:
        if name in ("antigravity", "this", "idlelib", "tkinter", "turtle"):
            continue
        try:
            module = importlib.import_module(name)
        except Exception:
            continue
        parts = [inspect.getdoc(module) or ""]
        for attr, value in sorted(vars(module).items()):
            if attr.startswith("_") or getattr(value, "__module__", None) != name:
                continue
            doc = inspect.getdoc(value)
            if doc and len(doc) > 200:
                parts.append(f"{attr}\n\n{doc}")
        text = "\n\n".join(p for p in parts if p)
        if len(text.split()) >= 100:
            docs.append((name, clip(text)))
        if len(docs) >= limit:
            break
    return docs


def copyright_files(limit: int, rng: random.Random) -> list[tuple[str, str]]:
    files = sorted(Path("/usr/share/doc").glob("*/copyright"))
    rng.shuffle(files)
    out = []
    for path in files[:limit]:
        text = path.read_text("utf-8", "replace")
        if len(text.split()) >= 50:
            out.append((path.parent.name, clip(text)))
    return out


MATH_MARK = re.compile(r"\.\. math::|:math:`|\$[^$\n]+\$|\\frac|\\sum|\\int")


def math_docstrings(limit: int, per_module: int = 20) -> list[tuple[str, str]]:
    out = []
    for module_name in ("scipy.special", "scipy.stats", "scipy.linalg", "scipy.integrate", "scipy.signal",
                        "numpy.linalg", "numpy.fft", "numpy.polynomial.polynomial", "numpy.random",
                        "sympy.functions.special.gamma_functions", "sympy.integrals.integrals",
                        "sympy.series.series", "sympy.functions.combinatorial.numbers"):
        try:
            module = importlib.import_module(module_name)
        except Exception:
            continue
        taken = 0
        for attr in sorted(dir(module)):
            if attr.startswith("_") or taken >= per_module:
                continue
            try:
                doc = inspect.getdoc(getattr(module, attr))
            except Exception:
                continue
            if doc and len(doc) > 400 and MATH_MARK.search(doc):
                out.append((f"{module_name}.{attr}", clip(doc, 8000)))
                taken += 1
            if len(out) >= limit:
                return out
    return out


def code_files(rng: random.Random) -> list[tuple[str, str, str]]:
    py = sorted(p for p in STDLIB.glob("*.py") if p.stat().st_size > 2000)
    rng.shuffle(py)
    out = [(f"python/{p.name}", clip(p.read_text("utf-8", "replace"), 10_000), "python") for p in py[:140]]
    headers = sorted(p for p in Path("/usr/include").glob("*.h") if p.stat().st_size > 2000)
    rng.shuffle(headers)
    out += [(f"c/{p.name}", clip(p.read_text("utf-8", "replace"), 8000), "c") for p in headers[:40]]
    return out


def catalogs(lang: str, limit: int) -> list[tuple[str, str]]:
    """Translated messages of one language, one document per catalog (long sentences only)."""
    root = Path("/usr/share/locale") / lang / "LC_MESSAGES"
    out = []
    for path in sorted(root.glob("*.mo")) if root.is_dir() else []:
        try:
            with open(path, "rb") as handle:
                catalog = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - the parsed messages
        except Exception:
            continue
        lines = []
        for value in catalog.values():
            text = value if isinstance(value, str) else ""
            text = re.sub(r"%[-+ #0-9.]*[a-zA-Z]|\{[^}]*\}", "", text).strip()
            if len(text) >= 40 and " " in text:
                lines.append(text)
        if len(lines) >= 8:
            out.append((path.stem, clip("\n".join(sorted(set(lines))), 8000)))
        if len(out) >= limit:
            break
    return out


def doc_html_pages(limit: int) -> list[tuple[str, str]]:
    files = sorted(p for p in Path("/usr/share/doc").rglob("*.html") if p.is_file())
    out = []
    for path in files:
        if 3000 < path.stat().st_size < 60_000:
            out.append((str(path.relative_to("/usr/share/doc")), path.read_text("utf-8", "replace")))
        if len(out) >= limit:
            break
    return out


# --- injected content ----------------------------------------------------------------

NAV = ["Home", "Docs", "Blog", "Download", "Community", "About us"]
COOKIE = "We use cookies to improve your experience. By continuing you accept our cookie policy."
FOOTER = "Copyright 2024 Herd Example Docs. All rights reserved. Privacy | Terms | Contact"


def templated_page(title: str, body: str, updated: str) -> str:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    blocks = []
    for p in paragraphs[:40]:
        if p.startswith("    ") or ">>>" in p or p.count("\n") > 3 and re.search(r"[{};=]\s*$", p, re.M):
            blocks.append(f"<pre><code>{html.escape(p)}</code></pre>")
        else:
            blocks.append(f"<p>{html.escape(' '.join(p.split()))}</p>")
    nav = "".join(f'<li><a href="/{n.lower().replace(" ", "-")}">{n}</a></li>' for n in NAV)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>"
        f"<div class='cookie-banner'>{COOKIE}</div><nav><ul>{nav}</ul></nav>"
        f"<main><article><h1>{html.escape(title)}</h1>{''.join(blocks)}</article></main>"
        f"<aside>Related pages: Getting started | Installation | FAQ</aside>"
        f"<footer><p>Last updated {updated}.</p><p>{FOOTER}</p></footer></body></html>"
    )


def edit_words(text: str, rng: random.Random, rate: float) -> str:
    """Controlled edit: replace, delete or duplicate about ``rate`` of the words."""
    words = text.split(" ")
    out = []
    for word in words:
        roll = rng.random()
        if roll < rate / 3:
            continue
        if roll < 2 * rate / 3:
            out.append(word[::-1] if len(word) > 3 else word)
            continue
        out.append(word)
        if roll < rate:
            out.append(word)
    return " ".join(out)


def luhn_number(rng: random.Random, prefix: str = "4") -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(15 - len(prefix))]
    total = 0
    for i, d in enumerate(reversed(digits)):
        total += (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
    digits.append((10 - total % 10) % 10)
    number = "".join(map(str, digits))
    return " ".join(number[i : i + 4] for i in range(0, 16, 4))


def junk_docs(rng: random.Random) -> list[dict]:
    docs = []
    spam = "BUY CHEAP PILLS NOW!!! Best prices guaranteed, click here, limited offer, act now! "
    for i in range(8):
        docs.append({"id": f"junk-spam-{i}", "text": spam * rng.randint(10, 30), "source": "web", "metadata": {"injected": "spam"}})
    for i in range(8):
        line = f"ERROR 2024-03-0{i % 9 + 1} worker-{i} connection refused; retrying in 5 seconds"
        docs.append({"id": f"junk-log-{i}", "text": "\n".join([line] * rng.randint(40, 80)), "metadata": {"injected": "repeated_lines"}})
    for i in range(6):
        symbols = "".join(rng.choice("#$%&*@!^~|<>{}[]=+") for _ in range(rng.randint(400, 900)))
        docs.append({"id": f"junk-symbols-{i}", "text": " ".join(symbols[j : j + 7] for j in range(0, len(symbols), 7)), "metadata": {"injected": "symbols"}})
    for i, short in enumerate(["Home", "Click here", "Page 2 of 9", "Loading...", "ok", "404 Not Found", "Subscribe", "Next"]):
        docs.append({"id": f"junk-short-{i}", "text": short, "metadata": {"injected": "very_short"}})
    ngram = "the best the best the best deal deal deal of the year of the year "
    for i in range(5):
        docs.append({"id": f"junk-ngram-{i}", "text": ngram * rng.randint(15, 30), "metadata": {"injected": "repeated_ngrams"}})
    adult = ("Watch free live sex cams and hardcore sex videos, xxx hot milf and hentai, "
             "nude girls pics, escort service near you. ")
    for i in range(5):
        docs.append({"id": f"junk-adult-{i}", "text": adult * rng.randint(3, 8), "url": f"https://tube{i}.example/v/{i}", "metadata": {"injected": "adult_keywords"}})
    return docs


SWEARS = ["fuck", "bastard", "bitch", "asshole", "bollocks", "bloody", "shit", "damn", "fucking", "crap"]


def profane_docs(prose: list[tuple[str, str]], rng: random.Random) -> list[dict]:
    """Real prose with a swear word after about every 25th word: caught by the dirty-word
    ratio, not by the adult keyword rules."""
    docs = []
    for i, (name, text) in enumerate(prose):
        words = text.split()[:400]
        out = []
        for k, word in enumerate(words):
            out.append(word)
            if k % 25 == 24:
                out.append(rng.choice(SWEARS))
        docs.append({"id": f"profane-{i}", "text": " ".join(out), "metadata": {"injected": "dirty_words", "from": name}})
    return docs


def pii_docs(prose: list[tuple[str, str]], rng: random.Random) -> list[dict]:
    docs = []
    for i, (name, text) in enumerate(prose[:20]):
        paragraphs = text.split("\n\n")
        contact = (
            f"Contact the maintainer at jane.doe{i}@example.org or call +1 (555) 01{i:02d}-{rng.randint(1000, 9999)}. "
            f"Payments: card {luhn_number(rng)} exp 0{i % 9 + 1}/29. Server: 192.0.2.{i + 10}."
        )
        paragraphs.insert(min(2, len(paragraphs)), contact)
        docs.append({"id": f"pii-{i}", "text": "\n\n".join(paragraphs), "source": "web", "metadata": {"injected": "pii", "from": name}})
    return docs


def write_warc(path: Path, pages: list[tuple[str, str, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, date, page in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(page.encode("utf-8")), http_headers=http,
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{doc_id(url, date)}>"},
            )
            writer.write_record(record)


def write_jsonl(path: Path, records: list[dict]) -> None:
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data, mtime=0))
    elif path.name.endswith(".zst"):
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor(level=10).compress(data))
    else:
        path.write_bytes(data)


def main() -> int:
    rng = random.Random(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    counts: Counter[str] = Counter()

    # English prose
    man_en = man_pages(Path("/usr/share/man/man1"), 140, rng)
    docstrings = stdlib_docstrings(110)
    copyrights = copyright_files(120, rng)
    text = [{"id": f"man-en-{n}", "text": t, "source": "manpages", "language": "en"} for n, t in man_en]
    text += [{"id": f"pydoc-{n}", "text": t, "source": "python-docs", "language": "en"} for n, t in docstrings]
    text += [{"id": f"copyright-{n}", "text": t, "source": "debian-copyright", "language": "en"} for n, t in copyrights]
    counts.update({"text.man_en": len(man_en), "text.docstrings": len(docstrings), "text.copyright": len(copyrights)})

    # math
    math_docs = [{"id": f"math-{n}", "text": t, "source": "scientific-docs", "language": "en", "metadata": {"topic": "math"}}
                 for n, t in math_docstrings(150)]
    counts["math"] = len(math_docs)

    # code
    code = [{"id": f"code-{n}", "text": t, "source": "source-code", "metadata": {"language": lang}}
            for n, t, lang in code_files(rng)]
    counts["code"] = len(code)

    # multilingual
    multi = []
    for locale, lang in LANGS.items():
        pages = man_pages(Path("/usr/share/man") / locale / "man1", 25, rng)
        cats = catalogs(locale, 20)
        multi += [{"id": f"man-{lang}-{n}", "text": t, "source": "manpages", "language": lang} for n, t in pages]
        multi += [{"id": f"po-{lang}-{n}", "text": t, "source": "translations", "language": lang} for n, t in cats]
        counts[f"multilingual.{lang}"] = len(pages) + len(cats)

    # web pages: real HTML documentation + prose wrapped in a site template
    pages: list[tuple[str, str, str]] = []
    for rel, page in doc_html_pages(90):
        pages.append((f"https://docs.debian-example.test/{rel}", "2024-02-01T00:00:00Z", page))
    counts["web.real_html"] = len(pages)
    templated = rng.sample(docstrings + man_en, 120)
    for i, (name, body) in enumerate(templated):
        url = f"https://www.herd-docs.test/{name}.html"
        pages.append((url, "2024-03-01T00:00:00Z", templated_page(name, body, "March 2024")))
        if i < 25:  # re-crawled: a later fetch of the same URL with a small update
            newer = edit_words(body, rng, 0.02)
            pages.append((url.replace("https://www.", "http://"), "2024-06-15T00:00:00Z", templated_page(name, newer, "June 2024")))
            counts["web.refetched_urls"] += 1
    for i, (name, body) in enumerate(rng.sample(docstrings, 6)):
        domain = "adult-example.test" if i % 2 else "malware-example.test"
        pages.append((f"https://www.{domain}/p/{name}", "2024-03-01T00:00:00Z", templated_page(name, body, "2024")))
        counts["web.blocked_domain"] += 1
    counts["web.templated"] = len(templated)

    # injected: near-duplicates, exact copies, junk, PII
    injected = []
    prose = [(d["id"], d["text"]) for d in text if len(d["text"]) > 1500]
    for k, (orig, body) in enumerate(rng.sample(prose, 60)):
        rate = (0.01, 0.03, 0.06)[k % 3]
        injected.append({"id": f"near-{orig}", "text": edit_words(body, rng, rate),
                         "metadata": {"injected": "near_duplicate", "of": orig, "edit_rate": rate}})
    for orig, body in rng.sample(prose, 30):
        injected.append({"id": f"copy-{orig}", "text": body, "metadata": {"injected": "exact_duplicate", "of": orig}})
    injected += junk_docs(rng)
    injected += pii_docs(rng.sample(prose, 20), rng)
    injected += profane_docs(rng.sample(prose, 6), rng)
    counts.update(Counter(d["metadata"]["injected"] for d in injected))

    broken = [
        json.dumps({"id": "ok-1", "text": "A well-formed record between broken ones, kept by the reader."}).encode(),
        b'{"id": "bad-json", "text": "unterminated',
        b'{"id": "bad-utf8", "text": "caf\xe9 au lait"}',
        json.dumps({"text": "this record has no id"}).encode(),
        json.dumps({"id": "empty", "text": ""}).encode(),
        json.dumps({"id": "ok-2", "text": "Another well-formed record at the end of the broken file."}).encode(),
    ]

    rng.shuffle(text)
    write_jsonl(OUT / "text.jsonl.gz", text)
    write_jsonl(OUT / "math.jsonl.gz", math_docs)
    write_jsonl(OUT / "multilingual.jsonl.zst", multi)
    write_jsonl(OUT / "injected.jsonl.gz", injected)
    (OUT / "broken.jsonl").write_bytes(b"\n".join(broken) + b"\n")
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(code), OUT / "code.parquet", compression="zstd")
    write_warc(OUT / "web.warc.gz", pages)

    counts["records.total"] = len(text) + len(math_docs) + len(code) + len(multi) + len(pages) + len(injected) + len(broken)
    sizes = {p.name: p.stat().st_size for p in sorted(OUT.iterdir())}
    summary = {"counts": dict(sorted(counts.items())), "bytes": sizes, "total_bytes": sum(sizes.values())}
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
