import random

from herd.core.records import Document, Drop
from herd.plugins.curation_steps.configs import DomainMixConfig, TokenKLConfig
from herd.plugins.curation_steps.domain import DomainClassifier
from herd.plugins.curation_steps.mix import DomainMix
from herd.plugins.curation_steps.token_kl import TokenKL


def test_token_kl_drops_the_outlier(tmp_path, paragraphs):
    rng = random.Random(0)
    sentences = [s.strip() + "." for p in paragraphs for s in p.split(".") if s.strip()]
    docs = [Document(id=f"n{i}", text=" ".join(rng.sample(sentences, 5))) for i in range(60)]
    junk = " ".join(f"0x{rng.getrandbits(32):08x} {rng.getrandbits(16)}" for _ in range(60))
    docs.append(Document(id="hexdump", text=junk))
    step = TokenKL(TokenKLConfig(percentile=98.0, min_tokens=30))
    for doc in docs:
        step.observe(doc)
    step.finalize(tmp_path)
    results = {d.id: step.apply(d) for d in docs}
    assert results["hexdump"].reason == "token_kl.outlier"
    assert sum(isinstance(r, Drop) for r in results.values()) <= 2
    kept = next(r for r in results.values() if not isinstance(r, Drop))
    assert kept.scores["token_kl.kl"] > 0
    assert (tmp_path / "token_kl" / "stats.json").exists()


def test_token_kl_fixed_threshold(tmp_path, paragraphs):
    step = TokenKL(TokenKLConfig(max_kl=0.0, min_tokens=10))
    docs = [Document(id=str(i), text=p) for i, p in enumerate(paragraphs)]
    for d in docs:
        step.observe(d)
    step.finalize(tmp_path)
    assert all(isinstance(step.apply(d), Drop) for d in docs)


def _corpus(n_general, n_math, n_code, n_multi):
    rng = random.Random(3)
    docs = []
    for prefix, domain, n in (("g", "general", n_general), ("m", "math_reasoning", n_math),
                              ("c", "code", n_code), ("x", "multilingual", n_multi)):
        docs += [Document(id=f"{prefix}{i}", text="word " * rng.randint(80, 200), domain=domain) for i in range(n)]
    return docs


def _achieved_tokens(docs, plan):
    totals = {}
    for d in docs:
        totals[d.domain] = totals.get(d.domain, 0) + plan.repeats[d.id] * len(d.text.split())
    grand = sum(totals.values())
    return {k: v / grand for k, v in totals.items()}


def test_mixer_hits_target_proportions_with_up_and_down_sampling():
    docs = _corpus(600, 60, 120, 50)  # general over-represented, math under-represented
    plan = DomainMix().plan(docs)
    for domain, target in plan.target.items():
        assert abs(plan.achieved[domain] - target) < 0.02, (domain, plan.achieved)
    assert plan.achieved == _achieved_tokens(docs, plan) or all(
        abs(plan.achieved[k] - v) < 1e-9 for k, v in _achieved_tokens(docs, plan).items())
    assert max(plan.repeats[d.id] for d in docs if d.domain == "math_reasoning") >= 2  # up-sampled
    assert min(plan.repeats[d.id] for d in docs if d.domain == "general") == 0  # down-sampled


def test_mixer_is_seeded_and_caps_repeats():
    docs = _corpus(300, 5, 60, 30)
    a = DomainMix(DomainMixConfig(seed=1)).plan(docs)
    b = DomainMix(DomainMixConfig(seed=1)).plan(list(reversed(docs)))
    c = DomainMix(DomainMixConfig(seed=2)).plan(docs)
    assert a.repeats == b.repeats and a.repeats != c.repeats
    assert max(a.repeats.values()) <= 4
    assert a.achieved["math_reasoning"] < a.target["math_reasoning"]  # capped: the report shows the gap


def test_domain_classifier(paragraphs):
    clf = DomainClassifier()
    code = Document(id="c", text="import json\n\n# load the settings file\ndef load(path):\n"
                                 "    with open(path) as fh:\n        return json.load(fh)\n\n"
                                 "class Settings:\n    def __init__(self, data):\n        self.data = data\n")
    clf.apply(code)
    assert code.domain == "code" and code.metadata["topic"] == "python"
    assert 0 < code.scores["domain_classifier.code_quality"] <= 1
    math = Document(id="m", text="Let $f(x) = x^2 - 4x + 3$. To find the minimum we compute the derivative "
                                 "$f'(x) = 2x - 4$ and solve $f'(x) = 0$, hence $x = 2$. Therefore the minimum "
                                 "value is $f(2) = -1$, and by the second derivative test it is a global minimum.")
    clf.apply(math)
    assert math.domain == "math_reasoning"
    assert "domain_classifier.reasoning_quality" in math.scores
    news = Document(id="n", text=paragraphs[5])
    clf.apply(news)
    assert news.domain == "general" and news.metadata["topic"] == "sports"
    french = Document(id="f", text="Le conseil municipal s'est réuni mardi soir.", language="fr")
    clf.apply(french)
    assert french.domain == "multilingual" and french.metadata["topic"] == "fr"
