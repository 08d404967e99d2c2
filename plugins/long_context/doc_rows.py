"""The two prose kinds of long-context SFT rows, built from a sectioned document; every
answer is read off the document (extractive), so it is exactly what the context supports.

- ``chunk_qa``: a question about one random section, answered with the whole document in
  context: the sentence that follows a quoted one in that section, or which section holds
  a quoted sentence (asked only when the sentence occurs once).
- ``summary``: hierarchical summarisation, three turns over the whole document: each
  section's summary (its first sentence), a summary of the summaries (the section summaries
  whose words recur most across the other sections, in document order), and which sections
  mention a word.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

from herd.core.records import ChatMessage
from herd.plugins.long_context.sections import Sectioned

_WORD = re.compile(r"\b[a-z]{6,}\b")


@dataclass
class DocRow:
    messages: list[ChatMessage]
    metadata: dict[str, object] = field(default_factory=dict)


def chunk_qa(doc: Sectioned, rng: random.Random) -> DocRow | None:
    """None when no sentence of the document can be asked about unambiguously. The style
    is drawn; when it has no candidate (a long document that repeats its source holds no
    sentence once), the other style is tried."""
    first = rng.choice(("next_sentence", "locate"))
    order = [(k, j) for k in range(1, len(doc) + 1) for j in range(len(doc.sections[k - 1]))]
    rng.shuffle(order)
    for style in (first, "locate" if first == "next_sentence" else "next_sentence"):
        row = _ask(doc, style, order)
        if row is not None:
            return row
    return None


def _ask(doc: Sectioned, style: str, order: list[tuple[int, int]]) -> DocRow | None:
    counts: dict[str, int] = {}
    for section in doc.sections:
        for sentence in section:
            counts[sentence] = counts.get(sentence, 0) + 1
    text = doc.text()
    for k, j in order:
        section = doc.sections[k - 1]
        sentence = section[j]
        # once as a whole sentence and once as a string: a quote names one place
        if (style == "next_sentence" and j + 1 < len(section)
                and section.count(sentence) == 1 and doc.section_text(k).count(sentence) == 1):
            question = f'In section {k}, which sentence comes right after "{sentence}"?'
            return _qa(doc, question, section[j + 1], style, k)
        if style == "locate" and counts[sentence] == 1 and text.count(sentence) == 1:
            return _qa(doc, f'Which section contains the sentence "{sentence}"?', f"Section {k}.", style, k)
    return None


def _qa(doc: Sectioned, question: str, answer: str, style: str, section: int) -> DocRow:
    return DocRow([ChatMessage("user", f"{doc.text()}\n\nQuestion: {question}"), ChatMessage("assistant", answer)],
                  {"question_style": style, "section": section, "sections": len(doc), "answer": answer})


def section_summaries(doc: Sectioned) -> list[str]:
    """Each section's summary: its first sentence (extractive, as the section opens)."""
    return [section[0] for section in doc.sections]


def summary_of_summaries(doc: Sectioned) -> list[int]:
    """The sections (1-based, in order) whose summaries best stand for the whole: the
    ``ceil(sqrt(n))`` summaries with the most distinct words that recur in other sections."""
    summaries = section_summaries(doc)
    words = [set(_WORD.findall(doc.section_text(k).lower())) for k in range(1, len(doc) + 1)]
    scores = []
    for k, summary in enumerate(summaries):
        elsewhere = set().union(*(w for i, w in enumerate(words) if i != k))
        scores.append((-len(set(_WORD.findall(summary.lower())) & elsewhere), k))
    keep = math.ceil(math.sqrt(len(doc)))
    return sorted(k + 1 for _, k in sorted(scores)[:keep])


def sections_with(doc: Sectioned, word: str) -> list[int]:
    return [k for k in range(1, len(doc) + 1) if word in _WORD.findall(doc.section_text(k).lower())]


def summary(doc: Sectioned, rng: random.Random) -> DocRow | None:
    """None when no word of 6+ letters is in some sections but not all (nothing to ask)."""
    per_section = [set(_WORD.findall(doc.section_text(k).lower())) for k in range(1, len(doc) + 1)]
    every = set.intersection(*per_section) if per_section else set()
    candidates = sorted(set().union(*per_section) - every)
    if not candidates:
        return None
    word = rng.choice(candidates)
    found = sections_with(doc, word)
    summaries = section_summaries(doc)
    chosen = summary_of_summaries(doc)
    messages = [
        ChatMessage("user", f"{doc.text()}\n\nSummarise each section of the document in one sentence."),
        ChatMessage("assistant", "\n".join(f"Section {k}: {s}" for k, s in enumerate(summaries, 1))),
        ChatMessage("user", "Now summarise the whole document from those summaries."),
        ChatMessage("assistant", " ".join(summaries[k - 1] for k in chosen)),
        ChatMessage("user", f'Which sections mention the word "{word}"?'),
        ChatMessage("assistant", _sections_answer(found)),
    ]
    return DocRow(messages, {"sections": len(doc), "summary_sections": chosen, "word": word,
                             "answer": found})


def _sections_answer(found: list[int]) -> str:
    if len(found) == 1:
        return f"Section {found[0]}."
    return f"Sections {', '.join(str(k) for k in found[:-1])} and {found[-1]}."
