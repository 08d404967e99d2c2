"""HTML to text (docs/recipe.md section 1, "Text extraction": boilerplate removal with good content
recall, code and math formatting kept, markup dropped).

Engines (``engine`` in config), measured in ``docs/benchmarks/extraction.md``:

* ``resiliparse``: resiliparse's main-content extraction (C++, lexbor) as it comes.
* ``trafilatura``: trafilatura (lxml, many heuristics): slowest.
* ``hybrid`` (default): herd's scorer on resiliparse's DOM (``boilerplate.extract_main_text``:
  boilerplate pruned by CSS in C, lines scored by link density and prose length, the best
  contiguous run kept); when its output is short (``fallback_min_chars``) and keeps less than
  ``fallback_ratio`` of the text it chose from (the scorer cut the content), trafilatura
  re-extracts that page. Pages with a long main text take only the fast path.

Before any engine runs, math is turned into text the engines keep: MathML ``<math>`` becomes
its LaTeX annotation (or ``alttext``, or its text) between ``$``, MathJax
``<script type="math/tex">`` its LaTeX, and math images (``<img>`` whose class, src or alt
looks like TeX) their alt text. ``<pre>`` formatting is kept (``preserve_formatting``).
Pathologically nested pages (resiliparse's main-content pass is quadratic in depth) are
dropped before parsing with reason ``html_text.too_deep``, measured the way the parser
builds the tree (``nesting_depth``); the curation runner also gives every extraction a time
budget it enforces from outside (``html_text.timeout``), so no page can hang a run.
"""

from __future__ import annotations

import html as htmllib
import re

from herd.core.errors import ConfigError
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.boilerplate import extract_main_text
from herd.plugins.curation_steps.configs import HtmlTextConfig

ENGINES = ("hybrid", "resiliparse", "trafilatura")

_MATH = re.compile(r"<math\b([^>]*)>(.*?)</math\s*>", re.IGNORECASE | re.DOTALL)
_TEX_ANNOTATION = re.compile(
    r"<annotation\b[^>]*encoding\s*=\s*[\"']application/x-tex[\"'][^>]*>(.*?)</annotation\s*>",
    re.IGNORECASE | re.DOTALL)
