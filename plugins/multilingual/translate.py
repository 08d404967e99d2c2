"""Translated SFT data, used sparingly (docs/recipe.md section 6): a translation is kept only
when translating it back to the source language reproduces the original (chrF at least
``min_chrf``) and the translation is in the target language. Kept rows carry
``metadata["translated"] = True``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.lib.language.detect import LanguageIdentifier

LANGUAGE_NAMES = {
    "en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "zh": "Chinese", "ja": "Japanese", "th": "Thai", "hi": "Hindi", "ru": "Russian",
}

TRANSLATE_PROMPT = """Translate the following text from {source} into {target}. Keep code, numbers
and formatting unchanged. Answer with the translation only.

{text}"""


def chrf(hypothesis: str, reference: str, max_n: int = 6, beta: float = 2.0) -> float:
    """Character n-gram F-score (Popović 2015, chrF with beta 2 as in sacrebleu), whitespace
    ignored; 0..1."""
    hyp, ref = "".join(hypothesis.split()), "".join(reference.split())
    if not hyp or not ref:
        return 1.0 if hyp == ref else 0.0
    precisions, recalls = [], []
    for n in range(1, max_n + 1):
        h = Counter(hyp[i:i + n] for i in range(len(hyp) - n + 1))
        r = Counter(ref[i:i + n] for i in range(len(ref) - n + 1))
        if not h or not r:
            continue
        overlap = sum((h & r).values())
        precisions.append(overlap / sum(h.values()))
        recalls.append(overlap / sum(r.values()))
    if not precisions:
        return 0.0
    p, r = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if p + r == 0:
        return 0.0
    return (1 + beta**2) * p * r / (beta**2 * p + r)


@dataclass
class Translation:
    row: SFTRow | None  # the translated row, None when rejected
    reason: str = ""
    chrf: float = 0.0


def translate_row(
    row: SFTRow, target: str, generator: Generator, identifier: LanguageIdentifier,
    *, source: str = "en", min_chrf: float = 0.6, max_tokens: int = 1024,
) -> Translation:
    """Translate every message of ``row`` into ``target`` and back; keep it only if the
    round trip passes for every message."""
    texts = [m.content for m in row.messages]
    params = SamplingParams(temperature=0.0, max_tokens=max_tokens)
    forward = _translate(generator, texts, source, target, params)
    backward = _translate(generator, forward, target, source, params)
    scores = [chrf(back, original) for back, original in zip(backward, texts)]
    worst = min(scores) if scores else 0.0
    if worst < min_chrf:
        return Translation(None, f"round_trip_failed: chrF {worst:.3f} < {min_chrf}", worst)
    detected = identifier.detect_many(forward)
    wrong = [d.language for d in detected if d.language not in (target, None)]
    if wrong:
        return Translation(None, f"wrong_language: translation is in '{wrong[0]}', not '{target}'", worst)
    messages = [ChatMessage(m.role, text, m.name) for m, text in zip(row.messages, forward)]
    translated = SFTRow(
        id=f"{row.id}.{target}",
        messages=messages,
        capability="multilingual",
        category=row.category,
        language=target,
        source=row.source,
        metadata={**{k: v for k, v in row.metadata.items() if k != "native"}, "translated": True, "translated_from": row.id, "source_language": source,
                  "round_trip_chrf": worst},
    )
    return Translation(translated, "", worst)


def _translate(generator: Generator, texts: list[str], source: str, target: str, params: SamplingParams) -> list[str]:
    prompts = [
        TRANSLATE_PROMPT.format(source=LANGUAGE_NAMES.get(source, source), target=LANGUAGE_NAMES.get(target, target), text=t)
        for t in texts
    ]
    return [(out[0] if out else "").strip() for out in generator.generate(prompts, params)]
