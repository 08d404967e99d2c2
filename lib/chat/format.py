"""The Llama 3 chat format (RECIPE.md section 5, "Chat format") as token ids and masks.

A dialog is rendered as::

    <|begin_of_text|>
    <|start_header_id|>{role}<|end_header_id|>\\n\\n{content}<|eot_id|>   (per message)
    <|start_header_id|>assistant<|end_header_id|>\\n\\n                    (generation prompt)

Tool use follows Llama 3.1: the result of a tool comes back in an ``ipython`` message (the
role ``tool`` is accepted as an alias), and an assistant message directly followed by one is
a tool call: it starts with ``<|python_tag|>`` and ends with ``<|eom_id|>`` ("end of
message", the model expects the tool's answer) instead of ``<|eot_id|>``.

Message content is always tokenized as plain text, so a user typing ``<|eot_id|>`` cannot
forge a turn boundary. Every encoding comes with two masks of the same length:

* ``loss``: the tokens a model is trained to produce — every assistant message's content
  and its closing ``<|eot_id|>``/``<|eom_id|>`` (SFT trains on assistant tokens only);
* ``special``: the formatting tokens (header and end-of-turn) that the recipe's DPO masks
  out of the chosen and rejected log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from herd.core.errors import InputError
from herd.core.records import ChatMessage

BEGIN_OF_TEXT = "<|begin_of_text|>"
END_OF_TEXT = "<|end_of_text|>"
START_HEADER = "<|start_header_id|>"
END_HEADER = "<|end_header_id|>"
EOT = "<|eot_id|>"
EOM = "<|eom_id|>"
PYTHON_TAG = "<|python_tag|>"
SPECIAL_TOKENS = (BEGIN_OF_TEXT, END_OF_TEXT, START_HEADER, END_HEADER, EOT, EOM, PYTHON_TAG)
# The formatting tokens DPO masks (RECIPE.md section 5, DPO change (1)): headers and terminators.
FORMATTING_TOKENS = (START_HEADER, END_HEADER, EOT, EOM)

ROLES = ("system", "user", "assistant", "ipython")
ROLE_ALIASES = {"tool": "ipython"}


@dataclass
class Encoded:
    """Token ids with, per token, whether it is trained on and whether it is formatting."""

    ids: list[int] = field(default_factory=list)
    loss: list[bool] = field(default_factory=list)
    special: list[bool] = field(default_factory=list)

    def add(self, ids: Sequence[int], *, loss: bool, special: bool) -> None:
        self.ids.extend(ids)
        self.loss.extend([loss] * len(ids))
        self.special.extend([special] * len(ids))

    def __add__(self, other: "Encoded") -> "Encoded":
        return Encoded(self.ids + other.ids, self.loss + other.loss, self.special + other.special)

    def __len__(self) -> int:
        return len(self.ids)


class ChatFormat:
    """Renders conversations with a tokenizer's Llama 3 special tokens.

    ``encode`` turns plain text into ids (no special tokens added); ``special_ids`` maps
    each of ``SPECIAL_TOKENS`` to its id. ``decode`` is only needed to read generations.
    Build one from a tokenizer with ``ChatFormat.from_tokenizer``.
    """

    def __init__(
        self,
        encode: Callable[[str], list[int]],
        special_ids: dict[str, int],
        decode: Callable[[list[int]], str] | None = None,
    ):
        missing = [t for t in SPECIAL_TOKENS if t not in special_ids]
        if missing:
            raise InputError(
                f"the tokenizer lacks the Llama 3 chat tokens {', '.join(missing)}; post-training "
                "needs a tokenizer with the Llama 3 special tokens"
            )
        self._encode = encode
        self._decode = decode
        self.special_ids = dict(special_ids)
        self.formatting_ids = frozenset(special_ids[t] for t in FORMATTING_TOKENS)
        self.stop_ids = frozenset((special_ids[EOT], special_ids[EOM], special_ids[END_OF_TEXT]))

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> "ChatFormat":
        """Adapt a Hugging Face tokenizer or herd's ``Tokenizer`` (llama plugin)."""
        if hasattr(tokenizer, "convert_tokens_to_ids"):
            unk = getattr(tokenizer, "unk_token_id", None)
            ids = {}
            for token in SPECIAL_TOKENS:
                token_id = tokenizer.convert_tokens_to_ids(token)
                if token_id is not None and token_id != unk:
                    ids[token] = token_id
            return cls(
                lambda text: list(tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)),
                ids,
                lambda ids_: tokenizer.decode(ids_, skip_special_tokens=False),
            )
        inner = getattr(tokenizer, "inner", None)
        if inner is None or not hasattr(inner, "token_to_id"):
            raise InputError(
                f"cannot use tokenizer {type(tokenizer).__name__} for chat: it is neither a Hugging "
                "Face tokenizer nor herd's (herd.lib.llama.tokenizer.Tokenizer)"
            )
        ids = {t: inner.token_to_id(t) for t in SPECIAL_TOKENS if inner.token_to_id(t) is not None}
        # herd's encode treats special-token strings in text as plain text by default.
        return cls(lambda text: list(tokenizer.encode(text)), ids, tokenizer.decode)

    # ----- encoding -------------------------------------------------------------------

    def encode_text(self, text: str) -> list[int]:
        """Plain text to ids (special-token strings stay text)."""
        return self._encode(text)

    def _special(self, token: str) -> list[int]:
        return [self.special_ids[token]]

    def header(self, role: str) -> Encoded:
        out = Encoded()
        out.add(self._special(START_HEADER), loss=False, special=True)
        out.add(self._encode(role), loss=False, special=False)
        out.add(self._special(END_HEADER), loss=False, special=True)
        out.add(self._encode("\n\n"), loss=False, special=False)
        return out

    def body(self, content: str, *, train: bool, tool_call: bool = False) -> Encoded:
        """A message's content and its terminator; ``train`` puts both into the loss."""
        out = Encoded()
        if tool_call:
            out.add(self._special(PYTHON_TAG), loss=train, special=False)
        out.add(self._encode(content), loss=train, special=False)
        out.add(self._special(EOM if tool_call else EOT), loss=train, special=True)
        return out

    def encode_dialog(self, messages: Sequence[ChatMessage], *, train_assistant: bool = True) -> Encoded:
        """A whole conversation; with ``train_assistant`` every assistant turn is in the loss."""
        roles = [_role(m, i) for i, m in enumerate(messages)]
        out = Encoded()
        out.add(self._special(BEGIN_OF_TEXT), loss=False, special=False)
        for i, (message, role) in enumerate(zip(messages, roles)):
            tool_call = role == "assistant" and i + 1 < len(roles) and roles[i + 1] == "ipython"
            out = out + self.header(role)
            out = out + self.body(message.content, train=train_assistant and role == "assistant", tool_call=tool_call)
        return out

    def encode_prompt(self, messages: Sequence[ChatMessage]) -> Encoded:
        """The context of a response: the dialog plus the assistant header (nothing trained)."""
        return self.encode_dialog(messages, train_assistant=False) + self.header("assistant")

    def encode_turns(self, prompt: Sequence[ChatMessage], turns: Sequence[ChatMessage]) -> Encoded:
        """What follows ``encode_prompt(prompt)`` when the conversation goes on with ``turns``
        (an assistant turn first; tool results and later turns after it): every assistant
        message is in the loss, the rest is context."""
        if not turns or ROLE_ALIASES.get(turns[0].role, turns[0].role) != "assistant":
            raise InputError("a response must start with an assistant message")
        full = self.encode_dialog(list(prompt) + list(turns))
        start = len(self.encode_prompt(prompt))
        return Encoded(full.ids[start:], full.loss[start:], full.special[start:])

    def encode_response(self, text: str) -> Encoded:
        """One assistant response after ``encode_prompt``: content and ``<|eot_id|>``, trained."""
        return self.body(text, train=True)

    def prompt_text(self, messages: Sequence[ChatMessage]) -> str:
        """The generation prompt as text with special tokens spelled out, for backends that
        take text (``protocols.Generator``): the decoding of ``encode_prompt``."""
        if self._decode is None:
            raise InputError("this ChatFormat was built without a decode function")
        return self._decode(self.encode_prompt(messages).ids)

    # ----- decoding -------------------------------------------------------------------

    def response_text(self, ids: Iterable[int]) -> str:
        """Decode generated ids up to (not including) the first terminator."""
        if self._decode is None:
            raise InputError("this ChatFormat was built without a decode function")
        kept: list[int] = []
        for token in ids:
            if token in self.stop_ids:
                break
            kept.append(int(token))
        return self._decode(kept)


def _role(message: ChatMessage, index: int) -> str:
    role = ROLE_ALIASES.get(message.role, message.role)
    if role not in ROLES:
        raise InputError(
            f"message {index} has role {message.role!r}; the Llama 3 chat format knows "
            f"{', '.join(ROLES)} (and 'tool' as an alias of 'ipython')"
        )
    return role

