"""herd's fast main-text extractor: boilerplate pruned on resiliparse's DOM by CSS selectors (run
in C by lexbor), the rest turned into text lines by resiliparse, then the lines scored in one
linear pass (docs/recipe.md section 1, "Text extraction": boilerplate removal with good content
recall). Measured against hand-written gold text in docs/benchmarks/extraction.md.

Why this shape: a Python walk over the DOM costs several microseconds per node (a news page has
thousands), so every per-element decision that CSS can express is made by a selector, and the
decisions that need text statistics are made per output line (tens per page):

1. ``_SKIP``: elements that are boilerplate by their tag (``nav``, ``aside``, ``footer``, forms,
   buttons, figures) or by a class/id hint (comments, sidebars, cookie banners, share bars,
   related teasers, user panels and signatures of forums, breadcrumbs, reviews...). Hints are
   matched as substrings of class and id, except the short ones (``nav``, ``menu``, ``meta``,
   ``tags``, ``ad``), matched as whole class tokens so that ``wy-nav-content`` is kept.
2. Anchor text is wrapped in two private-use characters before parsing, so each output line
   knows how much of it is link text (its link density) without touching the DOM again.
3. Line scores: a line of prose counts for its length, a link-dense line against it; the main
   text is the contiguous run of lines with the highest total (a maximum-sum segment), which
   drops the teasers, menus and comment lists before and after the article.
4. The page's ``<h1>`` is the title: kept at the top when the segment does not start with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

_LINK_OPEN, _LINK_CLOSE = "\ue000", "\ue001"
_A_OPEN = re.compile(r"(<a\b[^>]*>)", re.IGNORECASE)
_A_CLOSE = re.compile(r"(</a\s*>)", re.IGNORECASE)

_TAGS = ("nav", "aside", "footer", "header", "form", "button", "select", "figure", "iframe", "noscript",
         "svg", "template", "dialog", "menu", "time")
_SUBSTRING_HINTS = (
    "comment", "sidebar", "widget", "related", "share", "social", "cookie", "consent", "cmp-", "newsletter",
    "subscribe", "breadcrumb", "pagination", "pager", "signature", "postprofile", "avatar", "byline",
    "carousel", "recommend", "advert", "ad-slot", "promo", "footer", "review", "rating", "login",
    "navbar", "toctree", "headerlink", "more-topics", "suggested", "post-menu", "action-bar", "entry-meta",
    "meta-data", "kicker", "cart", "shipping", "skip-link", "masthead", "banner", "popup", "modal",
)
_TOKEN_HINTS = ("nav", "menu", "meta", "tags", "ad", "ads", "toc", "share", "edit", "price", "copyright")
# One regex pass over the raw HTML marks hinted elements with an attribute, so lexbor runs one
# attribute selector instead of a hundred substring selectors (10x cheaper on a news page).
_MARK = " data-herd-boilerplate"
_HINT = re.compile("|".join([re.escape(h) for h in _SUBSTRING_HINTS]
                            + [rf"(?<![\w-]){re.escape(h)}(?![\w-])" for h in _TOKEN_HINTS]), re.IGNORECASE)
# class/id attribute values; the regex stops at the quote, so one C pass finds them all
_CLASS_OR_ID = re.compile(r"""\s(?:class|id)\s*=\s*(?:"([^"<>]*)"|'([^'<>]*)')""", re.IGNORECASE)
_SKIP = list(
    _TAGS
    + ("[data-herd-boilerplate]:not(html):not(body):not(main):not(article)", "[hidden]", "[aria-hidden='true']",
       "[role='navigation']", "[role='dialog']", "[role='banner']", "[role='contentinfo']", "[role='complementary']")
)

_WORDISH = re.compile(r"[^\W\d_]{2,}")
_SENTENCE_END = re.compile(r"[.!?。！？:;»”\"')]\s*$")


def _line_stats(text: str) -> list[tuple[str, float]]:
    """(line without link markers, link density) per line; a link may span lines."""
    out: list[tuple[str, float]] = []
    inside = False
    for line in text.split("\n"):
        plain = []
        link_chars = total = 0
        pos = 0
        while True:
            nxt = line.find(_LINK_CLOSE if inside else _LINK_OPEN, pos)
            piece = line[pos:] if nxt < 0 else line[pos:nxt]
            plain.append(piece)
            size = len(piece.strip())
            total += size
            if inside:
                link_chars += size
            if nxt < 0:
                break
            inside = not inside
            pos = nxt + 1
        clean = "".join(plain).replace(_LINK_OPEN, "").replace(_LINK_CLOSE, "")
        out.append((clean, link_chars / total if total else 0.0))
    return out


