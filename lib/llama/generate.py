"""Sampling from herd's ``Llama`` with a KV cache, and the ``local`` and ``hf`` generation
backends (``protocols.Generator``).

``generate`` takes text prompts (special-token strings in them are honoured, so a prompt
rendered by ``herd.lib.chat.format.render_text`` gets a chat answer); ``chat`` takes typed
conversations, encodes them with ``ChatFormat`` on token ids and reads each turn back with
its tool call and finish reason (``<|eot_id|>``, ``<|eom_id|>`` or ``max_tokens``).

``generate_batch`` decodes many prompts at once: the prompts are left-padded to a common
length and each is prefilled once; its cache rows are then repeated for its ``n`` samples,
so one decode step advances every sample of every prompt in the batch. Padding keys are
masked and every row's positions count from its own first token, so a row computes what it
would alone (a test checks greedy decoding against the one-prompt path and Hugging Face).
Rows that finish (stop token or length) are dropped from the batch as they accumulate.
``stream_batch`` (``stream_ids`` for one prompt) runs the same decode loop and hands over
each step's tokens as they are sampled (``herd serve`` streams and batches them).

Decode steps (one token per row) run on ``DecodeWeights``, a decoding copy of the weights
made once per ``generate_batch`` call: each layer's q/k/v and gate/up projections fused and
every matrix stored transposed and contiguous, ``[in, out]``, so that a step is a few large
``x @ W`` products instead of many small ones, residual adds ride on ``addmm``, the rotary
tables and the padding mask are computed once per batch, and grouped-query attention reads
the cache without repeating keys. The prefill runs through ``Llama.hidden_states`` as before
and fills the same cache; a tensor-parallel model keeps the module path for every step.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from herd.core.errors import ConfigError, InputError
from herd.core.protocols import ChatReply, SamplingParams
from herd.core.records import ChatMessage
from herd.lib.chat.format import ChatFormat
from herd.lib.llama.config import HFGeneratorConfig, LocalGeneratorConfig
from herd.lib.llama.model import KVCache, Llama, _plain
from herd.lib.llama.tokenizer import BEGIN_OF_TEXT, Tokenizer


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator | None) -> torch.Tensor:
    """One token per row of ``logits`` (batch, vocab): greedy at temperature 0, else
    nucleus sampling over the smallest set of tokens whose probability reaches ``top_p``."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_p, order = probs.sort(dim=-1, descending=True)
        keep = sorted_p.cumsum(dim=-1) - sorted_p < top_p  # always keeps the top token
        sorted_p = sorted_p * keep
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_p)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class DecodeWeights:
    """A decoding view of a ``Llama``: per layer the norm weights, ``qkv`` (dim, q + k + v),
    ``o`` (q, dim), ``gate_up`` (dim, 2 * ffn) and ``down`` (ffn, dim), plus the final norm
    and the LM head (dim, vocab), all transposed copies. Built from the weights as they are
    now: a model trained afterwards needs a new view (``generate_batch`` builds one per call)."""

    def __init__(self, model: Llama):
        cfg = model.cfg
        self.eps, self.head_dim = cfg.norm_eps, cfg.head_dim
        self.inv_freq = model.inv_freq.float()
        self.embed = model.embed_tokens.weight

        def t(*weights: torch.Tensor) -> torch.Tensor:
            return torch.cat(weights).t().contiguous()

        self.layers = []
        for block in model.layers:
            a, m = block.self_attn, block.mlp
            self.layers.append((block.input_layernorm.weight, t(a.q_proj.weight, a.k_proj.weight, a.v_proj.weight),
                                a.q_proj.weight.shape[0], a.k_proj.weight.shape[0], t(a.o_proj.weight),
                                block.post_attention_layernorm.weight, t(m.gate_proj.weight, m.up_proj.weight),
                                t(m.down_proj.weight)))
        self.norm = model.norm.weight
        self.head = t(model.lm_head.weight)

    @staticmethod
    def usable(model: Llama) -> bool:
        """Plain tensors only (a tensor-parallel model keeps the module path)."""
        return _plain(*model.parameters())

    def rope_table(self, length: int, dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin (length, head_dim) of positions 0..length-1, computed as
        ``Llama.hidden_states`` does."""
        freqs = torch.arange(length, device=self.inv_freq.device).float()[:, None] * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def step(self, tokens: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, bias: torch.Tensor,
             cache: KVCache, pos: int) -> torch.Tensor:
        """Logits (rows, vocab) of one new token per row at cache position ``pos``;
        ``cos``/``sin`` (rows, head_dim) are the rows' own positions, ``bias`` (rows, 1, 1,
        pos + 1) is 0 for keys a row attends to and -inf for its left padding."""
        b, hd = tokens.shape[0], self.head_dim
        x = F.embedding(tokens, self.embed)
        cos, sin = cos[:, None], sin[:, None]
        half = hd // 2
        for i, (norm1, qkv_w, nq, nkv, o_w, norm2, gu_w, down_w) in enumerate(self.layers):
            h = _rms_norm(x, norm1, self.eps)
            qkv = h @ qkv_w
            qk = qkv[:, : nq + nkv].view(b, -1, hd)  # rotary embedding on q and k heads at once
            qk = qk * cos + torch.cat((-qk[..., half:], qk[..., :half]), dim=-1) * sin
            kv_heads = nkv // hd
            k_cache, v_cache = cache.k[i], cache.v[i]
            k_cache[:b, :, pos] = qk[:, nq // hd :]
            v_cache[:b, :, pos] = qkv[:, nq + nkv :].view(b, kv_heads, hd)
            # Grouped-query attention without repeating keys: the query heads that share a
            # key/value head are that head's queries.
            q = qk[:, : nq // hd].reshape(b, kv_heads, -1, hd)
            y = F.scaled_dot_product_attention(q, k_cache[:b, :, : pos + 1], v_cache[:b, :, : pos + 1],
                                               attn_mask=bias)
            x = torch.addmm(x, y.reshape(b, nq), o_w)
            h = _rms_norm(x, norm2, self.eps)
            gate, up = (h @ gu_w).chunk(2, dim=-1)
            x = torch.addmm(x, F.silu(gate) * up, down_w)
        return _rms_norm(x, self.norm, self.eps) @ self.head


def _rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """``model.RMSNorm`` without autograd, the same arithmetic for every dtype."""
    if x.dtype == torch.float32:
        return F.rms_norm(x, (x.shape[-1],), weight, eps)
    h = x.float()
    return weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


def _cut(row: list[int], stop_ids: tuple[int, ...], keep_stop: bool = False) -> list[int]:
    cut = next((i for i, t in enumerate(row) if t in stop_ids), None)
    if cut is None:
        return row
    return row[: cut + 1] if keep_stop else row[:cut]


@torch.inference_mode()
def check_prompts(prompts: list[list[int]], limit: int) -> None:
    """``ValueError`` naming the first prompt that is empty or leaves no room for a new
    token below ``limit`` (the model's ``max_seq_len``)."""
    for i, p in enumerate(prompts):
        if not p:
            raise ValueError(f"prompt {i} is empty (at least one token, e.g. begin_of_text, is needed)")
        if len(p) >= limit:
            raise ValueError(f"prompt {i} of {len(p)} tokens leaves no room below max_seq_len {limit}")


def generate_batch(model: Llama, prompts: list[list[int]], n: int, max_tokens: int, temperature: float = 1.0,
                   top_p: float = 1.0, stop_ids: tuple[int, ...] = (), seed: int | None = None,
                   max_batch_rows: int = 64, keep_stop: bool = False) -> list[list[list[int]]]:
    """``n`` continuations (token ids, cut before the first stop id, or after it with
    ``keep_stop`` so that the caller sees which stop ended a row) of every prompt.

    A prompt leaves room for ``max_seq_len - len(prompt)`` new tokens at most; a prompt with
    no room raises ``ValueError`` naming it. Prompts are decoded in batches of up to
    ``max_batch_rows`` rows (``n`` rows per prompt), shortest first to keep padding low."""
    check_prompts(prompts, model.cfg.max_seq_len)
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    per_batch = max(1, max_batch_rows // max(n, 1))
    results: list[list[list[int]]] = [[] for _ in prompts]
    view = DecodeWeights(model) if DecodeWeights.usable(model) else None
    for lo in range(0, len(order), per_batch):
        group = order[lo : lo + per_batch]
        rows = _decode_group(model, view, [prompts[i] for i in group], n, max_tokens, temperature, top_p, stop_ids,
                             generator, device)
        for j, i in enumerate(group):
            results[i] = [_cut(r, stop_ids, keep_stop) for r in rows[j * n : (j + 1) * n]]
    return results


def _decode_group(model: Llama, view: DecodeWeights | None, prompts: list[list[int]], n: int, max_tokens: int,
                  temperature: float, top_p: float, stop_ids: tuple[int, ...], generator, device) -> list[list[int]]:
    """Generated ids of ``len(prompts) * n`` rows (prompt-major), uncut."""
    steps = _steps(model, prompts, max_tokens)
    out = torch.full((len(prompts) * n, max(steps, 0)), -1, dtype=torch.long, device=device)
    for step, rows, nxt in _decode_steps(model, view, prompts, n, max_tokens, temperature, top_p, stop_ids,
                                         generator, device):
        out[rows, step] = nxt
    return [[t for t in row if t >= 0] for row in out.tolist()]


def _steps(model: Llama, prompts: list[list[int]], max_tokens: int) -> int:
    """Decode steps of a group: its longest row budget (``max_tokens``, and never past the
    model's positions, counted per row)."""
    return max((min(max_tokens, model.cfg.max_seq_len - len(p)) for p in prompts), default=0)


def _decode_steps(model: Llama, view: DecodeWeights | None, prompts: list[list[int]], n: int, max_tokens: int,
                  temperature: float, top_p: float, stop_ids: tuple[int, ...], generator, device):
    """Per decode step, ``(step, rows, tokens)``: the token sampled for each output row still
    in the batch (rows that finished stay until they are a quarter of it, as their later
    tokens are cut anyway)."""
    cfg = model.cfg
    width = max(len(p) for p in prompts)
    budgets = torch.tensor([min(max_tokens, cfg.max_seq_len - len(p)) for p in prompts], device=device)
    steps = _steps(model, prompts, max_tokens)
    if steps <= 0:
        return
    pad_id = 0
    tokens = torch.tensor([[pad_id] * (width - len(p)) + p for p in prompts], device=device)
    left_pad = torch.tensor([width - len(p) for p in prompts], device=device)
    dtype = next(model.parameters()).dtype
    cache = KVCache.empty(cfg, len(prompts), width + steps, device=device, dtype=dtype)
    hidden = model.hidden_states(tokens, kv_cache=cache, left_pad=left_pad)
    logits = model.lm_head(hidden[:, -1])
    if n > 1:  # every prompt was prefilled once; its samples share that cache
        cache.select(torch.arange(len(prompts), device=device).repeat_interleave(n))
        logits, left_pad, budgets = (t.repeat_interleave(n, dim=0) for t in (logits, left_pad, budgets))
    total = logits.shape[0]
    rows = torch.arange(total, device=device)  # which output row each batch row is
    if view is not None:
        cos_table, sin_table = view.rope_table(width + steps, dtype)
        # 0 for the keys a row attends to, -inf for its left padding (a decode query sees
        # every real key up to itself, and the step reads keys up to itself only).
        keys = torch.arange(width + steps, device=device)
        bias = torch.zeros(total, 1, 1, width + steps, dtype=dtype, device=device)
        bias.masked_fill_((keys[None, :] < left_pad[:, None])[:, None, None], float("-inf"))
    stops = torch.tensor(stop_ids or [-1], device=device)
    for step in range(steps):
        nxt = sample_next(logits, temperature, top_p, generator)
        yield step, rows, nxt
        done = torch.isin(nxt, stops) | (budgets <= step + 1)
        if step + 1 >= steps or bool(done.all()):
            break
        if int(done.sum()) * 4 >= len(rows):  # drop finished rows once they are a quarter
            keep = (~done).nonzero().squeeze(1)
            rows, nxt, left_pad, budgets = rows[keep], nxt[keep], left_pad[keep], budgets[keep]
            cache.select(keep)
            if view is not None:
                bias = bias[keep]
        pos = width + step
        if view is not None:
            positions = pos - left_pad
            logits = view.step(nxt, cos_table[positions], sin_table[positions], bias[..., : pos + 1], cache, pos)
        else:
            hidden = model.hidden_states(nxt[:, None], kv_cache=cache, start_pos=pos, left_pad=left_pad)
            logits = model.lm_head(hidden[:, -1])


def stream_ids(model: Llama, prompt: list[int], n: int, max_tokens: int, temperature: float = 1.0,
               top_p: float = 1.0, stop_ids: tuple[int, ...] = (), seed: int | None = None
               ) -> Iterator[list[tuple[int, int]]]:
    """``generate_ids`` one step at a time, for a server that streams: per decode step, the
    ``(sample, token)`` pairs of the samples still going. A sample's last token is the stop
    id that ended it (if one did); the ids of each sample, gathered, are ``generate_ids(...,
    keep_stop)``'s, so a streamed answer equals the batch one (same seed, same draws).

    Closing the iterator early (a client gone, a deadline) stops the decoding."""
    return stream_batch(model, [prompt], n, max_tokens, temperature, top_p, stop_ids, seed)


@torch.inference_mode()
def stream_batch(model: Llama, prompts: list[list[int]], n: int, max_tokens: int, temperature: float = 1.0,
                 top_p: float = 1.0, stop_ids: tuple[int, ...] = (), seed: int | None = None
                 ) -> Iterator[list[tuple[int, int]]]:
    """``stream_ids`` for several prompts decoded as one batch (``generate_batch``'s left
    padding, so greedy rows equal their one-prompt decoding): per decode step the ``(row,
    token)`` pairs of the rows still going, row ``p * n + s`` being sample ``s`` of prompt
    ``p``. ``herd serve`` batches concurrent requests through it."""
    limit = model.cfg.max_seq_len
    check_prompts(prompts, limit)
    device = next(model.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed) if seed is not None else None
    view = DecodeWeights(model) if DecodeWeights.usable(model) else None
    budgets = [min(max_tokens, limit - len(p)) for p in prompts for _ in range(n)]
    finished: set[int] = set()
    for step, rows, nxt in _decode_steps(model, view, prompts, n, max_tokens, temperature, top_p, stop_ids,
                                         generator, device):
        live = [(r, t) for r, t in zip(rows.tolist(), nxt.tolist()) if r not in finished]
        for r, t in live:
            if t in stop_ids or step + 1 >= budgets[r]:
                finished.add(r)
        yield live
        if len(finished) == len(budgets):
            return


@torch.no_grad()
def generate_ids(model: Llama, prompt: list[int], n: int, max_tokens: int, temperature: float = 1.0,
                 top_p: float = 1.0, stop_ids: tuple[int, ...] = (), seed: int | None = None) -> list[list[int]]:
    """``n`` continuations of one ``prompt`` (token ids), each cut before its first stop id."""
    return generate_batch(model, [prompt], n, max_tokens, temperature, top_p, stop_ids, seed,
                          max_batch_rows=max(n, 1))[0]


def cut_at_stop(text: str, stop: list[str]) -> str:
    ends = [text.find(s) for s in stop if s and s in text]
    return text[: min(ends)] if ends else text


def stop_reply(reply: ChatReply, stop: list[str]) -> ChatReply:
    """``reply`` with its content cut at the first of ``stop`` (finish ``"stop"``)."""
    cut = cut_at_stop(reply.message.content, stop)
    if cut == reply.message.content:
        return reply
    return ChatReply(dataclasses.replace(reply.message, content=cut, tool_calls=[]), "stop")


class LocalGenerator:
    def __init__(self, model: Llama, tokenizer: Tokenizer, max_batch_rows: int = 64):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_batch_rows = max_batch_rows
        self.chat_format = ChatFormat.from_tokenizer(tokenizer)

    @classmethod
    def from_config(cls, cfg: LocalGeneratorConfig | None) -> "LocalGenerator":
        from herd.lib.llama.hf_io import load_model

        if cfg is None or not cfg.model_path:
            raise ConfigError("[generators.local] model_path is empty; set it to an exported model directory")
        path = Path(cfg.model_path)
        model = load_model(path).to(device=cfg.device, dtype=getattr(torch, cfg.dtype))
        return cls(model, Tokenizer.load(path), cfg.max_batch_rows)

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        tok = self.tokenizer
        encoded = [tok.encode(p, bos=not p.startswith(BEGIN_OF_TEXT), allow_special=True) for p in prompts]
        rows = self._sample(encoded, params, keep_stop=False)
        return [[cut_at_stop(tok.decode(r), params.stop) for r in samples] for samples in rows]

    def chat(self, conversations: list[list[ChatMessage]], params: SamplingParams) -> list[list[ChatReply]]:
        """Turns sampled on the ids of ``ChatFormat.encode_prompt``; each stops at its first
        ``<|eot_id|>`` (finish ``"end_of_turn"``), ``<|eom_id|>`` (``"end_of_message"``,
        its built-in tool call parsed) or at ``max_tokens`` (``"length"``)."""
        encoded = [self.chat_format.encode_prompt(c).ids for c in conversations]
        rows = self._sample(encoded, params, keep_stop=True)
        return [[stop_reply(self.chat_format.read_reply(r), params.stop) for r in samples] for samples in rows]

    def _sample(self, encoded: list[list[int]], params: SamplingParams, keep_stop: bool) -> list[list[list[int]]]:
        special = self.tokenizer.special
        stop_ids = (special.eot, special.eos, special.eom)
        # A prompt with no room left in the context gets no completions (protocols.Generator).
        ok = [i for i, ids in enumerate(encoded) if len(ids) < self.model.cfg.max_seq_len]
        rows = generate_batch(self.model, [encoded[i] for i in ok], params.n, params.max_tokens, params.temperature,
                              params.top_p, stop_ids, params.seed, self.max_batch_rows, keep_stop=keep_stop)
        results: list[list[list[int]]] = [[] for _ in encoded]
        for i, samples in zip(ok, rows):
            results[i] = samples
        return results


class HFGenerator:
    def __init__(self, cfg: HFGeneratorConfig | None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if cfg is None or not cfg.model_path:
            raise ConfigError("[generators.hf] model_path is empty; set it to a local transformers model directory")
        if not Path(cfg.model_path).is_dir():
            raise ConfigError(f"[generators.hf] model_path {cfg.model_path}: not a directory (nothing is downloaded)")
        self.model_path = cfg.model_path
        self.tokenizer = AutoTokenizer.from_pretrained(cfg.model_path)
        self.model = AutoModelForCausalLM.from_pretrained(cfg.model_path, dtype=getattr(torch, cfg.dtype))
        self.model.to(cfg.device).eval()
        self.device = cfg.device
        self.max_batch_rows = cfg.max_batch_rows
        self._chat_format: ChatFormat | None = None

    @property
    def chat_format(self) -> ChatFormat:
        if self._chat_format is None:
            try:
                self._chat_format = ChatFormat.from_tokenizer(self.tokenizer)
            except InputError as err:
                raise ConfigError(f"[generators.hf] {self.model_path}: chat needs the Llama 3 chat tokens ({err})") from None
        return self._chat_format

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        """All prompts left-padded into batches of ``max_batch_rows`` rows (``n`` per prompt),
        as ``generate`` is used for throughput; greedy decoding computes one row per prompt."""
        tok = self.tokenizer
        eos = [t for t in {tok.eos_token_id, tok.convert_tokens_to_ids("<|end_of_text|>")}
               if isinstance(t, int) and t >= 0]
        encoded = [tok(p, add_special_tokens=False)["input_ids"] for p in prompts]
        rows = self._sample(encoded, params, eos)
        return [[cut_at_stop(t, params.stop) for t in tok.batch_decode(samples, skip_special_tokens=True)]
                if samples else [] for samples in rows]

    def chat(self, conversations: list[list[ChatMessage]], params: SamplingParams) -> list[list[ChatReply]]:
        """As ``LocalGenerator.chat``: the ids of ``ChatFormat.encode_prompt``, each turn read
        back up to its ``<|eot_id|>``/``<|eom_id|>``/``<|end_of_text|>``."""
        fmt = self.chat_format
        stops = tuple(sorted(fmt.stop_ids))
        rows = self._sample([fmt.encode_prompt(c).ids for c in conversations], params, list(stops))
        return [[stop_reply(fmt.read_reply(_cut(r, stops, keep_stop=True)), params.stop) for r in samples]
                for samples in rows]

    @torch.no_grad()
    def _sample(self, encoded: list[list[int]], params: SamplingParams, eos: list[int]) -> list[list[list[int]]]:
        """New ids (up to ``max_tokens``, padding after a stop) of ``params.n`` samples per
        prompt; ``[]`` for a prompt longer than the model's context."""
        if params.seed is not None:
            torch.manual_seed(params.seed)
        tok = self.tokenizer
        tok.padding_side = "left"
        pad = tok.pad_token_id if tok.pad_token_id is not None else (eos[0] if eos else 0)
        sample = params.temperature > 0
        rows_per_prompt = params.n if sample else 1
        limit = getattr(self.model.config, "max_position_embeddings", None)
        ok = [i for i, ids in enumerate(encoded) if limit is None or len(ids) < limit]
        results: list[list[list[int]]] = [[] for _ in encoded]
        per_batch = max(1, self.max_batch_rows // rows_per_prompt)
        for lo in range(0, len(ok), per_batch):
            group = ok[lo : lo + per_batch]
            enc = tok.pad({"input_ids": [encoded[i] for i in group]}, return_tensors="pt").to(self.device)
            new = params.max_tokens if limit is None else min(params.max_tokens, limit - enc["input_ids"].shape[1])
            out = self.model.generate(
                **enc, max_new_tokens=max(1, new), do_sample=sample, num_return_sequences=rows_per_prompt,
                temperature=params.temperature if sample else None, top_p=params.top_p if sample else None,
                top_k=0 if sample else None, eos_token_id=eos or None, pad_token_id=pad,
            )
            new_ids = out[:, enc["input_ids"].shape[1]:].tolist()
            for j, i in enumerate(group):
                mine = new_ids[j * rows_per_prompt : (j + 1) * rows_per_prompt]
                results[i] = mine * (params.n if not sample else 1)
        return results
