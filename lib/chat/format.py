"""The Llama 3.1 chat format (docs/recipe.md section 5, "Chat format"): the one place herd
renders a conversation, as token ids with loss masks (training), as ids of a prompt
(``LocalGenerator.chat``) and as text (backends that take text). The exported tokenizer's
chat template (``herd.lib.chat.template``) renders the same tokens for ``transformers``.

What this follows is Meta's Llama 3.1 prompt format (the model card "Llama 3.1 - Prompt
Formats" and ``llama_models/llama3/api/chat_format.py`` of meta-llama/llama-models)::

    <|begin_of_text|>                                                  (once, first)
    <|start_header_id|>{role}<|end_header_id|>\\n\\n{content}<|eot_id|>   (per message)
    <|start_header_id|>assistant<|end_header_id|>\\n\\n                    (generation prompt)

* Roles are ``system``, ``user``, ``assistant`` and ``ipython`` (a tool's result; ``tool``
  is accepted as an alias and rendered ``ipython``, as Meta's ``encode_header`` does).
* An assistant message's typed tool call (``ChatMessage.tool_calls``, one per message:
  Llama 3.1 calls one tool at a time) is rendered after its content:
  a built-in tool (``brave_search``, ``wolfram_alpha``) as
  ``<|python_tag|>brave_search.call(query="...")<|eom_id|>``; ``code_interpreter`` as
  ``<|python_tag|>{code}<|eom_id|>``; a custom tool as the JSON object
  ``{"name": ..., "parameters": {...}}`` ending ``<|eot_id|>`` (the model card's JSON
  tool calling: no ``<|python_tag|>``, end of turn). ``<|eom_id|>`` ("end of message")
  tells the executor the model waits for the tool's result (``herd.lib.chat.tools``).
* An assistant message *without* typed tool calls that is directly followed by an
  ``ipython`` message is a raw tool call (its content is the call as the model wrote it):
  ``<|python_tag|>{content}<|eom_id|>``, so data that does not type its calls still trains
  the model to stop for the result.
* The header's ``\\n\\n`` and the message content are tokenized separately, as Meta's
  ``encode_header``/``encode_content`` do, and content is always plain text: a user typing
  ``<|eot_id|>`` cannot forge a turn boundary.

Every encoding comes with two masks of the same length:

* ``loss``: the tokens a model is trained to produce — every assistant message's content,
  ``<|python_tag|>``, its tool call and its closing ``<|eot_id|>``/``<|eom_id|>`` (SFT
  trains on assistant tokens only);
* ``special``: the formatting tokens (header and end-of-turn) that the recipe's DPO masks
  out of the chosen and rejected log-probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from herd.core.errors import InputError
from herd.core.protocols import ChatReply
from herd.core.records import ChatMessage
from herd.lib.chat.tools import parse_builtin, parse_custom, render_call

BEGIN_OF_TEXT = "<|begin_of_text|>"
END_OF_TEXT = "<|end_of_text|>"
START_HEADER = "<|start_header_id|>"
END_HEADER = "<|end_header_id|>"
EOT = "<|eot_id|>"
EOM = "<|eom_id|>"
PYTHON_TAG = "<|python_tag|>"
SPECIAL_TOKENS = (BEGIN_OF_TEXT, END_OF_TEXT, START_HEADER, END_HEADER, EOT, EOM, PYTHON_TAG)
# The formatting tokens DPO masks (docs/recipe.md section 5, DPO change (1)): headers and terminators.
FORMATTING_TOKENS = (START_HEADER, END_HEADER, EOT, EOM)

ROLES = ("system", "user", "assistant", "ipython")
ROLE_ALIASES = {"tool": "ipython"}

# Why a model turn ended (``protocols.ChatReply.finish``).
FINISH_BY_TOKEN = {EOT: "end_of_turn", EOM: "end_of_message", END_OF_TEXT: "end_of_turn"}


@dataclass(frozen=True)
class Piece:
    """One run of the rendering: a special token (``special``: ``text`` is its name) or
    plain text; ``train``: in the loss; ``formatting``: masked by DPO."""

    text: str
    special: bool = False
    train: bool = False
    formatting: bool = False


def _tok(name: str, *, train: bool = False) -> Piece:
    return Piece(name, special=True, train=train, formatting=name in FORMATTING_TOKENS)


def header_pieces(role: str) -> list[Piece]:
    return [_tok(START_HEADER), Piece(role), _tok(END_HEADER), Piece("\n\n")]


def message_pieces(message: ChatMessage, index: int, *, train: bool, raw_tool_call: bool = False) -> list[Piece]:
    """A message's body after its header: content, tool call, terminator."""
    role = role_of(message, index)
    if message.tool_calls and role != "assistant":
        raise InputError(f"message {index} ({role}) has tool_calls; only assistant messages call tools")
    if len(message.tool_calls) > 1:
        raise InputError(f"message {index} has {len(message.tool_calls)} tool calls; Llama 3.1 makes one call "
                         "per message: split them into successive assistant messages with their ipython results")
    out = [Piece(message.content, train=train)] if message.content else []
    if message.tool_calls:
        call = render_call(message.tool_calls[0], f"message {index}")
        if call.builtin:
            return out + [_tok(PYTHON_TAG, train=train), Piece(call.text, train=train), _tok(EOM, train=train)]
        return out + [Piece(call.text, train=train), _tok(EOT, train=train)]
    if raw_tool_call:
        return [_tok(PYTHON_TAG, train=train)] + out + [_tok(EOM, train=train)]
    return out + [_tok(EOT, train=train)]


