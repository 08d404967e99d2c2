"""Config sections of the llama plugin's generation backends (kept free of heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LocalGeneratorConfig:
    """``[generators.local]``: a herd or Hugging Face format model directory
    (``model.safetensors`` + ``llama.json``/``config.json`` + ``tokenizer.json``)."""

    model_path: str = ""
    device: str = "cpu"
    dtype: str = "float32"
    max_batch_rows: int = 64  # sequences decoded together (prompts x samples per prompt)


@dataclass
class HFGeneratorConfig:
    """``[generators.hf]``: a local ``transformers`` model directory."""

    model_path: str = ""
    device: str = "cpu"
    dtype: str = "float32"
    max_batch_rows: int = 64
