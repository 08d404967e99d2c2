from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import HtmlTextConfig
from herd.plugins.curation_steps.extract import ENGINES, HtmlText, nesting_depth

PAGE = """<!DOCTYPE html><html><head><title>Binary search</title><style>body{color:red}</style>
<script>var tracking = "do not keep me";</script></head><body>
<nav><a href="/">Home</a> | <a href="/blog">Blog</a> | <a href="/about">About</a></nav>
<article>
<h1>Binary search in Python</h1>
<p>Binary search finds an item in a sorted list by halving the search interval at every step. It needs
only a logarithmic number of comparisons, so it is much faster than a linear scan on large lists.
The idea is simple, but the boundary conditions are easy to get wrong, which is why it is worth
writing the loop carefully and testing it on small lists first.</p>
<pre><code>def search(items, target):
    lo, hi = 0, len(items)
    while lo &lt; hi:
        mid = (lo + hi) // 2
        if items[mid] &lt; target:
            lo = mid + 1
        else:
            hi = mid
    return lo
</code></pre>
<p>The number of steps is <math alttext="\\lceil \\log_2 n \\rceil"><semantics><mrow><mi>log</mi><mi>n</mi></mrow>
<annotation encoding="application/x-tex">\\lceil \\log_2 n \\rceil</annotation></semantics></math>, and the
invariant is <img class="latex" src="/tex/inv.png" alt="a_{lo-1} &lt; t \\le a_{hi}">, which holds before
and after each iteration of the loop, as the proof by induction on the number of iterations shows.</p>
</article>
<footer>Copyright 2024 Example Blog. All rights reserved. Privacy policy. Cookie settings.</footer>
</body></html>"""


def test_extraction_keeps_code_and_math_and_drops_markup():
    for engine in ENGINES:
        text = HtmlText(HtmlTextConfig(engine=engine)).extract(PAGE)
        assert "Binary search finds an item" in text, engine
        assert "    while lo < hi:\n        mid = (lo + hi) // 2" in text, engine  # pre formatting kept
        assert "$\\lceil \\log_2 n \\rceil$" in text, engine  # MathML -> its TeX annotation
        assert "$a_{lo-1} < t \\le a_{hi}$" in text, engine  # math image -> alt text
        assert "<" not in text.replace("lo < hi", "").replace("] < target", "").replace("} < t", ""), engine
        assert "tracking" not in text and "color:red" not in text, engine


def test_apply_fills_text_and_leaves_text_documents_alone():
    step = HtmlText()
    doc = step.apply(Document(id="h", html=PAGE, url="https://example.org/binary-search"))
    assert "Binary search" in doc.text and doc.html == PAGE
    plain = Document(id="t", text="already text")
    assert step.apply(plain) is plain


def test_deeply_nested_html_is_dropped_not_crashed():
    deep = "<html><body>" + "<div>" * 20000 + "x" + "</div>" * 20000 + "</body></html>"
    assert nesting_depth(deep, 1000) > 1000
    assert nesting_depth(PAGE, 1000) < 20
    result = HtmlText().apply(Document(id="deep", html=deep))
    assert isinstance(result, Drop) and result.reason == "html_text.too_deep"


def test_depth_is_measured_as_the_parser_builds_the_tree():
    # stray end tags are ignored by HTML parsers: they must not hide the 100k open divs
    repro = "<html><body>" + "<div></span>" * 100_000 + "<p>" + "some words here " * 50 + "</p></body></html>"
    assert nesting_depth(repro, 1000) > 1000
    result = HtmlText().apply(Document(id="stray", html=repro))
    assert isinstance(result, Drop) and result.reason == "html_text.too_deep"
    # <div/> opens a div in HTML; comments and script text are not markup; SVG's <x/> closes
    assert nesting_depth("<div/>" * 2000, 1000) > 1000
    assert nesting_depth("<!--" + "<div>" * 2000 + "--><script>" + "<div>" * 2000 + "</script>", 1000) == 0
    assert nesting_depth("<svg>" + "<path d='m0'/>" * 2000 + "</svg>", 1000) == 1
    wide = "<div><span>x</span></div>" * 2000  # many tags, shallow
    assert nesting_depth(wide, 1000) == 2


def test_empty_page_is_dropped():
    result = HtmlText().apply(Document(id="e", html="<html><body><script>x=1</script></body></html>"))
    assert isinstance(result, Drop) and result.reason == "html_text.empty"


def test_markdown_link_remnants_keep_only_their_text():
    html = ("<html><body><article><p>The guide says: see [the install notes](https://example.org/install) "
            "before you start, and index a[i](j) stays as code. " + "More words in this paragraph. " * 20
            + "</p></article></body></html>")
    text = HtmlText().extract(html)
    assert "see the install notes before" in text and "a[i](j)" in text
