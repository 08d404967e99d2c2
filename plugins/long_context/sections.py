"""A long document as numbered sections: a run of sentences cut into chunks of about
equal tokens, rendered ``Section 1\\n<sentences>\\n\\nSection 2\\n...``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sectioned:
    sections: list[list[str]]  # each section's sentences, in order

    @classmethod
    def split(cls, sentences: list[str], tokens: list[int], chunks: int) -> "Sectioned":
        """``chunks`` sections of consecutive sentences, about equal in tokens, each with at
        least two sentences (fewer sections when there are too few sentences)."""
        chunks = max(1, min(chunks, len(sentences) // 2))
        total = sum(tokens)
        sections: list[list[str]] = [[] for _ in range(chunks)]
        seen = 0
        for i, (sentence, n) in enumerate(zip(sentences, tokens)):
            left = len(sentences) - i
            index = min(chunks - 1, seen * chunks // max(1, total))
            # keep two sentences for every section still to come
            while index > 0 and len(sections[index - 1]) < 2:
                index -= 1
            index = max(index, chunks - (left + 1) // 2) if left < 2 * chunks else index
            index = min(index, chunks - 1)
            sections[index].append(sentence)
            seen += n
        return cls([s for s in sections if s])

    def text(self) -> str:
        return "\n\n".join(f"Section {k}\n{' '.join(s)}" for k, s in enumerate(self.sections, 1))

    def section_text(self, k: int) -> str:
        return " ".join(self.sections[k - 1])

    def __len__(self) -> int:
        return len(self.sections)
