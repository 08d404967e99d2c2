"""Config of the long-context SFT synthesizer (``[synthesizers.long_context]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from herd.core.config import fraction, non_negative, positive, ranged

KINDS = ("chunk_qa", "summary", "repo")

# docs/recipe.md section 5, "SFT mix": long-context rows are 0.11% of the final mix.
RECIPE_SHARE = 0.0011


@dataclass
class LongContextSFTConfig:
    """``[synthesizers.long_context]``: synthetic long-context SFT rows (docs/recipe.md
    section 6, long context): QA over chunks, hierarchical summaries, code-repository
    reasoning. Rows are sized to the ``lengths`` buckets in the model's tokens, each cut
    to the model's context."""

    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    # Row lengths in tokens (the whole chat-formatted row), taken in turn. The built-in models
    # have 256 (quick 128) to 512 tokens of context; the recipe's steps reach 128K (section 4).
    lengths: list[int] = positive(default_factory=lambda: [256, 512])
    # Rows per call: ceil(budget * share), at least min_rows (one per kind by default), so a
    # round offers the SFT mix about its long-context share; the mix enforces the share.
    share: float = fraction(RECIPE_SHARE)
    min_rows: int = non_negative(3)
    # Sections a document is split into (fewer when a short bucket holds too few sentences).
    chunks: int = ranged(4, min=2)
    # Installed packages whose source is the code-repository corpus (stdlib email: always there).
    packages: list[str] = field(default_factory=lambda: ["email"])
    min_dependents: int = ranged(5, min=1)
    # tokenizer.json or a tokenizer directory to size rows with; "" = the model being trained.
    tokenizer: str = ""
    # JSONL (``text`` field, .gz too) or text files; empty = the curated corpus when the stage
    # reads it, else Python's reference topics (pydoc_data; never the NIAH haystacks).
    documents: list[str] = field(default_factory=list)
    max_documents: int = positive(2000)
    seed: int = 0

    PROFILES: ClassVar[dict[str, dict]] = {
        "quick": {"lengths": [128, 256]},
        "full": {"lengths": [16384, 32768, 65536, 131072], "chunks": 16},
    }

    def validate(self, config, registry) -> list[str]:
        unknown = [k for k in self.kinds if k not in KINDS]
        problems = [f"synthesizers.long_context.kinds: unknown {', '.join(unknown)} (known: {', '.join(KINDS)})"] \
            if unknown else []
        if not self.kinds:
            problems.append(f"synthesizers.long_context.kinds is empty; name at least one of {', '.join(KINDS)}")
        return problems
