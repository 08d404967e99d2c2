"""Loading, running, saving and averaging the models post-training works on.

The policy is herd's ``Llama`` (``herd.lib.llama``), loaded from a Hugging Face-format model
directory (``config.json`` + safetensors + ``tokenizer.json``: what pretraining leaves in
``final_model/``) and saved in the same format, so every round's model is readable by
herd's ``local`` generator, by ``herd serve`` and by ``transformers``.
Training code calls ``lm_logits``, which also accepts a ``transformers`` causal LM (the
TRL parity tests and the benchmark run both).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from herd.core.errors import InputError

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def is_herd_llama(model) -> bool:
    from herd.lib.llama.model import Llama

    return isinstance(model, Llama)


def lm_logits(model, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Logits of right-padded causal sequences. Right padding needs no mask for herd's
    model: causal attention never lets a real token see the padding after it."""
    if is_herd_llama(model):
        return model(input_ids)
    return model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits


def packed_logits(model, input_ids, doc_ids, position_ids, additive_mask) -> torch.Tensor:
    """Logits of packed rows, attention kept inside each packed sequence."""
    if is_herd_llama(model):
        return model(input_ids, doc_ids=doc_ids)
    dtype = next(model.parameters()).dtype
    return model(
        input_ids=input_ids, attention_mask=additive_mask.to(dtype), position_ids=position_ids, use_cache=False
    ).logits


def load_policy(directory: Path):
    from herd.lib.llama.hf_io import load_model

    directory = Path(directory)
    if not (directory / "config.json").is_file() and not (directory / "llama.json").is_file():
        raise InputError(f"{directory}: no model here (expected config.json or llama.json and safetensors)")
    return load_model(directory).float()


def load_tokenizer(directory: Path):
    from herd.lib.llama.tokenizer import Tokenizer

    return Tokenizer.load(Path(directory))


def save_policy(model, tokenizer_dir: Path, out_dir: Path) -> Path:
    """``out_dir`` as a Hugging Face Llama directory with the tokenizer of ``tokenizer_dir``."""
    from herd.lib.llama.hf_io import save_hf

    tok = load_tokenizer(tokenizer_dir)
    special = {"bos": tok.special.bos, "eos": tok.special.eot}
    return save_hf(model, Path(out_dir), tokenizer_dir=Path(tokenizer_dir), special=special)


def average_state_dicts(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several models' weights (docs/recipe.md section 5: RM, SFT and
    DPO each average the variants they train)."""
    if not states:
        raise ValueError("nothing to average")
    keys = states[0].keys()
    for i, s in enumerate(states[1:], start=1):
        if s.keys() != keys:
            raise ValueError(f"model variant {i} has different parameters from variant 0; cannot average")
    out = {}
    for k in keys:
        tensors = [s[k] for s in states]
        if tensors[0].is_floating_point():
            out[k] = torch.stack([t.float() for t in tensors]).mean(0).to(tensors[0].dtype)
        else:
            out[k] = tensors[0].clone()
    return out


def quiet_transformers() -> None:
    """Stage logs should not fill with weight-loading progress bars."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def masked_hidden_states(model, input_ids, position_ids, allowed) -> tuple[torch.Tensor, torch.nn.Module]:
    """Final hidden states under an arbitrary attention pattern (``allowed``: bool
    ``[B, 1, L, L]``) and explicit positions, plus the LM head that reads them.

    For herd's ``Llama`` this runs its modules exactly as ``Llama.hidden_states`` does for
    packed documents, with the caller's mask in place of the document mask.
    """
    if is_herd_llama(model):
        freqs = position_ids[..., None].float() * model.inv_freq.float()
        emb = torch.cat((freqs, freqs), dim=-1)
        x = model.embed_tokens(input_ids)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        for layer in model.layers:
            x = layer(x, cos, sin, allowed, None, 0)
        return model.norm(x), model.lm_head
    dtype = next(model.parameters()).dtype
    additive = torch.zeros(allowed.shape, dtype=dtype, device=input_ids.device).masked_fill_(
        ~allowed.to(input_ids.device), torch.finfo(dtype).min)
    out = model.model(input_ids=input_ids, attention_mask=additive, position_ids=position_ids, use_cache=False)
    return out.last_hidden_state, model.lm_head


def masked_logits(model, input_ids, position_ids, allowed) -> torch.Tensor:
    """Logits of a Hugging Face causal LM under an arbitrary attention pattern (``allowed``:
    bool ``[B, 1, L, L]``), through the model's own forward (so a wrapper's hooks run)."""
    if is_herd_llama(model):
        raise ValueError("masked_logits runs a Hugging Face model's forward; herd's Llama takes "
                         "masked_hidden_states")
    dtype = next(model.parameters()).dtype
    additive = torch.zeros(allowed.shape, dtype=dtype, device=input_ids.device)
    additive.masked_fill_(~allowed.to(input_ids.device), torch.finfo(dtype).min)
    return model(input_ids=input_ids, attention_mask=additive, position_ids=position_ids, use_cache=False).logits
