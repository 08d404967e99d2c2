"""The record types that flow between stages.

One record type flows through curation (``Document``, as datatrove's does); a step that
removes a record returns a ``Drop`` and the runner, not the step, writes it to
``dropped/`` so that every input record ends kept or dropped with a reason.
Post-training rows (``ChatMessage``, ``SFTRow``, ``PreferenceRow``) are defined here
too because several plugin families (synthesizers, judges, trainers) exchange them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Any


@dataclass
class Document:
    """A pretraining document.

    ``text`` is empty until extraction when the source only had ``html``.
    ``scores`` holds numeric signals that steps add (quality, KL divergence, language
    confidence...), keyed ``"<step>.<signal>"`` so their origin is always known.
    """

    id: str
    text: str = ""
    html: str | None = None
    url: str | None = None
    fetch_time: str | None = None
    language: str | None = None
    source: str | None = None
    domain: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v not in (None, {}) or k in ("id", "text")}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        known = {f for f in cls.__dataclass_fields__}
        extra = {k: v for k, v in data.items() if k not in known}
        kwargs = {k: v for k, v in data.items() if k in known}
        doc = cls(**kwargs)
        if extra:
            doc.metadata = {**extra, **doc.metadata}
        return doc


@dataclass(frozen=True)
class Drop:
    """A step's decision to remove a record: ``reason`` is a short machine-readable
    code (``"gopher_repetition.top_2gram"``), ``detail`` a human-readable explanation."""

    reason: str
    detail: str = ""


@dataclass
class DroppedRecord:
    """What ``dropped/`` holds for each removed record."""

    id: str
    stage: str
    step: str
    reason: str
    detail: str = ""
    text: str = ""
    source_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ToolCall:
    """One call the model makes: ``name`` of the tool and its ``arguments``. ``id`` pairs a
    call with its result (OpenAI's ``tool_call_id``) where the caller needs it."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass
class ChatMessage:
    """One message of a Llama 3.1 conversation.

    Roles: ``system``, ``user``, ``assistant`` and ``ipython`` (a tool's result; ``tool``
    is accepted as an alias). An assistant message may carry typed ``tool_calls``; the one
    chat format (``herd.lib.chat``) renders them (built-in tools after ``<|python_tag|>``,
    custom tools as JSON) so that no plugin formats tokens itself. ``name`` names the tool
    whose result an ``ipython`` message holds."""

    role: str
    content: str
    name: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form herd writes (OpenAI-like: empty fields left out)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls:
            out["tool_calls"] = [asdict(call) for call in self.tool_calls]
        return out


def text_response(text: str) -> list[ChatMessage]:
    """A one-turn response: the assistant message ``text`` (what most preference rows hold)."""
    return [ChatMessage("assistant", text)]


# The ``SFTRow.scores`` key of the reward model's score of a row: rejection sampling writes
# it, the quality judge's top-quartile signal (docs/recipe.md section 5) reads it.
REWARD_SCORE = "reward_model.score"


@dataclass
class SFTRow:
    """A supervised fine-tuning example. ``capability`` and ``category`` drive the SFT mix
    report (docs/recipe.md section 5); ``scores`` holds judge outputs keyed ``"<judge>.<signal>"``."""

    id: str
    messages: list[ChatMessage]
    capability: str = "general"
    category: str = "general"
    language: str | None = None
    source: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    # The SFT funnel's labels (docs/recipe.md section 5, "Data quality"), set by its judges:
    # the coarse topic, the quality quartile of the reward model's score among the round's
    # rows (4 = top quartile = high quality) and the difficulty (1 easy, 2 medium, 3 hard).
    topic: str | None = None
    quality: int | None = None
    difficulty: int | None = None


@dataclass
class PreferenceRow:
    """A preference example: ``responses`` ranked best first (edited > chosen > rejected,
    any subset of them); each response is the list of messages that follows ``prompt``:
    one assistant message (``text_response``) or a whole trajectory (model turn, tool
    result, model turn...); ``margin`` on the recipe's 4-level scale
    (0 marginally, 1 slightly, 2 better, 3 significantly better)."""

    id: str
    prompt: list[ChatMessage]
    responses: list[list[ChatMessage]]
    margin: int = 1
    capability: str = "general"
    round: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trajectory:
    """One rollout of a prompt: the messages after ``prompt`` in order (the model's turns and
    the environments' answers), and how it ended: ``"end_of_turn"`` (the model ended its
    turn with ``<|eot_id|>``), ``"step_cap"`` (the rollout hit its step limit), ``"length"``
    (a turn hit ``max_tokens``) or ``"generation_failed"``."""

    prompt: list[ChatMessage]
    turns: list[ChatMessage] = field(default_factory=list)
    finish: str = "end_of_turn"

    @property
    def messages(self) -> list[ChatMessage]:
        return self.prompt + self.turns
