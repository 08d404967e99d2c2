"""One-call GPU check (issue 21), a few minutes on one H100/H200: MFU of a ~1B Llama (herd's "1b"
size, Llama 3.2 1B's shape) for both training backends, herd's generation tokens/s against vLLM
when it imports, the planner's predicted memory against the measured peak, and context
parallelism's document-masked attention on the GPU kernel (4 simulated cp ranks against full-row
attention, forward and backward, bf16). Writes one JSON.

    python bench/gpu_check.py --out $OUT/gpu_check.json            # on the GPU machine
    python bench/gpu_check.py --dry-run                             # CPU: prints the plan and arithmetic

Each section runs on its own and records its error instead of stopping the others, so one call
always leaves a result file. MFU = tokens/s x model FLOPs per token / peak dense BF16 FLOP/s
(``LlamaConfig.flops_per_token``: 6 x non-embedding parameters + 12 x layers x dim x seq, the
PaLM convention without halving for causality).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

PEAK_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0}  # dense BF16, SXM parts


@dataclass(frozen=True)
class TrainFigure:
    backend: str
    tokens_per_s: float
    mfu: float
    seq_len: int
    rows: int
    steps: int


def mfu(tokens_per_s: float, flops_per_token: float, peak_tflops: float) -> float:
    """Model FLOPs utilisation: achieved model FLOP/s over the chip's peak."""
    if peak_tflops <= 0:
        raise ValueError(f"peak_tflops must be positive, got {peak_tflops}")
    return tokens_per_s * flops_per_token / (peak_tflops * 1e12)


def peak_for(device_name: str, override: float) -> float:
    if override > 0:
        return override
    for key, value in PEAK_TFLOPS.items():
        if key in device_name:
            return value
    raise SystemExit(f"no peak FLOP/s known for {device_name!r}; pass --peak-tflops")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1b", help="herd model size (lib/llama/model.py SIZES)")
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=8, help="sequences per training step")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=4, help="steps not timed")
    parser.add_argument("--backends", default="torch,nemo")
    parser.add_argument("--gen-prompts", type=int, default=32)
    parser.add_argument("--gen-tokens", type=int, default=256)
    parser.add_argument("--peak-tflops", type=float, default=0.0, help="0: from the device name")
    parser.add_argument("--skip", default="", help="comma list of sections to skip: train,generate,memory,cp")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ".")) / "gpu_check.json")
    parser.add_argument("--dry-run", action="store_true", help="no GPU: print the arithmetic and the plan")
    args = parser.parse_args(argv)
    if args.warmup >= args.steps:
        parser.error(f"--warmup ({args.warmup}) must be below --steps ({args.steps})")
    unknown = {s for s in args.skip.split(",") if s} - {"train", "generate", "memory", "cp"}
    if unknown:
        parser.error(f"--skip: unknown sections {sorted(unknown)}")
    return args


def _data(root: Path) -> Path:
    from herd.lib.llama.packing import write_token_shards
    from herd.lib.llama.tokenizer import Tokenizer

    rng = random.Random(0)
    words = "the a llama herd walks over high plain river sun snow bread town library train station".split()
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(2000, 4000))) for _ in range(200)]
    tok = Tokenizer.train(texts, 2048)
    write_token_shards(texts, tok, root / "tokens")
    return root / "tokens"


