"""The ``tool_use`` synthesizer: templated trajectories (``tasks.py``) executed for real and
kept only when every call parses, validates against its schema and runs (issue 19; the
recipe drops about 30% of its synthetic tool trajectories at this check). Dropped drafts
and their reasons go to ``tool_use_dropped.jsonl``, the counts to ``tool_use.json``."""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

from herd.core.records import ChatMessage, SFTRow
from herd.core.services import Services
from herd.plugins.tools.builtin.maths import maths_tool
from herd.plugins.tools.builtin.python import UploadedFiles, python_tool
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.environment import CAPABILITY
from herd.plugins.tools.parsing import Calls, MalformedCall, NoCall, parse_text
from herd.plugins.tools.prompt_tools import METADATA_KEY, PromptTools, alias_tool
from herd.plugins.tools.registry import ToolBox
from herd.plugins.tools.tasks import TEMPLATES, Draft, Results

@dataclass(frozen=True)
class DroppedDraft:
    id: str
    category: str
    reason: str
    detail: str


class ToolUseSynthesizer:
    def __init__(self, cfg: ToolsConfig | None, services: Services):
        self.cfg = cfg or ToolsConfig()
        self.services = services

    def synthesize(self, budget: int, workdir: Path) -> Iterator[SFTRow]:
        rng = random.Random(self.cfg.seed)
        drafts = [TEMPLATES[i % len(TEMPLATES)](rng, i) for i in range(max(0, min(budget, self.cfg.drafts)))]
        kept, dropped = self.execute(drafts)
        workdir.mkdir(parents=True, exist_ok=True)
        counts: dict[str, Any] = {"drafts": len(drafts), "kept": len(kept), "dropped": len(dropped),
                                  "dropped_by_reason": {}}
        for drop in dropped:
            counts["dropped_by_reason"][drop.reason] = counts["dropped_by_reason"].get(drop.reason, 0) + 1
        (workdir / "tool_use.json").write_text(json.dumps(counts, indent=2, sort_keys=True))
        with (workdir / "tool_use_dropped.jsonl").open("w", encoding="utf-8") as handle:
            for drop in dropped:
                handle.write(json.dumps(asdict(drop), ensure_ascii=False) + "\n")
        yield from kept

    def execute(self, drafts: list[Draft]) -> tuple[list[SFTRow], list[DroppedDraft]]:
        """Each draft run for real: its row, or why it was dropped."""
        kept, dropped = [], []
        for draft in drafts:
            outcome = self._run(draft)
            (kept if isinstance(outcome, SFTRow) else dropped).append(outcome)
        return kept, dropped

    def _toolbox(self, draft: Draft) -> ToolBox:
        """The draft's offered tools only: its built-ins and its generated functions."""
        executors = {tool.name: tool for tool in (
            maths_tool(self.cfg.maths_timeout_s),
            python_tool(self.services.open_sandbox, UploadedFiles(dict(draft.files)), self.cfg.code_timeout_s or None))}
        box = ToolBox([executors[b] for b in draft.builtins], max_output_chars=self.cfg.max_output_chars)
        for definition in draft.functions:
            box.add(alias_tool(definition, executors[draft.aliases[definition.name]]), origin=f"draft {draft.id}")
        return box

    def _run(self, draft: Draft) -> SFTRow | DroppedDraft:
        box = self._toolbox(draft)
        messages = [ChatMessage("system", draft.system), ChatMessage("user", draft.user)]
        results: Results = []
        for turn, write in enumerate(draft.turns, 1):
            text = write(results)
            parsed = parse_text(text, box.names, self.cfg.max_calls)
            if isinstance(parsed, NoCall):
                return DroppedDraft(draft.id, draft.category, "no_call", f"turn {turn} calls no tool: {text[:200]!r}")
            if isinstance(parsed, MalformedCall):
                return DroppedDraft(draft.id, draft.category, "malformed_call", f"turn {turn}: {parsed.reason}")
            outcomes = [box.call(call) for call in parsed.calls]
            failed = next((o for o in outcomes if not o.ok), None)
            if failed is not None:
                return DroppedDraft(draft.id, draft.category, failed.reason, f"turn {turn}: {failed.output[:300]}")
            messages.append(_assistant_turn(parsed, text))
            messages += [o.message() for o in outcomes]
            results.append(outcomes)
        try:
            answer = draft.answer(results)
        except (IndexError, ValueError, TypeError) as exc:
            return DroppedDraft(draft.id, draft.category, "answer_failed", f"{type(exc).__name__}: {exc}")
        messages.append(ChatMessage("assistant", answer))
        return SFTRow(draft.id, messages, capability=CAPABILITY, category=draft.category, source="tool_use",
                      metadata={"tools": box.names, "calls": sum(len(r) for r in results),
                                METADATA_KEY: PromptTools(list(draft.functions), dict(draft.aliases),
                                                          dict(draft.files)).to_metadata()})


def _assistant_turn(parsed: Calls, text: str) -> ChatMessage:
    """One call: typed (the chat format renders it as Llama 3.1 does); several: the raw call
    list, which the chat format renders after <|python_tag|> since ipython results follow."""
    if len(parsed.calls) == 1:
        return ChatMessage("assistant", parsed.content, tool_calls=list(parsed.calls))
    return ChatMessage("assistant", text)

