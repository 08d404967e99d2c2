"""Multilingual SFT data (docs/recipe.md section 6): the shipped prompt set (French, German,
Spanish, Chinese, written for herd, with reference answers where checkable), native human
data, and rejection sampling in the prompt's language — a sample is kept only if the
language-match verifier passes it and it contains the reference answer, when there is one.
Without a generator the synthesizer yields prompt-only rows for another backend to answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from herd.core.errors import InputError
from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services, need_generator
from herd.plugins.multilingual.config import MultilingualPromptsConfig, RoundTripConfig
from herd.lib.language.detect import LanguageIdentifier
from herd.plugins.multilingual.language_match import LanguageMatch
from herd.plugins.multilingual.native import json_line, read_native
from herd.lib.language.units import normalize
from herd.plugins.multilingual.translate import translate_row

SHIPPED_PROMPTS = Path(__file__).resolve().parent / "data" / "prompts.jsonl"
# Short conversations written for herd in each shipped language (native, not translated).
SHIPPED_NATIVE = Path(__file__).resolve().parent / "data" / "native_sft.jsonl"


@dataclass
class Prompt:
    id: str
    language: str
    prompt: str
    reference: str | None = None
    target_language: str | None = None
    category: str = "general"
    split: str = "train"


def read_prompts(path: Path | None = None) -> list[Prompt]:
    path = Path(path) if path else SHIPPED_PROMPTS
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"prompt file {path} cannot be read: {exc}") from None
    prompts = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        data = json_line(line, path, number)
        missing = [k for k in ("id", "language", "prompt") if not isinstance(data.get(k), str)]
        if missing:
            raise InputError(f"{path}:{number}: prompt needs string fields {missing}")
        known = set(Prompt.__dataclass_fields__)
        prompts.append(Prompt(**{k: v for k, v in data.items() if k in known}))
    return prompts


def contains_reference(response: str, reference: str | None) -> bool:
    return reference is None or normalize(reference) in normalize(response)


def prompt_row(prompt: Prompt, response: str | None = None) -> SFTRow:
    messages = [ChatMessage("user", prompt.prompt)]
    if response is not None:
        messages.append(ChatMessage("assistant", response))
    metadata = {"prompt_id": prompt.id, "translated": False}
    if prompt.reference is not None:
        metadata["reference"] = prompt.reference
    if prompt.target_language:
        metadata["target_language"] = prompt.target_language
    if response is None:
        metadata["prompt_only"] = True
    return SFTRow(f"multilingual.{prompt.id}", messages, capability="multilingual", category=prompt.category,
                  language=prompt.language, source="herd.multilingual.prompts", metadata=metadata)


class MultilingualPrompts:
    def __init__(self, cfg: MultilingualPromptsConfig | None = None, services: Services | None = None):
        self.cfg = cfg or MultilingualPromptsConfig()
        # Without a model the prompts are yielded unanswered (prompt-only rows).
        self.generator = services.generator if services is not None else None
        self.verifier = LanguageMatch(identifier=LanguageIdentifier(self.cfg.lid))

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow]:
        """Up to ``budget`` rows: native data first (the shipped set when
        ``builtin_native``, then ``native_data``), then prompts (answered when a generator
        is present). Rejected samples go to ``workdir/multilingual_rejected.jsonl``."""
        emitted = 0
        languages = set(self.cfg.languages)
        shipped = [row for row in read_native(SHIPPED_NATIVE) if row.language in languages] if self.cfg.builtin_native else []
        for row in [*shipped, *(r for path in self.cfg.native_data for r in read_native(Path(path)))]:
            if emitted >= budget:
                return
            emitted += 1
            yield row
        prompts = [p for p in read_prompts(self.cfg.prompts_path or None) if p.language in languages and p.split == "train"]
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        with (workdir / "multilingual_rejected.jsonl").open("a", encoding="utf-8") as rejected:
            for prompt in prompts:
                if emitted >= budget:
                    return
                row = self._answer(prompt, rejected) if self.generator else prompt_row(prompt)
                if row is not None:
                    emitted += 1
                    yield row

    def _answer(self, prompt: Prompt, rejected) -> SFTRow | None:
        params = SamplingParams(temperature=self.cfg.temperature, max_tokens=self.cfg.max_tokens,
                                n=self.cfg.samples_per_prompt)
        samples = self.generator.generate([prompt.prompt], params)[0]
        for i, sample in enumerate(samples):
            row = prompt_row(prompt, sample)
            scores = {s.signal: s for s in self.verifier.score([row])[0]}
            if scores["pass"].value == 0.0:
                reason = scores["pass"].reason
            elif not contains_reference(sample, prompt.reference):
                reason = f"reference_missing: the answer does not contain {prompt.reference!r}"
            else:
                row.metadata["samples_tried"] = i + 1
                # None: too short to identify (e.g. "Ottawa."), accepted on its reference.
                row.scores["language_match.pass"] = scores["pass"].value
                return row
            rejected.write(json.dumps({"prompt_id": prompt.id, "sample": i, "reason": reason, "response": sample},
                                      ensure_ascii=False) + "\n")
        return None


class RoundTripTranslation:
    """Translated copies of English SFT rows, kept only when the round trip passes.

    Translation is opt-in data (the recipe uses it sparingly): with no ``source_path``
    the synthesizer yields no rows and says so in ``workdir/round_trip_translation.json``,
    so that a run with the multilingual plugin active does not need a source to exist."""

    def __init__(self, cfg: RoundTripConfig | None = None, services: Services | None = None):
        self.cfg = cfg or RoundTripConfig()
        self.generator = None
        if self.cfg.source_path:
            if not Path(self.cfg.source_path).is_file():
                raise InputError(f"[synthesizers.round_trip_translation] source_path {self.cfg.source_path} is not a file")
            self.generator = need_generator(services, "synthesizer 'round_trip_translation'", "it translates")
        self.identifier = LanguageIdentifier(self.cfg.lid)

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow]:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        summary = {"source_path": self.cfg.source_path, "kept": 0, "rejected": 0}
        if not self.cfg.source_path:
            summary["note"] = "no source_path configured: no translated rows (set it to a JSONL of English SFT rows)"
            (workdir / "round_trip_translation.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
            return
        try:
            with (workdir / "translation_rejected.jsonl").open("a", encoding="utf-8") as rejected:
                for row in read_native(Path(self.cfg.source_path)):
                    for target in self.cfg.languages:
                        if summary["kept"] >= budget:
                            return
                        result = translate_row(row, target, self.generator, self.identifier,
                                               min_chrf=self.cfg.min_chrf, max_tokens=self.cfg.max_tokens)
                        if result.row is None:
                            summary["rejected"] += 1
                            rejected.write(json.dumps({"id": row.id, "target": target, "reason": result.reason}) + "\n")
                            continue
                        summary["kept"] += 1
                        yield result.row
        finally:
            (workdir / "round_trip_translation.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
