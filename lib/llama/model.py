"""The Llama 3 model in one file (docs/recipe.md section 2).

A dense decoder-only Transformer: RMSNorm, SwiGLU feed-forward, rotary position embeddings
with base 500,000 (and Llama 3.1's frequency scaling for long context), grouped-query
attention with ``n_kv_heads`` key/value heads, no biases, untied output head.

``forward(tokens, doc_ids=...)`` takes the document id of every token of a packed sequence
and restricts attention so that a token only sees earlier tokens *of its own document*
(docs/recipe.md section 2; on a CPU per document, ``packed_attention``, else with a mask); positions restart at every document, so a packed row computes
exactly what each document would alone.

``forward(tokens, ..., labels=...)`` returns the summed training loss with the LM head fused
into the cross-entropy (``fused_loss``); in training the q/k/v and gate/up projections run as
one matrix product each (same weights, same names). Batched generation passes ``left_pad``
and a ``KVCache``.

Weight names and the rotary layout (``rotate_half``) match Hugging Face's
``LlamaForCausalLM`` one to one, which makes ``hf_io`` a renaming. There is no distributed
code here: ``herd.lib.training.parallelize`` shards this model from outside.
Head counts are recovered from tensor shapes (``view(..., -1, head_dim)``) so that a
tensor-parallel shard with fewer local heads runs the same code.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from herd.lib.llama.packed_attention import PackedDocuments


@dataclass
class RopeScaling:
    """Llama 3.1's RoPE frequency scaling (the ``llama3`` rope type): wavelengths longer
    than ``original_max_position_embeddings / low_freq_factor`` are slowed by ``factor``,
    shorter than ``.../high_freq_factor`` are kept, and the band between is interpolated."""

    factor: float = 8.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0
    original_max_position_embeddings: int = 8192


@dataclass
class LlamaConfig:
    dim: int = 64
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: int = 2
    ffn_dim: int = 192
    vocab_size: int = 512
    rope_theta: float = 500000.0
    rope_scaling: RopeScaling | None = None
    max_seq_len: int = 256
    norm_eps: float = 1e-5
    tie_embeddings: bool = False
    init_std: float = 0.02

    def __post_init__(self) -> None:
        if isinstance(self.rope_scaling, dict):
            self.rope_scaling = RopeScaling(**self.rope_scaling)
        if self.dim % self.n_heads:
            raise ValueError(f"LlamaConfig: dim {self.dim} is not divisible by n_heads {self.n_heads}")
        if self.n_heads % self.n_kv_heads:
            raise ValueError(f"LlamaConfig: n_heads {self.n_heads} is not a multiple of n_kv_heads {self.n_kv_heads}")

    @property
    def head_dim(self) -> int:
        return self.dim // self.n_heads

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "LlamaConfig":
        return cls(**data)

    def num_params(self, embeddings: bool = True) -> int:
        """Parameter count from the shapes alone (no tensors built)."""
        d, kv = self.dim, self.n_kv_heads * self.head_dim
        attention = d * d * 2 + d * kv * 2
        layer = attention + 3 * d * self.ffn_dim + 2 * d
        total = self.n_layers * layer + d
        if embeddings:
            total += self.vocab_size * d * (1 if self.tie_embeddings else 2)
        elif not self.tie_embeddings:
            total += self.vocab_size * d  # the output head is a matmul, not a lookup
        return total

    def flops_per_token(self, seq_len: int) -> float:
        """Training FLOPs per token: 6N for the weights (forward + backward) plus the
        attention score and value matmuls, 12 * layers * dim * seq_len (PaLM, appendix B).
        Causal masking halves the useful attention work; this counts the full square, as
        MFU is usually reported."""
        return 6 * self.num_params(embeddings=False) + 12 * self.n_layers * self.dim * seq_len


# Named sizes. 8B/70B/405B are docs/recipe.md section 2 (128K vocabulary, 8 KV heads);
# 1b is Llama 3.2 1B's shape (for GPU MFU runs); the small ones are for CPU runs.
SIZES: dict[str, LlamaConfig] = {
    "tiny": LlamaConfig(),
    "small": LlamaConfig(dim=128, n_layers=4, n_heads=4, n_kv_heads=2, ffn_dim=384, vocab_size=2048, max_seq_len=512),
    "base": LlamaConfig(dim=256, n_layers=6, n_heads=8, n_kv_heads=4, ffn_dim=768, vocab_size=8192, max_seq_len=1024),
    "1b": LlamaConfig(dim=2048, n_layers=16, n_heads=32, n_kv_heads=8, ffn_dim=8192, vocab_size=128256,
                      max_seq_len=8192, tie_embeddings=True),
    "8b": LlamaConfig(dim=4096, n_layers=32, n_heads=32, n_kv_heads=8, ffn_dim=14336, vocab_size=128256,
                      max_seq_len=131072, rope_scaling=RopeScaling()),
    "70b": LlamaConfig(dim=8192, n_layers=80, n_heads=64, n_kv_heads=8, ffn_dim=28672, vocab_size=128256,
                       max_seq_len=131072, rope_scaling=RopeScaling()),
    "405b": LlamaConfig(dim=16384, n_layers=126, n_heads=128, n_kv_heads=8, ffn_dim=53248, vocab_size=128256,
                        max_seq_len=131072, rope_scaling=RopeScaling()),
}


def config_for(size: str, **overrides: Any) -> LlamaConfig:
    """A named size with some fields replaced (``vocab_size`` to match a tokenizer...)."""
    if size not in SIZES:
        raise KeyError(f"unknown model size {size!r}; the sizes are {', '.join(SIZES)}")
    return replace(SIZES[size], **overrides)


def rope_frequencies(cfg: LlamaConfig) -> torch.Tensor:
    """Inverse frequencies of the rotary embedding, ``head_dim / 2`` of them."""
    inv_freq = 1.0 / (cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).float() / cfg.head_dim))
    s = cfg.rope_scaling
    if s is None:
        return inv_freq
    low_wavelen = s.original_max_position_embeddings / s.low_freq_factor
    high_wavelen = s.original_max_position_embeddings / s.high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq)
    smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor)
    smoothed = (1 - smooth) * scaled / s.factor + smooth * scaled
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, smoothed, scaled)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """``x``: (batch, seq, heads, head_dim); ``cos``/``sin``: (batch, seq, head_dim)."""
    cos, sin = cos.unsqueeze(2), sin.unsqueeze(2)
    return (x * cos + rotate_half(x) * sin).to(x.dtype)


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled() and x.dtype == torch.float32:
            # Inference: the one-kernel version (same result in float32; fewer dispatches
            # per decode step). Training keeps the explicit form, faster in backward on CPU.
            return F.rms_norm(x, (x.shape[-1],), self.weight, self.eps)
        h = x.float()
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(x.dtype)


@dataclass
class KVCache:
    """Keys and values of every layer for ``batch`` sequences of up to ``max_len`` tokens,
    laid out (batch, kv_heads, max_len, head_dim) so that the filled prefix is what
    attention reads, without a transpose or copy per step."""

    k: list[torch.Tensor] = field(default_factory=list)
    v: list[torch.Tensor] = field(default_factory=list)

    @classmethod
    def empty(cls, cfg: LlamaConfig, batch: int, max_len: int, device=None, dtype=torch.float32) -> "KVCache":
        shape = (batch, cfg.n_kv_heads, max_len, cfg.head_dim)
        return cls(
            k=[torch.zeros(shape, device=device, dtype=dtype) for _ in range(cfg.n_layers)],
            v=[torch.zeros(shape, device=device, dtype=dtype) for _ in range(cfg.n_layers)],
        )

    def select(self, rows: torch.Tensor) -> None:
        """Keep only batch rows ``rows`` (in that order): finished samples leave, or a
        prompt's rows are repeated for its samples."""
        self.k = [k.index_select(0, rows) for k in self.k]
        self.v = [v.index_select(0, rows) for v in self.v]


