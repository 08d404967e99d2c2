"""The Llama 3 model family (docs/recipe.md section 2): model, tokenizer, token packing,
Hugging Face checkpoints and the ``local`` / ``hf`` generation backends."""

from __future__ import annotations

from herd.core.hookspecs import hookimpl


def _local_generator(cfg):
    from herd.lib.llama.generate import LocalGenerator

    return LocalGenerator.from_config(cfg)


def _hf_generator(cfg):
    from herd.lib.llama.generate import HFGenerator

    return HFGenerator(cfg)


def _export_arguments(parser) -> None:
    parser.add_argument("checkpoint", help="herd model directory (model.safetensors + llama.json), a training "
                        "checkpoint (checkpoints/step_N), a checkpoints/ folder (its latest) or a trainer run folder")
    parser.add_argument("out_dir", help="where to write the Hugging Face model directory")
    parser.add_argument("--tokenizer", default=None,
                        help="tokenizer.json / tiktoken file or folder to include (default: the checkpoint's own)")


def _export_run(args, app) -> int:
    from herd.lib.llama.hf_io import export_hf

    out = export_hf(args.checkpoint, args.out_dir, tokenizer=args.tokenizer)
    print(f"wrote Hugging Face Llama checkpoint to {out}")
    return 0


@hookimpl
def herd_register_generators(register):
    from herd.lib.llama.config import HFGeneratorConfig, LocalGeneratorConfig

    register("local", _local_generator, description="herd's Llama with a KV cache (model_path: exported model)",
             config=LocalGeneratorConfig)
    register("hf", _hf_generator, description="a local transformers model directory", config=HFGeneratorConfig)


@hookimpl
def herd_register_commands(register):
    register("export-hf", _export_arguments, _export_run,
             help="convert a herd checkpoint into a Hugging Face Llama model directory (its tokenizer "
                  "carries the Llama 3.1 chat template)")
