"""The ``[curate]`` and ``[mix]`` config sections (defaults = the ``default`` profile)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from herd.core.components import Registry
from herd.core.config import Config, non_negative, one_of, positive
from herd.core.errors import ConfigError

# The recipe's order (docs/recipe.md section 1): extraction and cleaning -> rule-based filters ->
# de-duplication -> model-based filters. URL dedup runs before extraction because it only
# needs the URL and fetch time and saves extracting pages that are thrown away anyway.
# Language ID follows extraction so that every later rule knows the document's language
# and runs only on the languages it was made for.
DEFAULT_STEPS = [
    "url_blocklist",
    "url_dedup",
    "html_text",
    "language_id",
    "adult_keywords",
    "pii",
    "placeholder_text",
    "length",
    "gopher_repetition",
    "gopher_quality",
    "dirty_words",
    "exact_dedup",
    "minhash_dedup",
    "line_dedup",
    "token_kl",
    "quality_classifier",
    "domain_classifier",
]


@dataclass
class CurateConfig:
    """``[curate]``: what the ``curate`` stage and command read and how they run.

    ``inputs``: files or folders (folders are scanned recursively for files a source
    reads; a folder holding a Hugging Face dataset saved with ``save_to_disk`` is read as
    one dataset). Relative paths that do not exist under the current directory are looked
    up in the herd package, so the default finds the built-in corpus ``data/corpus``.
    ``steps``: ordered step names; a name is looked up in the extractors, filters and
    dedupers families (``family.name`` picks one explicitly).
    """

    inputs: list[str] = field(default_factory=lambda: ["data/corpus"])
    steps: list[str] = field(default_factory=lambda: list(DEFAULT_STEPS))
    # Also run the filters that active plugins register with ``default=True`` (appended).
    plugin_default_steps: bool = True
    executor: str = one_of("local", ("local", "ray"))  # "local" or "ray"
    workers: int = non_negative(0)  # processes of the local executor; 0 = every core
    shard_size: int = positive(5000)  # documents per shard: the unit of parallelism and of resume
    output_format: str = one_of("jsonl", ("jsonl", "parquet"))  # "jsonl" (kept/*.jsonl.gz) or "parquet"
    max_document_chars: int = positive(5_000_000)  # larger records are dropped at read time
    # Read only the first N records of every input file (0 = all): a quick look at a large
    # corpus. Records after the N-th are not read at all, so they are in no count.
    max_records_per_input: int = non_negative(0)
    dropped_text_chars: int = non_negative(20_000)  # text kept in dropped/ for inspection (truncated)
    on_step_error: str = one_of("drop", ("drop", "raise"))  # "drop": an exception in a step drops that record; "raise"
    keep_html: bool = False
    # Wall-clock seconds one document may spend in an extractor (HTML to text), enforced by
    # the worker from outside the parser; an overrun drops the page as ``<step>.timeout``.
    # Real pages take milliseconds; only pathological ones come near (herd's choice).
    extract_time_budget_s: float = positive(30.0)  # keep the raw HTML on kept records after extraction
    # Files inside input folders that no source reads: "report" lists them in funnel.json
    # and the log; "error" refuses to start.
    unread_files: str = one_of("report", ("report", "error"))
    ray_address: str = ""  # "" = the running Ray instance or a new local one; "auto"; "ray://host:10001"
    progress: bool = True  # progress bars on an interactive console

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {
        # the end-to-end test runs every stage in about a minute: a third of each file of
        # the built-in corpus (every source, domain and kind of junk is still in it)
        "quick": {"shard_size": 1000, "max_records_per_input": 120},
        "full": {"shard_size": 50_000},
    }

    def validate(self, config: Config, registry: Registry) -> list[str]:
        """Every step name resolves to a registered step, checked when the config loads so
        that a misspelt step stops the run before ``curate`` starts (with the closest name)."""
        from herd.plugins.curation.steps import resolve_steps

        try:
            resolve_steps(self.steps, registry, config.component, self.plugin_default_steps)
        except ConfigError as exc:
            return [str(exc)]
        return []


@dataclass
class MixConfig:
    """``[mix]``: the registered mixer that samples the curated corpus into the
    training mix (its own settings are ``[mixers.<name>]``)."""

    mixer: str = "domain_mix"
    shard_size: int = positive(50_000)  # documents per output file of mixed/
    output_format: str = "jsonl"

    PROFILES: ClassVar[dict[str, dict[str, Any]]] = {}