_ALTTEXT = re.compile(r"\balttext\s*=\s*(\"[^\"]*\"|'[^']*')", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_MATHJAX = re.compile(r"<script\b[^>]*type\s*=\s*[\"']math/tex[^\"']*[\"'][^>]*>(.*?)</script\s*>",
                      re.IGNORECASE | re.DOTALL)
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_IMG_ALT = re.compile(r"\balt\s*=\s*(\"[^\"]*\"|'[^']*')", re.IGNORECASE)
_MATH_IMG_HINT = re.compile(r"(?:class|src)\s*=\s*[\"'][^\"']*(?:latex|tex|math|equation|formula)", re.IGNORECASE)
_TEXISH = re.compile(r"\\[a-zA-Z]+|\^|_\{|\$")
# A tag as the HTML tokenizer reads it: ``<`` then a letter starts a tag whose name runs to
# whitespace, ``/`` or ``>``; ``<!--`` starts a comment.
_TOKEN = re.compile(r"<(?:(/?)([A-Za-z][^\t\n\f\r />]*)|!--)")
# Elements never pushed on the stack: void ones, and those the tree builder closes
# implicitly when a sibling starts (a ``<p>`` ends the open ``p``).
_UNCOUNTED = frozenset((
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dd", "dt", "td", "th", "tr", "option", "optgroup", "rb", "rp", "rt", "rtc",
))
# Elements whose content the tokenizer reads as text up to their own end tag.
_RAW_TEXT = {name: re.compile(rf"</{name}", re.IGNORECASE)
             for name in ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")}
_RAW_TEXT["plaintext"] = re.compile(r"(?!)")  # the rest of the page is text
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\((?:https?://|/|\.{0,2}/|#)[^)\s]*\)")
_BLANKS = re.compile(r"\n{3,}")
_TRAILING_WS = re.compile(r"[ \t]+\n")


def _unquote(value: str) -> str:
    return htmllib.unescape(value[1:-1])


def _math_to_tex(match: re.Match) -> str:
    attrs, body = match.group(1), match.group(2)
    tex = _TEX_ANNOTATION.search(body)
    if tex:
        latex = htmllib.unescape(_TAG.sub("", tex.group(1))).strip()
    else:
        alt = _ALTTEXT.search(attrs)
        latex = _unquote(alt.group(1)).strip() if alt else htmllib.unescape(_TAG.sub(" ", body)).strip()
    return f"<span> ${htmllib.escape(latex, quote=False)}$ </span>" if latex else ""


def _mathjax_to_tex(match: re.Match) -> str:
    return f"<span> ${htmllib.escape(match.group(1).strip(), quote=False)}$ </span>"


def _math_img_to_text(match: re.Match) -> str:
    tag = match.group(0)
    alt = _IMG_ALT.search(tag)
    if not alt:
        return tag
    text = _unquote(alt.group(1)).strip()
    if _MATH_IMG_HINT.search(tag) or _TEXISH.search(text):
        return f"<span> ${htmllib.escape(text, quote=False)}$ </span>"
    return tag


def prepare_math(html: str) -> str:
    """Replace MathML, MathJax scripts and math images by their TeX as text."""
    # cheap substring tests skip the regexes on most pages
    if "<math" in html or "<MATH" in html:
        html = _MATH.sub(_math_to_tex, html)
    if "math/tex" in html:
        html = _MATHJAX.sub(_mathjax_to_tex, html)
    if "<img" in html or "<IMG" in html:
        html = _IMG.sub(_math_img_to_text, html)
    return html


def nesting_depth(html: str, limit: int) -> int:
    """The deepest stack of open elements an HTML parser builds for ``html`` (at least: see
    below), or a number above ``limit`` as soon as the scan passes it.

    A linear scan that keeps the tree builder's stack of open elements: a start tag pushes
    its element, an end tag pops down to the innermost open element of that name and is
    ignored, as the parser ignores it, when none is open (so ``"<div></span>" * n`` is n
    deep, not 1). Void elements and those the parser closes implicitly (``p``, ``li``,
    ``td``...) are not pushed, comments are skipped and so is the text of raw-text elements
    (``script``, ``style``...). Those simplifications can only under-count by a small factor
    (an implicitly closed element between two counted ones); the per-document time budget
    of the runner (``curate.extract_time_budget_s``) bounds whatever remains. Pages with
    fewer tags than ``limit`` are not scanned."""
    if html.count("<") <= limit:
        return 0  # cannot be deeper than it has tags
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    search = _TOKEN.search
    pos = 0
    while (match := search(html, pos)) is not None:
        pos = match.end()
        name = match.group(2)
        if name is None:  # a comment: its text is not markup
            end = html.find("-->", pos)
            if end < 0:
                break
            pos = end + 3
            continue
        name = name.lower()
        if match.group(1):  # an end tag
            if open_count.get(name):
                while (top := stack.pop()) != name:
                    open_count[top] -= 1
                open_count[name] -= 1
            continue
        if name in _UNCOUNTED:
            continue
        if (open_count.get("svg") or open_count.get("math")) and _self_closing(html, pos):
            continue  # in SVG and MathML ``<x/>`` is closed at once (in HTML it is not)
        closer = _RAW_TEXT.get(name)
        if closer is not None:  # its text up to the matching end tag is not markup
            end = closer.search(html, pos)
            if end is None:
                break
            pos = end.end()
            continue
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if len(stack) > deepest:
            deepest = len(stack)
            if deepest > limit:
                break
    return deepest


def _self_closing(html: str, pos: int) -> bool:
    end = html.find(">", pos)
    return end > 0 and html[end - 1] == "/"


def clean_text(text: str) -> str:
    """Normalise whitespace and drop markup remnants: markdown links and images keep only
    their text (the recipe removes markdown markers; other markers such as ``#`` or ``**``
    are left alone because code uses them too)."""
    text = _TRAILING_WS.sub("\n", text.replace("\r\n", "\n").replace("\xa0", " ").replace("\u200b", ""))
    if "](" in text:
        text = _MD_LINK.sub(r"\1", text)
    return _BLANKS.sub("\n\n", text).strip()


class HtmlText:
    """Extractor (``extract(html)``) and document step (``apply(doc)``: fills ``doc.text``
    from ``doc.html``; documents without html, or that already have text, pass unchanged).
    Reasons: ``html_text.too_large``, ``html_text.too_deep``, ``html_text.parse_error``,
    ``html_text.empty``."""

    name = "html_text"

    def __init__(self, cfg: HtmlTextConfig | None = None):
        self.cfg = cfg or HtmlTextConfig()
        if self.cfg.engine not in ENGINES:
            raise ConfigError(f"[extractors.html_text] engine must be one of {ENGINES}, got {self.cfg.engine!r}")
        self.fallbacks = 0

    def extract(self, html: str, url: str | None = None) -> str:
        html = prepare_math(html)
        engine = self.cfg.engine
        if engine == "trafilatura":
            return clean_text(self._trafilatura(html, url))
        if engine == "resiliparse":
            return clean_text(self._resiliparse(html, main_content=True))
        fast = extract_main_text(html)
        main = fast.text
        if len(main) >= self.cfg.fallback_min_chars:
            return clean_text(main)
        if len(main) < self.cfg.fallback_ratio * fast.candidate_chars:
            self.fallbacks += 1
            rescued = self._trafilatura(html, url)
            if len(rescued) > len(main):
                return clean_text(rescued)
        return clean_text(main)

    @staticmethod
    def _resiliparse(html: str, main_content: bool) -> str:
        from resiliparse.extract.html2text import extract_plain_text

        return extract_plain_text(html, main_content=main_content, preserve_formatting=True,
                                  alt_texts=False, noscript=False, list_bullets=True,
                                  links=False, comments=False)

    @staticmethod
    def _trafilatura(html: str, url: str | None) -> str:
        import trafilatura

        return trafilatura.extract(html, url=url, include_comments=False, include_tables=True,
                                   include_formatting=False, favor_recall=True, deduplicate=False) or ""

    def apply(self, doc: Document) -> Document | Drop:
        if doc.html is None or doc.text:
            return doc
        size = len(doc.html)
        if size > self.cfg.max_html_chars:
            return Drop("html_text.too_large", f"{size} > {self.cfg.max_html_chars} chars of HTML")
        depth = nesting_depth(doc.html, self.cfg.max_depth)
        if depth > self.cfg.max_depth:
            return Drop("html_text.too_deep", f"elements nested deeper than {self.cfg.max_depth}")
        try:
            text = self.extract(doc.html, doc.url)
        except (ValueError, RecursionError, UnicodeError) as exc:
            return Drop("html_text.parse_error", f"{type(exc).__name__}: {exc}")
        if len(text) < self.cfg.min_chars:
            return Drop("html_text.empty", "no text extracted")
        doc.text = text  # the runner drops doc.html when writing unless [curate] keep_html
        return doc
