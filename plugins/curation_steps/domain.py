"""Domain classification (docs/recipe.md section 1, "Domain classification and mixing"): every kept
document gets ``doc.domain`` among ``general``, ``math_reasoning``, ``code`` and
``multilingual`` (the four parts of the recipe's 50/25/17/8 mix), a finer topic in
``doc.metadata["topic"]``, and — for code and reasoning, which the recipe gives their own
classifiers — a domain quality signal in ``doc.scores``.

The domain comes from a fastText model trained in the run (a corpus step: ``observe``
collects the documents whose domain is known — given, or from their ``source`` — and
``finalize`` trains on them and measures the model on a held-out split, written to
``steps/domain_classifier/classifier.json``). Documents with a known domain keep it; the
model labels the others (``metadata["domain_by"]`` says which). Language decides
``multilingual``. The keyword rules below are the fallback when the run has too little
labelled data, and give the topic and the code/reasoning quality scores. The step never drops.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from herd.core.classifier_eval import FALLBACK, ClassifierEval
from herd.core.errors import ConfigError
from herd.core.records import Document, Drop
from herd.plugins.curation_steps.classifier import FastTextSettings, LabelledSample, TextModel, fit, keep_dir
from herd.plugins.curation_steps.configs import DomainClassifierConfig
from herd.plugins.curation_steps.text import tokens

DOMAINS = ("general", "math_reasoning", "code", "multilingual")

_CODE_LINE = re.compile(
    r"^\s*(?:def |class |import |from \S+ import|#include|using namespace|public |private |"
    r"function |func |fn |let |const |var |return\b|if \(|for \(|while \(|}\s*$|{\s*$|"
    r"\w+\s*=\s*[^=]|\w+\(.*\);?\s*$|//|/\*|\*/|<\?php|package |SELECT |@\w+)")
_CODE_END = re.compile(r"[;{}]\s*$")
_LATEX = re.compile(r"\$[^$\n]{1,200}\$|\\(?:frac|sum|int|sqrt|alpha|beta|theta|lambda|sigma|mathbb|mathrm|"
                    r"cdot|leq|geq|neq|infty|partial|begin\{(?:equation|align))")
# '=', '<', '>' and '^' are not counted: they fill code, configuration and READMEs (boto3's
# README was labelled algebra when they were).
_MATH_SYMBOLS = re.compile(r"[≤≥≠∑∫√π∞±×÷]")

# Every pattern starts with a literal so that ``re`` skips to its first character; a word
# boundary before a keyword is a lookbehind placed after it (``fn(?<!\wfn)`` is ``\bfn``),
# which keeps the pattern starting with that literal. SQL is matched on lower-cased text.
CODE_LANGUAGES = {
    "python": re.compile(r"^\s*(?:def \w+\(|import \w+|from \w+ import|class \w+[:(]|elif |print\()", re.M),
    "javascript": re.compile(r"function(?<!\wfunction)\s*\w*\(|const(?<!\wconst) \w+ = |let(?<!\wlet) \w+ = "
                             r"|=>(?<=\w=>) |console(?<!\wconsole)\.log|require(?<!\wrequire)\("),
    "c_cpp": re.compile(r"#include\s*<|int(?<!\wint) main\s*\(|std::|printf\(|->\w+"),
    "java": re.compile(r"public(?<!\wpublic) (?:static )?(?:class|void)|System\.out\.|import java\."),
    "rust": re.compile(r"fn(?<!\wfn) \w+\(|let(?<!\wlet) mut |impl \w+|println!\(|::new\("),
    "go": re.compile(r"func(?<!\wfunc) \w+\(|package main|fmt\.Print|:= "),
    "shell": re.compile(r"^\s*(?:\$ |sudo |apt-get |pip install|echo |export \w+=|cd \S)", re.M),
    "sql": re.compile(r"(?:select(?<!\wselect) .+ from|insert(?<!\winsert) into|create(?<!\wcreate) table"
                      r"|update(?<!\wupdate) \w+ set)\b"),
    "html": re.compile(r"</?(?:div|span|html|body|head|script)\b"),
}
_LOWER_CASED = frozenset({"sql"})
MATH_TOPICS = {
    "calculus": {"derivative", "integral", "limit", "differential", "calculus", "gradient"},
    "algebra": {"polynomial", "matrix", "linear", "algebra", "equation", "vector", "eigenvalue"},
    "geometry": {"triangle", "angle", "circle", "geometry", "area", "perimeter", "radius"},
    "probability_statistics": {"probability", "random", "distribution", "variance", "statistics", "expected"},
    "number_theory": {"prime", "divisible", "integer", "modulo", "gcd", "factorization"},
    "logic_reasoning": {"therefore", "hence", "implies", "proof", "lemma", "theorem", "suppose"},
}
REASONING_WORDS = frozenset({
    "theorem", "lemma", "proof", "corollary", "therefore", "hence", "thus", "suppose", "assume",
    "implies", "solve", "solution", "equation", "compute", "calculate", "prove", "let", "step",
    "conclude", "because", "answer", "derivative", "integral", "probability", "formula",
})
GENERAL_TOPICS = {
    "science": {"research", "scientists", "study", "experiment", "physics", "biology", "chemistry", "species"},
    "health": {"health", "patients", "disease", "medical", "treatment", "symptoms", "doctor", "clinical"},
    "technology": {"software", "computer", "internet", "data", "technology", "device", "network", "users"},
    "business_finance": {"market", "company", "business", "financial", "investment", "revenue", "price", "bank"},
    "politics_news": {"government", "president", "election", "minister", "policy", "law", "court", "police"},
    "sports": {"team", "game", "season", "players", "league", "match", "coach", "championship"},
    "arts_entertainment": {"film", "music", "album", "movie", "artist", "show", "band", "novel"},
    "history": {"century", "war", "empire", "ancient", "king", "history", "historical", "dynasty"},
    "education": {"students", "school", "university", "teachers", "learning", "education", "course"},
    "travel_food": {"travel", "hotel", "city", "recipe", "food", "restaurant", "cooking", "beach"},
}


TRAINED_DOMAINS = ("general", "math_reasoning", "code")  # multilingual is decided by language


class DomainClassifier:
    """A corpus step that never drops. Sets ``doc.domain``, ``metadata["topic"]``,
    ``metadata["domain_by"]`` (``label``: known before, ``model``, ``rules``: the fallback,
    ``language``), ``scores["domain_classifier.confidence"]`` for model labels, and
    ``scores["domain_classifier.code_quality"]`` or ``["domain_classifier.reasoning_quality"]``.
    Used on its own (no ``observe``/``finalize``), it labels by the rules."""

    name = "domain_classifier"

    def __init__(self, cfg: DomainClassifierConfig | None = None):
        self.cfg = cfg or DomainClassifierConfig()
        bad = {s: d for s, d in self.cfg.source_domains.items() if d not in DOMAINS}
        if bad:
            raise ConfigError(f"[dedupers.domain_classifier] source_domains {bad}: domains must be one of {DOMAINS}")
        if not 0 <= self.cfg.held_out < 1:
            raise ConfigError(f"[dedupers.domain_classifier] held_out = {self.cfg.held_out}: must be in [0, 1)")
        self.settings = FastTextSettings(dim=self.cfg.dim, epoch=self.cfg.epoch, held_out=self.cfg.held_out,
                                         min_per_class=self.cfg.min_per_class, max_per_class=self.cfg.max_per_class,
                                         max_chars=self.cfg.train_chars, seed=self.cfg.seed)
        self.sample = LabelledSample(self.cfg.max_per_class, self.settings.max_chars)
        self.model: TextModel | None = None
        self.evaluation: ClassifierEval | None = None

    # -- training (corpus step)
    def known_domain(self, doc: Document) -> str | None:
        """The domain a document is known to have: given in the input, or its source's."""
        if doc.domain in DOMAINS:
            return doc.domain
        return self.cfg.source_domains.get(doc.source or "")

    def _foreign(self, doc: Document) -> bool:
        lang = (doc.language or "").split("-")[0].lower()
        return bool(lang) and lang not in self.cfg.english

    def observe(self, doc: Document) -> None:
        label = self.known_domain(doc)
        if label in TRAINED_DOMAINS and not self._foreign(doc):
            self.sample.add(doc.id, label, doc.text)

    def finalize(self, workdir: Path) -> None:
        self.model, self.evaluation = fit(self.name, self.sample, self.settings)
        self.sample = LabelledSample(self.cfg.max_per_class, self.settings.max_chars)  # keeps the pickled step small
        if self.model is None:
            self.evaluation.method = FALLBACK
            self.evaluation.note += "; the keyword rules label every document"
        self.evaluation.write(keep_dir(workdir))

    # -- labelling
    def classify(self, doc: Document) -> tuple[str, str, dict[str, float]]:
        """(domain, topic, quality scores) of a document by the rules (the fallback)."""
        return self._rules(doc, self.cfg.source_domains.get(doc.source or ""))

    def apply(self, doc: Document) -> Document | Drop:
        domain, by, confidence = self.known_domain(doc), "label", None
        if domain is None and self.model is not None:
            domain, confidence = self.model.predict([doc.text])[0]
            by = "model"
            if confidence < self.cfg.min_confidence:
                domain, by = None, "rules"  # the model is unsure: the rules decide
        if domain not in (None, "code", "multilingual") and self._foreign(doc):
            domain, by = "multilingual", "language"  # a German manual page is not English "general"
        rule_domain, topic, scores = self._rules(doc, domain)
        if domain is None:
            domain, by = rule_domain, "rules"
        doc.domain = domain
        doc.metadata["topic"] = topic
        doc.metadata["domain_by"] = by
        if confidence is not None:
            doc.scores[f"{self.name}.confidence"] = round(confidence, 4)
        for key, value in scores.items():
            doc.scores[f"{self.name}.{key}"] = value
        return doc

    def _rules(self, doc: Document, forced: str | None) -> tuple[str, str, dict[str, float]]:
        """(domain, topic, quality scores) by the keyword rules; ``forced`` fixes the domain
        (then only the topic and scores come from the rules)."""
        text = doc.text
        lines = [line for line in text.split("\n") if line.strip()]
        code_lines = sum(1 for line in lines if _CODE_LINE.match(line) or _CODE_END.search(line))
        code_ratio = code_lines / max(1, len(lines))
        if forced == "code" or (forced is None and code_ratio >= self.cfg.code_line_ratio and len(lines) >= 3):
            return "code", self._code_language(text), {"code_quality": self._code_quality(lines, code_ratio)}
        lang = (doc.language or "").split("-")[0].lower()
        if forced == "multilingual" or (forced is None and self._foreign(doc)):
            return "multilingual", lang or "unknown", {}
        toks = tokens(text)
        counts = Counter(toks)  # lexicon look-ups go through the counts, not every token
        math_markers = len(_LATEX.findall(text)) + len(_MATH_SYMBOLS.findall(text)) / 4
        density = 100 * math_markers / max(1, len(toks))
        reasoning = _hits(counts, REASONING_WORDS) / max(1, len(toks))
        if forced == "math_reasoning" or (forced is None and (density >= self.cfg.math_density
                                                              or reasoning >= self.cfg.reasoning_ratio and density >= 0.5)):
            return "math_reasoning", _best_topic(counts, MATH_TOPICS), {
                "reasoning_quality": self._reasoning_quality(density, reasoning, len(toks))}
        return "general", _best_topic(counts, GENERAL_TOPICS), {}

    @staticmethod
    def _code_language(text: str) -> str:
        lowered = text.lower()
        hits = {name: len(p.findall(lowered if name in _LOWER_CASED else text)) for name, p in CODE_LANGUAGES.items()}
        name, count = max(hits.items(), key=lambda kv: kv[1])
        return name if count else "unknown"

    @staticmethod
    def _code_quality(lines: list[str], code_ratio: float) -> float:
        """0..1: rewards comments/prose interleaved with code (the recipe's "code with
        interleaved prose"), sane line lengths and little minified or generated text."""
        comments = sum(1 for line in lines if line.lstrip().startswith(("#", "//", "/*", "*", '"""', "--")))
        long_lines = sum(1 for line in lines if len(line) > 200)
        prose = 1.0 - code_ratio
        score = 0.4 * min(1.0, (comments / max(1, len(lines))) * 5) + 0.3 * min(1.0, prose * 3)
        score += 0.3 * (1.0 - long_lines / max(1, len(lines)))
        return round(score, 4)

    @staticmethod
    def _reasoning_quality(density: float, reasoning: float, n_tokens: int) -> float:
        """0..1: explanation around the formulas (reasoning words) and some formulas."""
        score = 0.5 * min(1.0, reasoning / 0.06) + 0.3 * min(1.0, density / 5) + 0.2 * min(1.0, n_tokens / 300)
        return round(score, 4)


def _hits(counts: Counter, words: frozenset[str] | set[str]) -> int:
    """Tokens of a document (given by its token counts) that are in ``words``."""
    return sum(counts[w] for w in words if w in counts)


def _best_topic(counts: Counter, lexicon: dict[str, set[str]]) -> str:
    hits = {topic: _hits(counts, words) for topic, words in lexicon.items()}
    topic, count = max(hits.items(), key=lambda kv: kv[1])
    return topic if count >= 2 else "other"