def _plain(*weights: torch.Tensor) -> bool:
    """True when every weight is an ordinary tensor (not a tensor-parallel DTensor shard)."""
    return all(type(w) in (torch.Tensor, nn.Parameter) for w in weights)


def _fuse(*weights: torch.Tensor) -> bool:
    """Whether to run several projections of one input as one matrix product of the
    concatenated weights: in training (small-N GEMMs waste a CPU's vector units; measured
    ~25% faster for the CPU-size models' attention projections), not without autograd,
    where decoding reads few rows and copying the weights every step would cost more."""
    return torch.is_grad_enabled() and _plain(*weights)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig, layer: int):
        super().__init__()
        self.layer, self.head_dim = layer, cfg.head_dim
        self.q_proj = nn.Linear(cfg.dim, cfg.n_heads * cfg.head_dim, bias=False)
        self.k_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.v_proj = nn.Linear(cfg.dim, cfg.n_kv_heads * cfg.head_dim, bias=False)
        self.o_proj = nn.Linear(cfg.n_heads * cfg.head_dim, cfg.dim, bias=False)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        wq, wk, wv = self.q_proj.weight, self.k_proj.weight, self.v_proj.weight
        if not _fuse(wq, wk, wv):
            return self.q_proj(x), self.k_proj(x), self.v_proj(x)
        qkv = F.linear(x, torch.cat((wq, wk, wv)))
        return qkv.split((wq.shape[0], wk.shape[0], wv.shape[0]), dim=-1)

    def forward(self, x, cos, sin, mask, kv_cache: KVCache | None, start_pos: int) -> torch.Tensor:
        """``mask``: None (causal), a boolean (batch, 1, queries, keys) mask, True = attend
        (with a cache the keys are the cache's first ``start_pos + t`` positions), or the
        ``PackedDocuments`` plan of a packed batch."""
        b, t, _ = x.shape
        q, k, v = self.project(x)
        q, k, v = q.view(b, t, -1, self.head_dim), k.view(b, t, -1, self.head_dim), v.view(b, t, -1, self.head_dim)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if isinstance(mask, PackedDocuments):
            return self.o_proj(mask.attention(q, k, v).reshape(b, t, -1))
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))
        if kv_cache is not None:
            kv_cache.k[self.layer][:b, :, start_pos : start_pos + t] = k
            kv_cache.v[self.layer][:b, :, start_pos : start_pos + t] = v
            k = kv_cache.k[self.layer][:b, :, : start_pos + t]
            v = kv_cache.v[self.layer][:b, :, : start_pos + t]
        gqa = q.shape[1] != k.shape[1]
        causal = mask is None and (kv_cache is None or start_pos == 0)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=gqa)
        return self.o_proj(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    """SwiGLU: ``down(silu(gate(x)) * up(x))``."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.up_proj = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.down_proj = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        wg, wu = self.gate_proj.weight, self.up_proj.weight
        if _fuse(wg, wu):
            gate, up = F.linear(x, torch.cat((wg, wu))).chunk(2, dim=-1)
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        return self.down_proj(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig, layer: int):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.self_attn = Attention(cfg, layer)
        self.post_attention_layernorm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.mlp = FeedForward(cfg)

    def forward(self, x, cos, sin, mask, kv_cache, start_pos) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, kv_cache, start_pos)
        return x + self.mlp(self.post_attention_layernorm(x))


def document_positions(doc_ids: torch.Tensor) -> torch.Tensor:
    """Position of every token inside its own document (restarts at each new id)."""
    b, t = doc_ids.shape
    idx = torch.arange(t, device=doc_ids.device).expand(b, t)
    starts = torch.ones_like(doc_ids, dtype=torch.bool)
    starts[:, 1:] = doc_ids[:, 1:] != doc_ids[:, :-1]
    start_idx = torch.where(starts, idx, torch.zeros_like(idx)).cummax(dim=1).values
    return idx - start_idx


def document_mask(doc_ids: torch.Tensor) -> torch.Tensor:
    """(batch, 1, seq, seq) boolean mask: causal and within one document (True = attend)."""
    t = doc_ids.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=doc_ids.device).tril()
    same = doc_ids[:, :, None] == doc_ids[:, None, :]
    return (same & causal).unsqueeze(1)


class Llama(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.layers = nn.ModuleList(Block(cfg, i) for i in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.lm_head = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed_tokens.weight
        self.register_buffer("inv_freq", rope_frequencies(cfg), persistent=False)
        self.init_weights()

    def init_weights(self) -> None:
        """Normal(0, init_std); residual output projections scaled by 1/sqrt(2 * layers)
        (GPT-2) so the residual stream's variance does not grow with depth."""
        std = self.cfg.init_std
        for name, p in self.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name.endswith(("o_proj.weight", "down_proj.weight")):
                nn.init.normal_(p, 0.0, std / math.sqrt(2 * self.cfg.n_layers))
            else:
                nn.init.normal_(p, 0.0, std)
        with torch.no_grad():
            self.inv_freq.copy_(rope_frequencies(self.cfg).to(self.inv_freq.device))

    def hidden_states(
        self,
        tokens: torch.Tensor,
        doc_ids: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
        start_pos: int = 0,
        left_pad: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The final normed hidden states (batch, seq, dim): what the LM head reads, and what
        a scalar reward head (``nn.Linear(dim, 1)``) reads too.

        ``left_pad`` (batch,) is for batched generation: row ``i`` starts with
        ``left_pad[i]`` padding tokens that no query attends to, and its positions count
        from its first real token."""
        b, t = tokens.shape
        mask = None
        if doc_ids is not None:
            if kv_cache is not None or left_pad is not None:
                raise ValueError("Llama: doc_ids cannot be combined with kv_cache / left_pad (generation is one "
                                 "document per row)")
            if doc_ids.shape != tokens.shape:
                raise ValueError(f"Llama: doc_ids shape {tuple(doc_ids.shape)} != tokens shape {tuple(tokens.shape)}")
            positions = document_positions(doc_ids)
            if not bool((doc_ids == doc_ids[:, :1]).all()):  # else plain causal attention, no mask
                # On a CPU, attention per document skips the masked-out blocks (see
                # packed_attention); GPUs keep the one masked kernel call per layer.
                plan = PackedDocuments.plan(doc_ids, self.cfg.dim) if tokens.device.type == "cpu" else None
                mask = plan if plan is not None else document_mask(doc_ids)
        else:
            index = torch.arange(start_pos, start_pos + t, device=tokens.device)
            positions = index.expand(b, t)
            if left_pad is not None:
                positions = (positions - left_pad[:, None]).clamp(min=0)
                keys = torch.arange(start_pos + t, device=tokens.device)
                # A real query sees the real keys up to itself; a padding query sees only
                # itself (a row with no key at all would make softmax NaN).
                real = keys[None, None, :] >= left_pad[:, None, None]
                causal = keys[None, None, :] <= index[None, :, None]
                mask = ((real & causal) | (keys[None, None, :] == index[None, :, None])).unsqueeze(1)
            elif kv_cache is not None and start_pos > 0:
                # Query i sits at start_pos + i and sees every cached key up to itself.
                keys = torch.arange(start_pos + t, device=tokens.device)
                mask = (keys[None, :] <= index[:, None]).view(1, 1, t, start_pos + t)
        freqs = positions[..., None].float() * self.inv_freq.float()
        emb = torch.cat((freqs, freqs), dim=-1)
        x = self.embed_tokens(tokens)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin, mask, kv_cache, start_pos)
        return self.norm(x)

    def forward(
        self,
        tokens: torch.Tensor,
        doc_ids: torch.Tensor | None = None,
        kv_cache: KVCache | None = None,
        start_pos: int = 0,
        labels: torch.Tensor | None = None,
        left_pad: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits (batch, seq, vocab) for ``tokens`` (batch, seq); with ``labels`` (batch,
        seq; -100 = not trained on) instead the *summed* next-token cross-entropy, computed
        without materialising the logits (``fused_loss.linear_cross_entropy``)."""
        hidden = self.hidden_states(tokens, doc_ids, kv_cache, start_pos, left_pad)
        if labels is None:
            return self.lm_head(hidden)
        from herd.lib.llama.fused_loss import linear_cross_entropy

        weight = self.lm_head.weight
        if not _plain(weight):  # tensor-parallel head: logits are a DTensor, use the plain loss
            logits = self.lm_head(hidden)
            return F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(), ignore_index=-100, reduction="sum")
        return linear_cross_entropy(hidden.flatten(0, 1), weight, labels.flatten())


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss over the labels that are not -100 (masked document boundaries,
    padding, prompt tokens)."""
    return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