def _score(line: str, link_density: float) -> float:
    """Positive for prose, negative for link lists and short fragments."""
    stripped = line.strip()
    size = len(stripped)
    if not size:
        return 0.0
    if link_density > 0.5:
        return -2.0 * size
    words = len(_WORDISH.findall(stripped))
    if words == 0:
        return -float(size)  # dates, counters, symbols
    if size >= 80 or (size >= 30 and _SENTENCE_END.search(stripped)):
        return size * (1.0 - link_density)
    return -0.25 * size  # headings, list items, table rows: kept when prose surrounds them


def _is_structure(line: str, link_density: float) -> bool:
    """A list item, table row or blank line: content when it touches the main text."""
    return link_density <= 0.5 and (not line.strip() or line.lstrip().startswith("\u2022") or "\t" in line)


def _extend(lines: list[tuple[str, float]], start: int, end: int) -> tuple[int, int]:
    """Grow the segment over adjacent lists and tables (the segment's ends are prose, and a
    product page's specification table or a closing list would otherwise be cut off)."""
    while start > 0 and _is_structure(*lines[start - 1]):
        start -= 1
    while end < len(lines) and _is_structure(*lines[end]):
        end += 1
    return start, end


def _best_segment(scores: list[float]) -> tuple[int, int]:
    best, best_span = 0.0, (0, 0)
    total, start = 0.0, 0
    for i, s in enumerate(scores):
        if total <= 0:
            total, start = 0.0, i
        total += s
        if total > best:
            best, best_span = total, (start, i + 1)
    return best_span


def _mark_hinted(html: str) -> str:
    """``html`` with ``data-herd-boilerplate`` added to every tag whose class or id has a hint."""
    pieces, last, search = [], 0, _HINT.search
    for match in _CLASS_OR_ID.finditer(html):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        if search(value):
            end = match.end()
            pieces += (html[last:end], _MARK)
            last = end
    if not pieces:
        return html
    pieces.append(html[last:])
    return "".join(pieces)


def _title(tree: HTMLTree) -> str:
    """The longest ``h1``/``h2`` whose text is part of the document's ``<title>`` (sites put their
    own name in an ``h1``, and in the ``<title>`` too), else the first ``h1``."""
    page_title = " ".join((tree.title or "").split())
    best = first_h1 = ""
    for node in tree.body.query_selector_all("h1, h2"):
        text = " ".join(node.text.replace(_LINK_OPEN, "").replace(_LINK_CLOSE, "").split())
        if text and text in page_title and len(text) > len(best):
            best = text
        if not first_h1 and node.tag == "h1":
            first_h1 = text
    return best or first_h1


@dataclass(frozen=True)
class MainText:
    """``text``: the main text; ``candidate_chars``: characters of all text left after pruning
    (what the scorer chose from: a main text much shorter than it is the sign of a failed pass)."""

    text: str
    candidate_chars: int


def extract_main_text(html: str) -> MainText:
    """Main text of ``html`` (empty when the page has no body)."""
    marked = _mark_hinted(html)
    marked = _A_CLOSE.sub(_LINK_CLOSE + r"\1", _A_OPEN.sub(r"\1" + _LINK_OPEN, marked))
    tree = HTMLTree.parse(marked)
    if tree.body is None:
        return MainText("", 0)
    title = _title(tree)
    # skipped inside resiliparse's C walk: decomposing them from Python wraps every match in a
    # Python object (hundreds per page, most of the time this function took)
    text = extract_plain_text(tree, main_content=False, preserve_formatting=True, alt_texts=False,
                              noscript=False, list_bullets=True, links=False, comments=False,
                              skip_elements=_SKIP)
    lines = _line_stats(text)
    start, end = _best_segment([_score(line, ld) for line, ld in lines])
    start, end = _extend(lines, start, end)
    kept = [line for line, ld in lines[start:end] if ld <= 0.5]
    if title and not any(title == " ".join(line.split()) for line in kept[:3]):
        kept.insert(0, title)
    return MainText("\n".join(kept), len(text))
