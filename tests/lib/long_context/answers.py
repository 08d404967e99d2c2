"""What the long-context tests share: a real byte-level BPE tokenizer (herd's own, trained
on the haystack and word pool) saved as tokenizer.json, and parsers that read a sample's
answer back from its input."""

import random
import re
from collections import Counter
from pathlib import Path

from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.long_context.haystack import essay_text, word_pool


def train_tokenizer(directory: Path) -> Path:
    rng = random.Random(0)
    texts = [essay_text()] + [" ".join(rng.sample(word_pool(), 40)) for _ in range(100)]
    Tokenizer.train(texts, 2048).save(directory)
    return directory


NEEDLE = re.compile(r"One of the special magic (\w+) for (\S+) is: (\S+)\.")


def niah_answers(text: str) -> list[str]:
    """The values the input's needles give the keys its question asks about."""
    question = re.search(r"What (?:are all|is) the special magic \w+ for (.+) mentioned in the provided text\?", text)
    keys = re.split(r", and |, ", question.group(1))
    values: dict[str, list[str]] = {}
    for _, key, value in NEEDLE.findall(text):
        values.setdefault(key, []).append(value)
    return [v for key in keys for v in values.get(key, [])]


def vt_answers(text: str) -> set[str]:
    """Every variable whose chain of assignments resolves to the queried value (main part)."""
    main = text[text.rindex("Memorize and track"):]
    query = re.search(r"assigned the value (\d+) in the text above", main).group(1)
    assigned: dict[str, str] = {}
    for name, source in re.findall(r"VAR ([A-Z]+) = (VAR [A-Z]+|\d+)", main):
        assigned[name] = source

    def resolve(name: str) -> str | None:
        seen = set()
        while name in assigned and name not in seen:
            seen.add(name)
            source = assigned[name]
            if not source.startswith("VAR "):
                return source
            name = source[4:]
        return None

    return {name for name in assigned if resolve(name) == query}


def cwe_counts(text: str) -> Counter:
    main = text[text.rindex("Below is a numbered list"):]
    listing = main[main.index("\n") + 1:main.index("\nQuestion:")]
    entries = re.findall(r"(\d+)\. (\S+)", listing)
    assert [int(n) for n, _ in entries] == list(range(1, len(entries) + 1))
    return Counter(word for _, word in entries)


def fwe_counts(text: str) -> Counter:
    context = text[text.index("coded words. ") + len("coded words. "):text.index("\nQuestion:")]
    return Counter(context.split())
