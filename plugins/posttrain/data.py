"""Post-training data: SFT rows and ranked preference rows, read from JSONL files or
Hugging Face datasets saved on disk, validated row by row.

Every invalid row is rejected with its file, row number and reason (``Rejection``);
nothing is silently skipped, so the counts in a round's report always add up.

SFT row::

    {"id": "...", "messages": [{"role": "user", "content": "..."}, ...],
     "capability": "general", "category": "general"}

Preference row (docs/recipe.md section 5, "Preference data") — the prompt, the responses ranked
best first, and a margin on the 4-level scale. The ranking can be given three ways::

    {"prompt": "..." | [messages], "edited": "...", "chosen": "...", "rejected": "...",
     "margin": 3 | "significantly better"}                      # any two or three of them
    {"prompt": ..., "responses": [{"text": "...", "rank": 1}, ...]}   # rank 1 is best
    {"prompt": ..., "responses": ["a", "b", "c"], "preferences": [[0, 1], [1, 2]]}
                                                  # [better, worse] index pairs, a total order

A response is a string (one assistant message) or a list of messages that starts with the
assistant (a trajectory: tool call, ``ipython`` result, final answer...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from herd.core.errors import InputError
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, ToolCall, text_response
from herd.lib.chat.rows import turns_text
from herd.plugins.posttrain.lengths import LengthPolicy, Limit

# The recipe's 4-level scale (docs/recipe.md section 5): index = margin value.
MARGIN_LEVELS = ("marginally better", "slightly better", "better", "significantly better")


@dataclass(frozen=True)
class Rejection:
    """Why one input row was not used. ``row`` is 1-based (the JSONL line number)."""

    source: str
    row: int
    reason: str

    def __str__(self) -> str:
        return f"{self.source} row {self.row}: {self.reason}"


@dataclass
class Loaded:
    """Valid rows and the rejections, in input order."""

    rows: list = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # each kept row's input row number


class RowError(ValueError):
    """A row-level problem; the loader turns it into a ``Rejection``."""


# ----- reading raw records ----------------------------------------------------------------


def read_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """Yield ``(row number, record or RowError)`` from a JSONL file or a dataset directory
    written by ``datasets.Dataset.save_to_disk``."""
    path = Path(path)
    if path.is_dir():
        yield from _read_hf_dataset(path)
        return
    if not path.exists():
        raise InputError(f"post-training data file {path} does not exist")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, RowError(f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(record, dict):
                yield number, RowError(f"expected a JSON object, got {type(record).__name__}")
                continue
            yield number, record


def _read_hf_dataset(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - datasets is a declared dependency
        raise InputError(f"{path} is a directory; reading Hugging Face datasets needs `datasets`") from exc
    try:
        dataset = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError) as exc:
        raise InputError(f"{path} is not a Hugging Face dataset saved with save_to_disk: {exc}") from exc
    if isinstance(dataset, datasets.DatasetDict):
        if "train" not in dataset:
            raise InputError(f"{path} holds splits {sorted(dataset)}; post-training reads the 'train' split")
        dataset = dataset["train"]
    for number, record in enumerate(dataset, start=1):
        yield number, dict(record)


# ----- SFT --------------------------------------------------------------------------------


def parse_messages(value: Any, what: str = "messages") -> list[ChatMessage]:
    if not isinstance(value, list) or not value:
        raise RowError(f"'{what}' must be a non-empty list of messages")
    messages = []
    for i, item in enumerate(value):
        if isinstance(item, ChatMessage):
            messages.append(item)
            continue
        if not isinstance(item, dict) or "role" not in item or "content" not in item:
            raise RowError(f"'{what}'[{i}] must be an object with 'role' and 'content'")
        role = item["role"]
        content = item["content"]
        if role not in ("system", "user", "assistant", "ipython", "tool"):
            raise RowError(f"'{what}'[{i}] has unknown role {role!r}")
        if not isinstance(content, str):
            raise RowError(f"'{what}'[{i}].content must be a string")
        messages.append(ChatMessage(role=role, content=content, name=item.get("name"),
                                    tool_calls=_tool_calls(item.get("tool_calls"), f"'{what}'[{i}]")))
    return messages


def _tool_calls(value: Any, where: str) -> list[ToolCall]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise RowError(f"{where}.tool_calls must be a list")
    calls = []
    for k, call in enumerate(value):
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise RowError(f"{where}.tool_calls[{k}] must be an object with a 'name'")
        arguments = call.get("arguments", {})
        if not isinstance(arguments, dict):
            raise RowError(f"{where}.tool_calls[{k}].arguments must be an object")
        calls.append(ToolCall(name=call["name"], arguments=arguments, id=call.get("id")))
    return calls


def parse_sft(record: dict[str, Any], default_id: str) -> SFTRow:
    messages = parse_messages(record.get("messages"))
    assistant = [m for m in messages if m.role == "assistant"]
    if not assistant:
        raise RowError("no assistant message: SFT trains on assistant tokens only")
    if any(not m.content.strip() for m in assistant):
        raise RowError("an assistant message is empty")
    if messages[-1].role != "assistant":
        raise RowError(f"the last message is from {messages[-1].role!r}, not the assistant")
    return SFTRow(
        id=str(record.get("id") or default_id),
        messages=messages,
        capability=str(record.get("capability") or "general"),
        category=str(record.get("category") or "general"),
        language=record.get("language"),
        source=record.get("source"),
        metadata=dict(record.get("metadata") or {}),
    )


def load_sft(path: Path) -> Loaded:
    out = Loaded()
    for number, record in read_records(path):
        try:
            if isinstance(record, RowError):
                raise record
            out.rows.append(parse_sft(record, f"{Path(path).name}:{number}"))
            out.numbers.append(number)
        except RowError as exc:
            out.rejected.append(Rejection(str(path), number, str(exc)))
    return out


# ----- preferences ------------------------------------------------------------------------


def parse_margin(value: Any) -> int:
    if value is None:
        return 1
    if isinstance(value, str):
        text = value.strip().lower()
        if text in MARGIN_LEVELS:
            return MARGIN_LEVELS.index(text)
        if text.isdigit():
            value = int(text)
        else:
            raise RowError(f"margin {value!r} is not one of {', '.join(MARGIN_LEVELS)} or 0-3")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise RowError(f"margin {value!r} is not an integer 0-3")
    if not 0 <= int(value) <= 3:
        raise RowError(f"margin {value} is outside the 4-level scale 0-3")
    return int(value)


def rank_responses(record: dict[str, Any]) -> list[list[ChatMessage]]:
    """The responses best first, from any of the three ranking forms."""
    named = [k for k in ("edited", "chosen", "rejected") if record.get(k) is not None]
    if named and "responses" in record:
        raise RowError("give either edited/chosen/rejected or 'responses', not both")
    if named:
        ranked = [record[k] for k in named]
        labels = named
    elif isinstance(record.get("responses"), list):
        ranked, labels = _ranked_list(record["responses"], record.get("preferences"))
    else:
        raise RowError("no responses: give edited/chosen/rejected or a 'responses' list")
    responses = [_response(value, str(label)) for label, value in zip(labels, ranked)]
    if len(responses) < 2:
        raise RowError(f"a preference needs at least two responses, got {len(responses)}")
    seen: dict[str, str] = {}
    for label, turns in zip(labels, responses):
        text = turns_text(turns).strip()
        if text in seen:
            raise RowError(f"responses {seen[text]} and {label} are identical: a tie")
        seen[text] = str(label)
    return responses


def _response(value: Any, label: str) -> list[ChatMessage]:
    """One response: a string (one assistant message) or messages starting with the assistant."""
    if isinstance(value, str):
        if not value.strip():
            raise RowError(f"response {label} is empty")
        return text_response(value)
    if not isinstance(value, list):
        raise RowError(f"response {label} is neither a string nor a list of messages")
    turns = parse_messages(value, f"response {label}")
    if turns[0].role != "assistant":
        raise RowError(f"response {label} starts with a {turns[0].role!r} message, not the assistant's")
    if turns[-1].role != "assistant":
        raise RowError(f"response {label} ends with a {turns[-1].role!r} message; the assistant answers last")
    if not turns_text(turns).strip():
        raise RowError(f"response {label} is empty")
    return turns


def _ranked_list(responses: list[Any], preferences: Any) -> tuple[list[str], list[str]]:
    if preferences is not None:
        return _order_from_pairs(responses, preferences)
    if all(isinstance(r, dict) for r in responses):
        ranks = []
        for i, r in enumerate(responses):
            if "text" not in r or "rank" not in r:
                raise RowError(f"responses[{i}] needs 'text' and 'rank'")
            if isinstance(r["rank"], bool) or not isinstance(r["rank"], int):
                raise RowError(f"responses[{i}].rank must be an integer")
            ranks.append(r["rank"])
        tied = sorted({k for k in ranks if ranks.count(k) > 1})
        if tied:
            raise RowError(f"ranking has ties at rank(s) {', '.join(map(str, tied))}")
        order = sorted(range(len(responses)), key=lambda i: ranks[i])
        return [responses[i]["text"] for i in order], [f"responses[{i}]" for i in order]
    if all(isinstance(r, (str, list)) for r in responses):
        return list(responses), [f"responses[{i}]" for i in range(len(responses))]
    raise RowError("'responses' must be all strings or message lists (ranked best first) or all {text, rank} objects")


def _order_from_pairs(responses: list[Any], pairs: Any) -> tuple[list[str], list[str]]:
    """Topologically sort ``[better, worse]`` pairs; cycles and incomplete orders are errors."""
    n = len(responses)
    if not isinstance(pairs, list):
        raise RowError("'preferences' must be a list of [better, worse] index pairs")
    worse: dict[int, set[int]] = {i: set() for i in range(n)}
    for k, pair in enumerate(pairs):
        if (
            not isinstance(pair, (list, tuple))
            or len(pair) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < n for x in pair)
        ):
            raise RowError(f"preferences[{k}] must be [better, worse] with indices 0..{n - 1}")
        better, lower = pair
        if better == lower:
            raise RowError(f"preferences[{k}] prefers response {better} to itself")
        worse[better].add(lower)
    indegree = {i: 0 for i in range(n)}
    for i in worse:
        for j in worse[i]:
            indegree[j] += 1
    order: list[int] = []
    frontier = [i for i in range(n) if indegree[i] == 0]
    while frontier:
        if len(frontier) > 1:
            raise RowError(
                f"preferences leave responses {sorted(frontier)} unordered (a tie); give a total order"
            )
        i = frontier.pop()
        order.append(i)
        for j in sorted(worse[i]):
            indegree[j] -= 1
            if indegree[j] == 0:
                frontier.append(j)
    if len(order) < n:
        cycle = sorted(set(range(n)) - set(order))
        raise RowError(f"preferences contain a cycle among responses {cycle}")
    return [responses[i] for i in order], [f"responses[{i}]" for i in order]


def parse_preference(record: dict[str, Any], default_id: str) -> PreferenceRow:
    prompt = record.get("prompt")
    if isinstance(prompt, str):
        if not prompt.strip():
            raise RowError("the prompt is empty")
        messages = [ChatMessage(role="user", content=prompt)]
    else:
        messages = parse_messages(prompt, "prompt")
    if messages[-1].role == "assistant":
        raise RowError("the prompt ends with an assistant message; responses follow a user turn")
    return PreferenceRow(
        id=str(record.get("id") or default_id),
        prompt=messages,
        responses=rank_responses(record),
        margin=parse_margin(record.get("margin")),
        capability=str(record.get("capability") or "general"),
        round=int(record.get("round") or 0),
        metadata=dict(record.get("metadata") or {}),
    )


def load_preferences(path: Path) -> Loaded:
    out = Loaded()
    for number, record in read_records(path):
        try:
            if isinstance(record, RowError):
                raise record
            out.rows.append(parse_preference(record, f"{Path(path).name}:{number}"))
            out.numbers.append(number)
        except RowError as exc:
            out.rejected.append(Rejection(str(path), number, str(exc)))
    return out


# ----- length checks (need the tokenizer) -------------------------------------------------


def check_lengths(loaded: Loaded, chat: Any, max_len: int | LengthPolicy, source: str = "rows") -> Loaded:
    """Reject rows that do not fit their length limit (``max_len`` for every row, or a
    ``lengths.LengthPolicy`` per row), each with a reason: ``prompt_too_long`` when the
    prompt alone fills it (no room for a response), ``too_long`` when the whole row (SFT:
    the dialog; preference: the prompt and its longest response) is longer. Trainers never
    truncate a kept row, so this is the only place rows are lost for length."""
    kept = Loaded(rejected=list(loaded.rejected))
    numbers = loaded.numbers or list(range(1, len(loaded.rows) + 1))
    for number, row in zip(numbers, loaded.rows):
        limit = Limit(max_len, "max_len") if isinstance(max_len, int) else max_len.limit(row)
        prompt_len, full_len = row_lengths(chat, row)
        if prompt_len >= limit.tokens:
            reason = f"prompt_too_long: row {row.id}: prompt is {prompt_len} tokens, the context is {limit.tokens} ({limit.origin})"
        elif full_len > limit.tokens:
            reason = f"too_long: row {row.id}: {full_len} tokens, its limit is {limit.tokens} ({limit.origin})"
        else:
            kept.rows.append(row)
            kept.numbers.append(number)
            continue
        kept.rejected.append(Rejection(source, number, reason))
    return kept


def row_lengths(chat: Any, row: SFTRow | PreferenceRow) -> tuple[int, int]:
    """(prompt tokens, whole-row tokens) as the trainers encode the row."""
    if isinstance(row, PreferenceRow):
        prompt_len = len(chat.encode_prompt(row.prompt))
        return prompt_len, prompt_len + max(len(chat.encode_turns(row.prompt, r)) for r in row.responses)
    last_assistant = max(i for i, m in enumerate(row.messages) if m.role == "assistant")
    return len(chat.encode_prompt(row.messages[:last_assistant])), len(chat.encode_dialog(row.messages))


# ----- writing ----------------------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
