"""Language-ID accuracy and speed of herd's multilingual plugin on labelled offline text.

The labelled sample is built on the fly from the gettext catalogs of the machine's
Debian packages (/usr/share/locale/<lang>/LC_MESSAGES/*.mo): each catalog pairs English
source strings with human translations, so the language label is known. Strings are
cleaned of format specifiers and kept when they have at least --min-letters letters.
Also measured: the hand-written sample shipped in plugins/multilingual/data.

    python bench/multilingual_lid.py --per-language 300 --runs 3
"""

from __future__ import annotations

import argparse
import gettext
import json
import random
import re
import statistics
import time
from pathlib import Path

from herd.plugins.multilingual.config import DEFAULT_LANGUAGES, LidSettings
from herd.plugins.multilingual.langid import LanguageIdentifier

LOCALES = {"fr": "fr", "de": "de", "es": "es", "it": "it", "pt": "pt", "ru": "ru", "zh": "zh_CN", "ja": "ja", "th": "th"}
FORMAT = re.compile(r"%[-#0 +']*\d*(?:\.\d+)?[hlLqjzt]*[a-zA-Z%]|\{[^}]*\}|\$\{?\w+\}?|<[^>]+>|&\w|_")
SAMPLE = Path(__file__).resolve().parent.parent / "plugins" / "multilingual" / "data" / "langid_sample.jsonl"


def clean(text: str) -> str:
    return " ".join(FORMAT.sub(" ", text).split())


def catalog_sample(per_language: int, min_letters: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    sample: list[tuple[str, str]] = []
    english: set[str] = set()
    for lang, locale in LOCALES.items():
        texts = set()
        for mo in sorted(Path(f"/usr/share/locale/{locale}/LC_MESSAGES").glob("*.mo")):
            try:
                catalog = gettext.GNUTranslations(mo.open("rb"))._catalog
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            for source, translated in catalog.items():
                if not isinstance(source, str) or not source or not isinstance(translated, str):
                    continue
                t, s = clean(translated), clean(source)
                if sum(c.isalpha() for c in t) >= min_letters and t != s:
                    texts.add(t)
                if sum(c.isalpha() for c in s) >= min_letters:
                    english.add(s)
        picked = rng.sample(sorted(texts), min(per_language, len(texts)))
        sample.extend((lang, t) for t in picked)
    sample.extend(("en", t) for t in rng.sample(sorted(english), min(per_language, len(english))))
    return sample


def long_documents(sample: list[tuple[str, str]], chars: int) -> list[tuple[str, str]]:
    """Documents of about ``chars`` characters: consecutive same-language strings joined."""
    docs, current = [], {}
    for lang, text in sample:
        buf = current.setdefault(lang, [])
        buf.append(text)
        if sum(len(t) + 1 for t in buf) >= chars:
            docs.append((lang, " ".join(buf)))
            current[lang] = []
    return docs


def measure(identifier: LanguageIdentifier, sample: list[tuple[str, str]], runs: int) -> tuple[float, float, dict]:
    texts = [t for _, t in sample]
    identifier.detect_many(texts[:10])  # load models before timing
    seconds, found = [], None
    for _ in range(runs):
        start = time.perf_counter()
        found = identifier.detect_many(texts)
        seconds.append(time.perf_counter() - start)
    per_language: dict[str, list[int]] = {}
    for (lang, _), det in zip(sample, found):
        per_language.setdefault(lang, []).append(int(det.language == lang))
    accuracy = sum(sum(v) for v in per_language.values()) / len(sample)
    return accuracy, len(texts) / statistics.median(seconds), {k: sum(v) / len(v) for k, v in per_language.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--min-letters", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    catalogs = catalog_sample(args.per_language, args.min_letters, args.seed)
    shipped = [(r["language"], r["text"]) for r in map(json.loads, SAMPLE.read_text(encoding="utf-8").splitlines())]
    long_docs = long_documents(catalogs, 2000)
    langs = sorted({lang for lang, _ in catalogs})
    print(f"catalog sample: {len(catalogs)} strings, {len(langs)} languages ({', '.join(langs)}); "
          f"shipped sample: {len(shipped)}; {len(long_docs)} documents of ~2,000 characters")
    setups = {
        "lingua, default 11 languages": LidSettings(),
        "lingua, default 11 languages, low-accuracy mode": LidSettings(low_accuracy=True),
        "lingua, all 75 languages": LidSettings(languages=_all_lingua()),
    }
    results = {}
    for name, settings in setups.items():
        ident = LanguageIdentifier(settings)
        for sample_name, sample in (("catalogs", catalogs), ("shipped", shipped), ("2k-char docs", long_docs)):
            acc, rate, per = measure(ident, sample, args.runs)
            results[(name, sample_name)] = (acc, rate, per)
            print(f"{name:50s} {sample_name:12s} accuracy {acc:.4f}  {rate:9.1f} docs/s  "
                  + " ".join(f"{k}={v:.2f}" for k, v in sorted(per.items())))
    print(json.dumps({f"{k[0]} | {k[1]}": {"accuracy": v[0], "docs_per_s": v[1], "per_language": v[2]}
                      for k, v in results.items()}, indent=1))


def _all_lingua() -> list[str]:
    from lingua import Language

    return [lang.iso_code_639_1.name.lower() for lang in Language.all()]


if __name__ == "__main__":
    assert set(DEFAULT_LANGUAGES) >= set(LOCALES) | {"en"}
    main()
