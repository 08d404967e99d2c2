from herd.plugins.curation_steps.boilerplate import extract_main_text

ARTICLE = " ".join(["The council approved the new tram line after a long debate about its cost and route."] * 3)
PAGE = f"""<html><head><title>Tram line approved | City News</title><script>var t = 1;</script></head><body>
<div class="cmp-container">We use cookies to measure audiences and show you personalised advertising today.</div>
<div class="top"><a href="/a">Home</a> <a href="/b">World</a> <a href="/c">Sport</a> <a href="/d">Culture</a></div>
<h1 class="site">City News</h1>
<div class="col"><h2>Tram line approved</h2><p>{ARTICLE}</p>
<ul><li>Opening in 2027</li><li>Twelve stops</li></ul>
<table><tr><td>Length</td><td>9 km</td></tr></table></div>
<div class="teasers"><a href="/x"><p>Five walks along the coast that are worth the early start this spring.</p></a>
<a href="/y"><p>Why the price of butter has doubled since last spring in every shop.</p></a></div>
<div id="comments"><p>Great article, thanks for writing this up, I had the same experience.</p></div>
</body></html>"""


def test_main_text_keeps_the_article_its_list_and_table_and_drops_boilerplate():
    out = extract_main_text(PAGE)
    text = out.text
    assert text.splitlines()[0] == "Tram line approved"  # the heading named in <title>, not the site's h1
    assert ARTICLE in text and "Opening in 2027" in text and "9 km" in text
    for junk in ("cookies", "Home", "Five walks", "butter", "Great article", "var t"):
        assert junk not in text, junk
    assert out.candidate_chars >= len(ARTICLE)


def test_a_page_without_body_text_gives_empty_text():
    assert extract_main_text("<html><body><nav><a href='/'>Home</a></nav></body></html>").text == ""