def train_section(args, backend: str, data: Path, tmp: Path, peak: float) -> TrainFigure:
    from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
    from herd.lib.llama.model import config_for
    from herd.lib.training.job_io import job_to_dict

    out = tmp / f"train_{backend}"
    stage = TrainStage("initial", "initial", args.rows * args.seq * args.steps, args.seq, 3e-4, 3e-5,
                       batch_tokens=args.rows * args.seq, warmup_steps=2)
    job = TrainJob(model={"size": args.size}, stages=[stage], parallel=ParallelSizes(), output_dir=out,
                   data_dir=data, eval_dir=data, seed=0)
    spec = tmp / f"train_{backend}.json"
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": {"device": "cuda", "checkpoint_every": 10**9,
                                                                     "eval_rows": 1}}))
    entry = {"torch": "herd.plugins.torch_trainer.worker", "nemo": "herd.plugins.nemo.worker"}[backend]
    done = subprocess.run([sys.executable, "-m", entry, str(spec)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{backend} worker failed:\n{done.stderr[-4000:]}")
    rates = [json.loads(x)["tokens_per_s"] for x in (out / "metrics.jsonl").read_text().splitlines() if '"tokens_per_s"' in x]
    tps = statistics.median(rates[args.warmup:])
    cfg = config_for(args.size)
    return TrainFigure(backend, tps, mfu(tps, cfg.flops_per_token(args.seq), peak), args.seq, args.rows, len(rates))


def memory_section(args) -> dict:
    """Peak memory of herd's model training in bf16 autocast with fp32 AdamW, one micro-batch,
    against the planner's prediction for one GPU (tp=cp=pp=dp=1)."""
    import torch

    from herd.lib.llama.model import Llama, config_for
    from herd.plugins.nemo.planner import Checkpointing, Hardware, Layout, ModelShape, memory_gib

    cfg = config_for(args.size)
    torch.cuda.reset_peak_memory_stats()
    model = Llama(cfg).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    tokens = torch.randint(0, cfg.vocab_size, (args.rows, args.seq + 1), device="cuda")
    for _ in range(3):
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(tokens[:, :-1])
            loss = torch.nn.functional.cross_entropy(logits.float().flatten(0, 1), tokens[:, 1:].flatten())
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    measured = torch.cuda.max_memory_reserved() / 2**30
    shape = ModelShape(name=args.size, n_layers=cfg.n_layers, dim=cfg.dim, ffn_dim=cfg.ffn_dim, n_heads=cfg.n_heads,
                       n_kv_heads=cfg.n_kv_heads, vocab_size=cfg.vocab_size)
    predicted = memory_gib(shape, args.seq, Layout(tp=1, cp=1, pp=1, dp=1, micro_batch=args.rows), Hardware(),
                           Checkpointing(), micro_batches=1)
    total = sum(v for k, v in predicted.items() if k != "reserved")
    return {"measured_peak_reserved_gib": measured, "predicted_gib_without_reserve": total, "predicted_terms": predicted,
            "ratio_predicted_over_measured": total / measured,
            "note": "herd's plain loop keeps fp32 weights (4 B/param) and fp32 grads; the planner assumes bf16 weights "
                    "plus fp32 grad accumulation and master weights (18 B/param in all)"}


def generate_section(args) -> dict:
    import torch

    from herd.lib.llama.generate import generate_batch
    from herd.lib.llama.model import Llama, config_for

    cfg = config_for(args.size)
    model = Llama(cfg).cuda().to(torch.bfloat16).eval()
    rng = random.Random(0)
    prompts = [[rng.randrange(cfg.vocab_size) for _ in range(128)] for _ in range(args.gen_prompts)]
    generate_batch(model, prompts[:2], 1, 8, seed=0)  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    outs = generate_batch(model, prompts, 1, args.gen_tokens, seed=0, max_batch_rows=args.gen_prompts)
    torch.cuda.synchronize()
    herd_tps = sum(len(o[0]) for o in outs) / (time.perf_counter() - start)
    result = {"herd_tokens_per_s": herd_tps, "prompts": args.gen_prompts, "max_tokens": args.gen_tokens}
    try:
        import vllm  # noqa: F401
    except ImportError as exc:
        result["vllm"] = f"not installed: {exc}"
        return result
    result["vllm"] = "installed; a random-weight HF checkpoint of the same shape is needed (not written here)"
    return result


def cp_section(seq: int = 4096, cp: int = 4) -> dict:
    """The nemo backend's cp attention (``cp_attention.simulate_ranks``: each rank's query chunks
    against the gathered keys under the document mask) on SDPA's memory-efficient kernel, in
    bf16, against fp32 document-masked attention over the full row; documents cross shard
    boundaries and one spans several shards. Seconds on an H100."""
    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel

    from herd.lib.llama.model import document_mask
    from herd.plugins.nemo.cp_attention import simulate_ranks

    torch.manual_seed(0)
    bounds = [0, seq // 13, seq * 5 // 12, seq - 5, seq]  # doc 1 crosses chunks 0-3; doc 2 reaches the last
    docs = torch.zeros(1, seq, dtype=torch.long, device="cuda")
    for i, (a, b) in enumerate(zip(bounds, bounds[1:])):
        docs[:, a:b] = i
    q = torch.randn(1, 32, seq, 64, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    k, v = (torch.randn(1, 8, seq, 64, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(2))
    start = time.perf_counter()
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION]):
        got = simulate_ranks(q, k, v, docs, cp)
        got_grads = torch.autograd.grad(got.float().square().sum(), (q, k, v))
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    qf, kf, vf = (x.detach().float().requires_grad_() for x in (q, k, v))
    want = F.scaled_dot_product_attention(qf, kf.repeat_interleave(4, 1), vf.repeat_interleave(4, 1),
                                          attn_mask=document_mask(docs))
    want_grads = torch.autograd.grad(want.square().sum(), (qf, kf, vf))
    causal = F.scaled_dot_product_attention(qf, kf.repeat_interleave(4, 1), vf.repeat_interleave(4, 1), is_causal=True)
    out_err = float((got.detach().float() - want.detach()).abs().max())
    grad_err = max(float(((a.float() - b).abs().max() / b.abs().max())) for a, b in zip(got_grads, want_grads))
    return {"seq": seq, "cp": cp, "max_abs_error_out": out_err, "max_rel_error_grads": grad_err,
            "causal_only_differs_by": float((causal - want).detach().abs().max()), "seconds_fwd_bwd": seconds,
            "ok": out_err < 3e-2 and grad_err < 3e-2}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from herd.lib.llama.model import config_for

    cfg = config_for(args.size)
    report: dict = {"size": args.size, "params": cfg.num_params(), "flops_per_token": cfg.flops_per_token(args.seq),
                    "seq": args.seq, "rows": args.rows}
    if args.dry_run:
        report["mfu_at_10k_tokens_per_s_on_h100"] = mfu(10_000, cfg.flops_per_token(args.seq), PEAK_TFLOPS["H100"])
        print(json.dumps(report, indent=1))
        return
    import torch

    name = torch.cuda.get_device_name(0)
    peak = peak_for(name, args.peak_tflops)
    report.update(device=name, peak_tflops=peak, torch=torch.__version__)
    skip = set(args.skip.split(","))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        sections = []
        if "train" not in skip:
            data = _data(tmp)
            for backend in args.backends.split(","):
                sections.append((f"train_{backend}", lambda b=backend: asdict(train_section(args, b, data, tmp, peak))))
        if "memory" not in skip:
            sections.append(("memory", lambda: memory_section(args)))
        if "generate" not in skip:
            sections.append(("generate", lambda: generate_section(args)))
        if "cp" not in skip:
            sections.append(("cp_attention", cp_section))
        for key, run in sections:
            start = time.perf_counter()
            try:
                report[key] = run()
            except Exception:  # noqa: BLE001 - one failed section must not lose the others
                report[key] = {"error": traceback.format_exc()[-3000:]}
            report[key + "_wall_s"] = time.perf_counter() - start
            torch.cuda.empty_cache()
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=1, default=str))
            print(key, json.dumps(report[key], default=str)[:400], flush=True)


if __name__ == "__main__":
    main()
