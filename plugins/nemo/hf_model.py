"""herd's Llama as the Hugging Face ``LlamaForCausalLM`` that NeMo AutoModel parallelizes.

The two are the same network (issue 4 tests their logits parity through
``herd.lib.llama.hf_io``); only the parameter names differ: Hugging Face puts the
decoder under ``model.``. The ``nemo`` backend trains the Hugging Face module and keeps
its checkpoints in herd's names, so a checkpoint written by either backend loads in the
other."""

from __future__ import annotations

from pathlib import Path

import torch

from herd.core.errors import ConfigError
from herd.lib.llama.model import Llama, LlamaConfig, config_for


def herd_model(spec: dict, init_from: Path | None) -> Llama:
    """The starting model: the checkpoint ``init_from`` (herd or Hugging Face directory) or a
    freshly initialised one of ``spec`` (``{"size": name, **overrides}``), initialised by
    herd's own code so both backends start from the same weights for the same seed."""
    if init_from is not None:
        from herd.lib.llama.hf_io import load_model

        return load_model(Path(init_from))
    spec = dict(spec)
    size = spec.pop("size", "tiny")
    try:
        return Llama(config_for(size, **spec))
    except (KeyError, TypeError) as err:
        raise ConfigError(f"[pretrain] model: {err}") from None


def hf_module(cfg: LlamaConfig, herd_state: dict[str, torch.Tensor]):
    """A ``transformers.LlamaForCausalLM`` (SDPA attention) holding ``herd_state``."""
    import transformers

    from herd.lib.llama.hf_io import hf_config

    hf_cfg = transformers.LlamaConfig.from_dict(hf_config(cfg))
    hf_cfg._attn_implementation = "sdpa"
    hf_cfg.use_cache = False
    model = transformers.LlamaForCausalLM(hf_cfg)
    state = to_hf_names(herd_state)
    if cfg.tie_embeddings:
        state.pop("lm_head.weight", None)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not (cfg.tie_embeddings and k == "lm_head.weight")]
    if missing or unexpected:
        raise ValueError(f"herd -> Hugging Face Llama: missing {missing[:5]}, unexpected {unexpected[:5]}")
    return model


def to_hf_name(name: str) -> str:
    return name if name.startswith("lm_head.") else f"model.{name}"


def to_herd_name(name: str) -> str:
    return name.removeprefix("model.")


def to_hf_names(state: dict) -> dict:
    return {to_hf_name(k): v for k, v in state.items()}


def to_herd_names(state: dict) -> dict:
    return {to_herd_name(k): v for k, v in state.items()}


def optimizer_state_names(state: dict, rename) -> dict:
    """An FQN-keyed optimizer state dict (``torch.distributed.checkpoint.state_dict`` layout)
    with every parameter name passed through ``rename``."""
    return {
        "state": {rename(k): v for k, v in state["state"].items()},
        "param_groups": [{**g, "params": [rename(p) for p in g["params"]]} for g in state["param_groups"]],
    }


def optimizer_state_subset(state: dict, names: set[str]) -> dict:
    """The part of a full optimizer state dict that belongs to the parameters ``names``
    (one pipeline stage's)."""
    return {
        "state": {k: v for k, v in state["state"].items() if k in names},
        "param_groups": [{**g, "params": [p for p in g["params"] if p in names]} for g in state["param_groups"]],
    }


def merge_optimizer_states(parts: list[dict]) -> dict:
    """One optimizer state dict from the pipeline stages' (their parameter sets are disjoint;
    group ``i`` of every stage holds the same hyper-parameters)."""
    merged: dict = {"state": {}, "param_groups": []}
    for part in parts:
        merged["state"].update(part["state"])
        for i, group in enumerate(part["param_groups"]):
            if i == len(merged["param_groups"]):
                merged["param_groups"].append({**group, "params": list(group["params"])})
            else:
                merged["param_groups"][i]["params"] += [p for p in group["params"]
                                                        if p not in merged["param_groups"][i]["params"]]
    return merged
