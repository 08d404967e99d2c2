"""Sampling from herd's ``Llama`` with a KV cache, and the ``local`` and ``hf`` generation
backends (``protocols.Generator``).

Prompts are text; special-token strings in them are honoured, so a prompt formatted with
``Tokenizer.format_chat(..., add_generation_prompt=True)`` gets a chat answer. The ``n``
samples of one prompt are decoded together as one batch sharing the prompt's prefill.
"""

from __future__ import annotations

from pathlib import Path

import torch

from herd.core.errors import ConfigError
from herd.core.protocols import SamplingParams
from herd.plugins.llama.config import HFGeneratorConfig, LocalGeneratorConfig
from herd.plugins.llama.model import KVCache, Llama
from herd.plugins.llama.tokenizer import BEGIN_OF_TEXT, Tokenizer


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


@torch.no_grad()
def generate_ids(model: Llama, prompt: list[int], n: int, max_tokens: int, temperature: float = 1.0,
                 top_p: float = 1.0, stop_ids: tuple[int, ...] = (), seed: int | None = None) -> list[list[int]]:
    """``n`` continuations of ``prompt`` (token ids), each cut before its first stop id."""
    device = next(model.parameters()).device
    limit = min(len(prompt) + max_tokens, model.cfg.max_seq_len)
    if len(prompt) >= limit:
        raise ValueError(f"prompt of {len(prompt)} tokens leaves no room below max_seq_len {model.cfg.max_seq_len}")
    generator = None
    if seed is not None:
        generator = torch.Generator(device=device).manual_seed(seed)
    dtype = next(model.parameters()).dtype
    cache = KVCache.empty(model.cfg, n, limit, device=device, dtype=dtype)
    tokens = torch.tensor(prompt, device=device).expand(n, -1)
    logits = model(tokens, kv_cache=cache)[:, -1]
    out = torch.empty(n, 0, dtype=torch.long, device=device)
    done = torch.zeros(n, dtype=torch.bool, device=device)
    stops = torch.tensor(stop_ids or [-1], device=device)
    for pos in range(len(prompt), limit):
        nxt = sample_next(logits, temperature, top_p, generator)
        out = torch.cat([out, nxt[:, None]], dim=1)
        done |= torch.isin(nxt, stops)
        if done.all() or pos + 1 >= limit:
            break
        logits = model(nxt[:, None], kv_cache=cache, start_pos=pos)[:, -1]
    results = []
    for row in out.tolist():
        cut = next((i for i, t in enumerate(row) if t in stop_ids), len(row))
        results.append(row[:cut])
    return results


def cut_at_stop(text: str, stop: list[str]) -> str:
    ends = [text.find(s) for s in stop if s and s in text]
    return text[: min(ends)] if ends else text


class LocalGenerator:
    def __init__(self, model: Llama, tokenizer: Tokenizer):
        self.model = model.eval()
        self.tokenizer = tokenizer

    @classmethod
    def from_config(cls, cfg: LocalGeneratorConfig | None) -> "LocalGenerator":
        from herd.plugins.llama.hf_io import load_model

        if cfg is None or not cfg.model_path:
            raise ConfigError("[generators.local] model_path is empty; set it to an exported model directory")
        path = Path(cfg.model_path)
        model = load_model(path).to(device=cfg.device, dtype=getattr(torch, cfg.dtype))
        return cls(model, Tokenizer.load(path))

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        tok = self.tokenizer
        stop_ids = (tok.special.eot, tok.special.eos, tok.special.eom)
        results = []
        for i, prompt in enumerate(prompts):
            ids = tok.encode(prompt, bos=not prompt.startswith(BEGIN_OF_TEXT), allow_special=True)
            if len(ids) >= self.model.cfg.max_seq_len:
                results.append([])  # no room to answer: the protocol's "no samples" signal
                continue
            seed = None if params.seed is None else params.seed + i
            rows = generate_ids(self.model, ids, params.n, params.max_tokens, params.temperature,
                                params.top_p, stop_ids, seed)
            results.append([cut_at_stop(tok.decode(r), params.stop) for r in rows])
        return results


class HFGenerator:
    def __init__(self, cfg: HFGeneratorConfig | None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if cfg is None or not cfg.model_path:
            raise ConfigError("[generators.hf] model_path is empty; set it to a local transformers model directory")
        if not Path(cfg.model_path).is_dir():
            raise ConfigError(f"[generators.hf] model_path {cfg.model_path}: not a directory (nothing is downloaded)")
        self.tokenizer = AutoTokenizer.from_pretrained(cfg.model_path)
        self.model = AutoModelForCausalLM.from_pretrained(cfg.model_path, dtype=getattr(torch, cfg.dtype))
        self.model.to(cfg.device).eval()
        self.device = cfg.device

    @torch.no_grad()
    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        if params.seed is not None:
            torch.manual_seed(params.seed)
        eos = [t for t in {self.tokenizer.eos_token_id, self.tokenizer.convert_tokens_to_ids("<|end_of_text|>")}
               if isinstance(t, int) and t >= 0]
        results = []
        for prompt in prompts:
            enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(self.device)
            sample = params.temperature > 0
            out = self.model.generate(
                **enc, max_new_tokens=params.max_tokens, do_sample=sample, num_return_sequences=params.n,
                temperature=params.temperature if sample else None, top_p=params.top_p if sample else None,
                eos_token_id=eos or None, pad_token_id=eos[0] if eos else None,
            )
            texts = self.tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            results.append([cut_at_stop(t, params.stop) for t in texts])
        return results