def dialog_pieces(messages: Sequence[ChatMessage], *, add_generation_prompt: bool = False,
                  train_assistant: bool = True) -> list[Piece]:
    """The whole rendering of a conversation (see the module docstring)."""
    roles = [role_of(m, i) for i, m in enumerate(messages)]
    out = [_tok(BEGIN_OF_TEXT)]
    for i, (message, role) in enumerate(zip(messages, roles)):
        raw_call = role == "assistant" and i + 1 < len(roles) and roles[i + 1] == "ipython"
        out += header_pieces(role)
        out += message_pieces(message, i, train=train_assistant and role == "assistant", raw_tool_call=raw_call)
    if add_generation_prompt:
        out += header_pieces("assistant")
    return out


def render_text(messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> str:
    """The conversation as text with the special tokens spelled out, for backends that take
    text (``protocols.Generator.generate``, an OpenAI completions endpoint). A tokenizer
    that honours special-token strings reads it as the tokens ``ChatFormat`` encodes, except
    that content holding special-token strings is then read as those tokens."""
    return "".join(p.text for p in dialog_pieces(messages, add_generation_prompt=add_generation_prompt))


def reply_message(content: str, call_text: str | None) -> ChatMessage:
    """A generated assistant turn as a typed message: ``call_text`` is what followed
    ``<|python_tag|>`` (a built-in call), else a content that is exactly a custom JSON call
    becomes that call."""
    if call_text is not None:
        return ChatMessage("assistant", content, tool_calls=[parse_builtin(call_text)])
    custom = parse_custom(content)
    if custom is not None:
        return ChatMessage("assistant", "", tool_calls=[custom])
    return ChatMessage("assistant", content)


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
    """Encodes the rendering with a tokenizer's Llama 3 special tokens.

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
        self._finish_by_id = {special_ids[t]: finish for t, finish in FINISH_BY_TOKEN.items()}

    @classmethod
    def from_tokenizer(cls, tokenizer: Any) -> "ChatFormat":
        """Adapt a Hugging Face tokenizer or herd's ``Tokenizer`` (``herd.lib.llama``)."""
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

    def encode_pieces(self, pieces: Iterable[Piece]) -> Encoded:
        out = Encoded()
        for piece in pieces:
            ids = [self.special_ids[piece.text]] if piece.special else self._encode(piece.text)
            out.add(ids, loss=piece.train, special=piece.formatting)
        return out

    def encode_dialog(self, messages: Sequence[ChatMessage], *, train_assistant: bool = True) -> Encoded:
        """A whole conversation; with ``train_assistant`` every assistant turn is in the loss."""
        return self.encode_pieces(dialog_pieces(messages, train_assistant=train_assistant))

    def encode_prompt(self, messages: Sequence[ChatMessage]) -> Encoded:
        """The context of a response: the dialog plus the assistant header (nothing trained)."""
        return self.encode_pieces(dialog_pieces(messages, add_generation_prompt=True, train_assistant=False))

    def encode_turn(self, message: ChatMessage) -> Encoded:
        """One assistant turn after ``encode_prompt``: content, tool call, terminator, all trained."""
        return self.encode_pieces(message_pieces(message, 0, train=True))

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
        """A plain-text assistant response after ``encode_prompt``: content and ``<|eot_id|>``."""
        return self.encode_turn(ChatMessage("assistant", text))

    def prompt_text(self, messages: Sequence[ChatMessage]) -> str:
        """The generation prompt as text (``render_text``), for backends that take text."""
        return render_text(messages, add_generation_prompt=True)

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

    def read_reply(self, ids: Sequence[int]) -> ChatReply:
        """A generated turn (ids after ``encode_prompt``, up to and including its terminator
        when it has one) as a typed reply: ``<|python_tag|>`` starts a built-in tool call;
        no terminator means the turn was cut at ``max_tokens`` (finish ``"length"``)."""
        if self._decode is None:
            raise InputError("this ChatFormat was built without a decode function")
        ids = [int(t) for t in ids]
        end = next((i for i, t in enumerate(ids) if t in self.stop_ids), None)
        finish = "length" if end is None else self._finish_by_id[ids[end]]
        body = ids if end is None else ids[:end]
        tag = self.special_ids[PYTHON_TAG]
        if tag in body:
            at = body.index(tag)
            message = reply_message(self._decode(body[:at]), self._decode(body[at + 1:]))
        else:
            message = reply_message(self._decode(body), None)
        return ChatReply(message, finish)


def role_of(message: ChatMessage, index: int) -> str:
    role = ROLE_ALIASES.get(message.role, message.role)
    if role not in ROLES:
        raise InputError(
            f"message {index} has role {message.role!r}; the Llama 3 chat format knows "
            f"{', '.join(ROLES)} (and 'tool' as an alias of 'ipython')"
        )
    return role
