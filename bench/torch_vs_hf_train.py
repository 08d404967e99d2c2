"""Training throughput: herd's torch backend against Hugging Face ``LlamaForCausalLM`` with
a plain PyTorch loop, same model shape, same packed batches, same machine, one process.

Both sides: AdamW (the same hyper-parameters), gradient clipping at 1.0, float32 on CPU,
batches of rows x seq tokens (each ``--shapes`` entry) from the same token stream. herd
runs through ``TorchTrainer`` (its real training loop, with document masking and
metrics); HF runs the usual ``model(input_ids, labels=...)`` loop, once as is (documents
of a row attend to each other) and once given the document mask and positions (the same
maths as herd). Each is measured ``--repeats`` times, alternating, and the median tokens/s
over the timed steps (after ``--warmup`` steps) is reported.

    python bench/torch_vs_hf_train.py --out docs/benchmarks/training.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch

from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
from herd.lib.llama.model import LlamaConfig
from herd.lib.llama.packing import PackedBatches, TokenStream, write_token_shards
from herd.lib.llama.tokenizer import Tokenizer
from herd.plugins.torch_trainer.config import TorchTrainerConfig
from herd.plugins.torch_trainer.trainer import TorchTrainer

WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book quiet early "
         "morning green blue sky east west code math number").split()


def make_data(root: Path, vocab: int) -> tuple[Path, int]:
    rng = random.Random(0)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(50, 400))) for _ in range(3000)]
    tok = Tokenizer.train(texts, vocab)
    write_token_shards(texts, tok, root / "tokens")
    return root / "tokens", tok.vocab_size


def herd_run(cfg: LlamaConfig, data: Path, out: Path, rows: int, seq: int, steps: int, threads: int) -> list[float]:
    model = {"size": "tiny", **{k: v for k, v in cfg.to_dict().items() if k != "rope_scaling"}}
    stage = TrainStage("initial", "initial", rows * seq * steps, seq, 1e-3, 1e-4, batch_tokens=rows * seq,
                       warmup_steps=2)
    job = TrainJob(model=model, stages=[stage], parallel=ParallelSizes(), output_dir=out, data_dir=data, eval_dir=data)
    TorchTrainer(TorchTrainerConfig(device="cpu", checkpoint_every=10**9, eval_rows=1, threads=threads)).train(job)
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    return [x["tokens_per_s"] for x in lines if "tokens_per_s" in x]


def hf_run(cfg: LlamaConfig, data: Path, rows: int, seq: int, steps: int, documents: bool) -> list[float]:
    import transformers

    from herd.lib.llama.hf_io import hf_config
    from herd.lib.llama.model import document_mask, document_positions

    torch.manual_seed(0)
    hf_cfg = transformers.LlamaConfig(**{k: v for k, v in hf_config(cfg).items()
                                         if k not in ("architectures", "model_type", "torch_dtype")})
    model = transformers.LlamaForCausalLM(hf_cfg).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1)
    loader = PackedBatches(TokenStream(data))
    speeds = []
    for _ in range(steps):
        t0 = time.perf_counter()
        batch = loader.next(rows, seq)
        extra = ({"attention_mask": document_mask(batch.doc_ids), "position_ids": document_positions(batch.doc_ids)}
                 if documents else {})
        out = model(input_ids=batch.tokens, labels=torch.cat([batch.tokens[:, :1], batch.labels], dim=1)[:, :-1],
                    **extra)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        speeds.append(rows * seq / (time.perf_counter() - t0))
    return speeds


def measure(cfg: LlamaConfig, data: Path, root: Path, rows: int, seq: int, args) -> dict[str, list[float]]:
    """Per repeat, the median tokens/s of each side (herd, HF as is, HF with the mask)."""
    runs: dict[str, list[float]] = {"herd": [], "hf": [], "hf_masked": []}
    for r in range(args.repeats):
        runs["herd"].append(statistics.median(herd_run(cfg, data, root / f"herd{seq}-{r}", rows, seq, args.steps,
                                                       args.threads)[args.warmup:]))
        runs["hf"].append(statistics.median(hf_run(cfg, data, rows, seq, args.steps, False)[args.warmup:]))
        runs["hf_masked"].append(statistics.median(hf_run(cfg, data, rows, seq, args.steps, True)[args.warmup:]))
        print(f"{rows}x{seq} repeat {r}: " + ", ".join(f"{k} {v[-1]:.0f} tok/s" for k, v in runs.items()), flush=True)
    return runs


def mean_document_tokens(data: Path) -> float:
    stream = TokenStream(data)
    return len(stream.tokens) / max(stream.n_docs, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--kv-heads", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--shapes", default="8x256,1x2048",
                        help="rows x sequence length per step, comma-separated (same tokens per step by default)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for all sides (1 keeps a shared 2-core machine from oversubscribing)")
    parser.add_argument("--out", type=Path, default=None, help="write a markdown report here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    shapes = [tuple(int(x) for x in shape.split("x")) for shape in args.shapes.split(",")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data, vocab = make_data(root, args.vocab)
        doc_tokens = mean_document_tokens(data)
        # The model's vocabulary is --vocab even when the BPE stops earlier on this small
        # corpus (unused rows still cost the LM head its full work, as in a real model).
        cfg = LlamaConfig(dim=args.dim, n_layers=args.layers, n_heads=args.heads, n_kv_heads=args.kv_heads,
                          ffn_dim=int(args.dim * 8 / 3 // 32 * 32), vocab_size=max(vocab, args.vocab),
                          max_seq_len=max(seq for _, seq in shapes))
        load_before = os.getloadavg()[0]
        for rows, seq in shapes:
            results[(rows, seq)] = measure(cfg, data, root, rows, seq, args)
    load_after = os.getloadavg()[0]
    import transformers

    lines = [
        "# Training throughput: herd torch backend vs Hugging Face LlamaForCausalLM",
        "",
        f"Command: `python bench/torch_vs_hf_train.py --shapes {args.shapes} --repeats {args.repeats} "
        f"--steps {args.steps} --warmup {args.warmup} --threads {args.threads}` (dim {args.dim}, {args.layers} layers, "
        f"{args.heads} heads, {args.kv_heads} KV heads, vocab {cfg.vocab_size} (tokenizer {vocab}); documents of "
        f"{doc_tokens:.0f} tokens on average packed into rows; {args.steps} steps of which the first {args.warmup} "
        f"are not timed, {args.repeats} alternating repeats; medians).",
        "",
        f"Machine: {platform.machine()} CPU, {args.threads} torch thread(s) on each side (a 2-core machine; "
        f"1-minute load average {load_before:.1f} before, {load_after:.1f} after), "
        f"torch {torch.__version__}, transformers {transformers.__version__}, float32.",
        "",
        "| rows x seq | herd `TorchTrainer` tok/s | HF plain loop tok/s | herd / HF | HF with the document mask tok/s | herd / HF masked |",
        "|---|---|---|---|---|---|",
    ]
    for (rows, seq), runs in results.items():
        # Sides of one repeat run back to back: the per-repeat ratio is robust to load that
        # changes between repeats on a shared machine, so its median is the headline number.
        plain = statistics.median(a / b for a, b in zip(runs["herd"], runs["hf"]))
        masked = statistics.median(a / b for a, b in zip(runs["herd"], runs["hf_masked"]))
        lines.append(f"| {rows} x {seq} | {statistics.median(runs['herd']):,.0f} | {statistics.median(runs['hf']):,.0f} "
                     f"| **{plain:.2f}x** | {statistics.median(runs['hf_masked']):,.0f} | {masked:.2f}x |")
    lines += ["", "Per repeat (tokens/s):", ""]
    for (rows, seq), runs in results.items():
        lines.append(f"- {rows} x {seq}: " + "; ".join(f"{k} {', '.join(f'{x:,.0f}' for x in v)}"
                                                      for k, v in runs.items()))
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
