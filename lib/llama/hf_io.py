"""Hugging Face checkpoints: save a herd model as ``model.safetensors`` + ``config.json``
that ``transformers.AutoModelForCausalLM.from_pretrained`` loads as ``LlamaForCausalLM``,
and load a local Hugging Face Llama checkpoint (one or several safetensors shards) into
herd's ``Llama``. herd's parameter names are Hugging Face's without the ``model.`` prefix,
so the conversion is a renaming."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from herd.core.atomic import umask_mode
from herd.core.errors import InputError
from herd.lib.llama.model import Llama, LlamaConfig, RopeScaling


def hf_config(cfg: LlamaConfig, dtype: str = "float32", special: dict[str, int] | None = None) -> dict[str, Any]:
    special = special or {}
    out: dict[str, Any] = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg.dim,
        "intermediate_size": cfg.ffn_dim,
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.n_kv_heads,
        "head_dim": cfg.head_dim,
        "vocab_size": cfg.vocab_size,
        "max_position_embeddings": cfg.max_seq_len,
        "rms_norm_eps": cfg.norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "tie_word_embeddings": cfg.tie_embeddings,
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "initializer_range": cfg.init_std,
        "torch_dtype": dtype,
        "bos_token_id": special.get("bos"),
        "eos_token_id": special.get("eos"),
    }
    if cfg.rope_scaling is not None:
        s = cfg.rope_scaling
        out["rope_scaling"] = {
            "rope_type": "llama3",
            "factor": s.factor,
            "low_freq_factor": s.low_freq_factor,
            "high_freq_factor": s.high_freq_factor,
            "original_max_position_embeddings": s.original_max_position_embeddings,
        }
    return out


def config_from_hf(data: dict[str, Any], where: str = "config.json") -> LlamaConfig:
    if data.get("model_type") != "llama":
        raise InputError(f"{where}: model_type is {data.get('model_type')!r}, herd loads only 'llama' checkpoints")
    params = data.get("rope_parameters") or {}
    scaling = data.get("rope_scaling") or (params if params.get("rope_type") == "llama3" else None)
    if scaling and scaling.get("rope_type", scaling.get("type")) not in ("llama3", None):
        raise InputError(f"{where}: rope_scaling type {scaling.get('rope_type')!r} is not supported (only 'llama3')")
    try:
        cfg = LlamaConfig(
            dim=data["hidden_size"],
            n_layers=data["num_hidden_layers"],
            n_heads=data["num_attention_heads"],
            n_kv_heads=data.get("num_key_value_heads") or data["num_attention_heads"],
            ffn_dim=data["intermediate_size"],
            vocab_size=data["vocab_size"],
            rope_theta=float(data.get("rope_theta") or params.get("rope_theta", 10000.0)),
            rope_scaling=None if not scaling else RopeScaling(
                factor=scaling["factor"],
                low_freq_factor=scaling["low_freq_factor"],
                high_freq_factor=scaling["high_freq_factor"],
                original_max_position_embeddings=scaling["original_max_position_embeddings"],
            ),
            max_seq_len=data.get("max_position_embeddings", 2048),
            norm_eps=data.get("rms_norm_eps", 1e-5),
            tie_embeddings=bool(data.get("tie_word_embeddings", False)),
        )
    except KeyError as missing:
        raise InputError(f"{where}: missing key {missing} of a Llama config") from None
    if data.get("head_dim") not in (None, cfg.head_dim):
        raise InputError(f"{where}: head_dim {data['head_dim']} != hidden_size / num_attention_heads ({cfg.head_dim})")
    return cfg


def to_hf_state_dict(model: Llama) -> dict[str, torch.Tensor]:
    out = {}
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight" and model.cfg.tie_embeddings:
            continue
        key = name if name.startswith("lm_head.") else f"model.{name}"
        out[key] = tensor.detach().contiguous().cpu()
    return out


def save_hf(model: Llama, out_dir: Path, tokenizer_dir: Path | None = None,
            special: dict[str, int] | None = None, dtype: torch.dtype = torch.float32) -> Path:
    """Write ``out_dir/{model.safetensors, config.json, generation_config.json}`` and, from
    ``tokenizer_dir`` when given, the tokenizer files with Llama 3.1's chat template
    (``Tokenizer.save_hf``): generation then stops at ``<|eot_id|>``, ``<|eom_id|>`` and
    ``<|end_of_text|>``, as Llama 3.1's ``generation_config.json`` does."""
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.to(dtype) for k, v in to_hf_state_dict(model).items()}
    save_file(tensors, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    umask_mode(out_dir / "model.safetensors")
    dtype_name = str(dtype).removeprefix("torch.")
    (out_dir / "config.json").write_text(json.dumps(hf_config(model.cfg, dtype_name, special), indent=2) + "\n")
    gen: dict[str, Any] = {"bos_token_id": (special or {}).get("bos"), "eos_token_id": (special or {}).get("eos")}
    if tokenizer_dir is not None:
        from herd.lib.llama.tokenizer import Tokenizer

        tok = Tokenizer.load(tokenizer_dir)
        tok.save_hf(out_dir)
        gen["eos_token_id"] = [tok.special.eot, tok.special.eom, tok.special.eos]
    (out_dir / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    return out_dir


def model_from_state(cfg: LlamaConfig, state: dict[str, torch.Tensor]) -> Llama:
    """A ``Llama`` holding ``state`` (herd names) without initialising weights first."""
    from herd.lib.llama.model import rope_frequencies

    state = dict(state)
    if cfg.tie_embeddings and "embed_tokens.weight" in state:
        state["lm_head.weight"] = state["embed_tokens.weight"]
    with torch.device("meta"):
        model = Llama(cfg)
    expected = set(model.state_dict())
    missing, extra = expected - set(state), set(state) - expected
    if missing or extra:
        raise ValueError(f"weights do not match a Llama of this config; missing {sorted(missing)[:5]}, "
                         f"unexpected {sorted(extra)[:5]}")
    model.load_state_dict(state, assign=True)
    if cfg.tie_embeddings:
        model.lm_head.weight = model.embed_tokens.weight
    model.inv_freq = rope_frequencies(cfg)
    return model


def load_hf(path: Path, dtype: torch.dtype = torch.float32) -> Llama:
    """Load a local Hugging Face Llama checkpoint directory into herd's ``Llama``."""
    from safetensors import safe_open

    path = Path(path)
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise InputError(f"{path}: no config.json; expected a Hugging Face checkpoint directory")
    cfg = config_from_hf(json.loads(cfg_file.read_text()), str(cfg_file))
    files = sorted(path.glob("*.safetensors"))
    if not files:
        raise InputError(f"{path}: no *.safetensors files (herd does not read pickled .bin checkpoints)")
    state: dict[str, torch.Tensor] = {}
    for file in files:
        with safe_open(str(file), framework="pt") as handle:
            for key in handle.keys():
                if not key.endswith("rotary_emb.inv_freq"):
                    state[key.removeprefix("model.")] = handle.get_tensor(key).to(dtype)
    try:
        model = model_from_state(cfg, state)
    except ValueError as err:
        raise InputError(f"{path}: {err}") from None
    return model


# --- herd's own checkpoint layout ---------------------------------------------------------
# A herd model checkpoint directory holds ``model.safetensors`` (herd parameter names),
# ``llama.json`` (the LlamaConfig) and, when known, ``tokenizer.json``.

MODEL_FILE, CONFIG_FILE = "model.safetensors", "llama.json"


def save_model(model: Llama, directory: Path, tokenizer=None) -> None:
    from safetensors.torch import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    if model.cfg.tie_embeddings:
        state.pop("lm_head.weight", None)
    save_file(state, str(directory / MODEL_FILE))
    umask_mode(directory / MODEL_FILE)
    (directory / CONFIG_FILE).write_text(json.dumps(model.cfg.to_dict(), indent=2) + "\n")
    if tokenizer is not None:
        tokenizer.save(directory)


def load_model(directory: Path) -> Llama:
    """A herd checkpoint directory (``llama.json``) or a Hugging Face one (``config.json``)."""
    from safetensors.torch import load_file

    directory = Path(directory)
    if not (directory / CONFIG_FILE).is_file():
        if (directory / "config.json").is_file():
            return load_hf(directory)
        raise InputError(f"{directory}: neither a herd checkpoint ({CONFIG_FILE}) nor a Hugging Face one (config.json)")
    cfg = LlamaConfig.from_dict(json.loads((directory / CONFIG_FILE).read_text()))
    try:
        model = model_from_state(cfg, load_file(str(directory / MODEL_FILE)))
    except ValueError as err:
        raise InputError(f"{directory / MODEL_FILE}: {err}") from None
    return model


# A torch-trainer training checkpoint (``checkpoints/step_N/state.pt``) holds the model's
# state dict under "model" and its LlamaConfig under "model_config"; ``export-hf`` reads it
# too, so a run can be exported from any checkpoint, not only from its final model.
TRAINING_STATE = "state.pt"


def resolve_checkpoint(path: Path) -> Path:
    """``path`` itself, or for a training ``checkpoints/`` folder the step its ``latest``
    names, or for a trainer run folder its ``final/`` model."""
    path = Path(path)
    if (path / "latest").is_file():
        step = path / (path / "latest").read_text().strip()
        if (step / TRAINING_STATE).is_file():
            return step
    if not any((path / f).is_file() for f in (CONFIG_FILE, "config.json", TRAINING_STATE)) and (path / "final").is_dir():
        return path / "final"
    return path


def load_any(path: Path) -> Llama:
    """A herd model directory, a Hugging Face one, or a training checkpoint."""
    path = resolve_checkpoint(path)
    if not path.is_dir():
        raise InputError(f"{path}: checkpoint directory not found")
    if (path / TRAINING_STATE).is_file() and not (path / CONFIG_FILE).is_file():
        state = torch.load(path / TRAINING_STATE, map_location="cpu", weights_only=False)
        if not isinstance(state, dict) or "model" not in state or "model_config" not in state:
            raise InputError(f"{path / TRAINING_STATE}: not a herd training checkpoint (no 'model'/'model_config')")
        try:
            return model_from_state(LlamaConfig.from_dict(state["model_config"]), state["model"])
        except (TypeError, ValueError) as err:
            raise InputError(f"{path / TRAINING_STATE}: {err}") from None
    return load_model(path)


def export_hf(checkpoint: Path, out_dir: Path, tokenizer: Path | None = None) -> Path:
    """Convert a herd checkpoint (model directory, training checkpoint, ``checkpoints/``
    folder or trainer run folder) into a Hugging Face Llama directory. The tokenizer is
    ``tokenizer`` when given, else the checkpoint's own ``tokenizer.json`` when it has one."""
    checkpoint = resolve_checkpoint(Path(checkpoint))
    model = load_any(checkpoint)
    tok_dir = Path(tokenizer) if tokenizer is not None else (
        checkpoint if (checkpoint / "tokenizer.json").is_file() else None)
    special = None
    if tok_dir is not None:
        from herd.lib.llama.tokenizer import Tokenizer

        tok = Tokenizer.load(tok_dir)
        if tok.vocab_size > model.cfg.vocab_size:
            raise InputError(f"{tok_dir}: tokenizer has {tok.vocab_size} tokens, more than the model's "
                             f"{model.cfg.vocab_size}")
        special = {"bos": tok.special.bos, "eos": tok.special.eot}
    return save_hf(model, out_dir, tokenizer_dir=tok_dir, special=special)
