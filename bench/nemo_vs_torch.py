"""Training throughput of the two trainer backends on the same job: ``nemo`` (herd's loop on
NeMo AutoModel's components, training the Hugging Face Llama) against ``torch`` (herd's
loop on herd's Llama), one process and two data-parallel processes (FSDP2, gloo) on CPU.

Both run the same ``TrainJob`` (model shape, packed batches, AdamW, clipping, float32)
through their real entry points (``herd.plugins.nemo.worker``, ``herd.plugins.torch_trainer.worker``;
torchrun for 2 processes). tokens/s is the median over each run's steps after
``--warmup`` steps (global tokens per step / step wall time, from ``metrics.jsonl``);
each configuration runs ``--repeats`` times, backends interleaved, and the median of the
runs is reported with the nemo/torch ratio.

    python bench/nemo_vs_torch.py --out docs/benchmarks/backends.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from herd.core.protocols import ParallelSizes, TrainJob, TrainStage
from herd.lib.llama.packing import write_token_shards
from herd.lib.llama.tokenizer import Tokenizer
from herd.lib.training.job_io import job_to_dict

WORDS = ("the a llama herd walks over high plain river sun snow bread town library train station book quiet early "
         "morning green blue sky east west code math number").split()
ENTRY = {"nemo": "herd.plugins.nemo.worker", "torch": "herd.plugins.torch_trainer.worker"}


def make_data(root: Path, vocab: int) -> Path:
    rng = random.Random(0)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(50, 400))) for _ in range(2000)]
    tok = Tokenizer.train(texts, vocab)
    write_token_shards(texts, tok, root / "tokens")
    return root / "tokens"


def run_once(backend: str, procs: int, data: Path, out: Path, args) -> float:
    stage = TrainStage("initial", "initial", args.rows * args.seq * args.steps, args.seq, 1e-3, 1e-4,
                       batch_tokens=args.rows * args.seq, warmup_steps=2)
    model = {"size": args.size, "vocab_size": args.vocab}
    job = TrainJob(model=model, stages=[stage], parallel=ParallelSizes(dp=procs), output_dir=out, data_dir=data,
                   eval_dir=data, seed=0)
    trainer = {"device": "cpu", "checkpoint_every": 10**9, "eval_rows": 1, "threads": args.threads // procs}
    spec = out.parent / f"{out.name}.json"
    spec.write_text(json.dumps({"job": job_to_dict(job), "trainer": trainer}))
    cmd = [sys.executable, "-m", ENTRY[backend], str(spec)]
    if procs > 1:
        cmd[1:2] = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={procs}", "-m"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": str(args.threads // procs)})
    if done.returncode != 0:
        raise SystemExit(f"{backend} x{procs} failed:\n{done.stderr[-3000:]}")
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if '"tokens_per_s"' in x]
    return statistics.median(x["tokens_per_s"] for x in lines[args.warmup:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="small", help="herd model size (docs/recipe.md section 2 names)")
    parser.add_argument("--vocab", type=int, default=2048)
    parser.add_argument("--rows", type=int, default=8, help="sequences per step (global)")
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads in all")
    parser.add_argument("--out", type=Path, help="write the markdown table here")
    args = parser.parse_args()
    results: dict[tuple[str, int], list[float]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp), args.vocab)
        for repeat in range(args.repeats):
            for procs in (1, 2):
                for backend in ("torch", "nemo") if repeat % 2 == 0 else ("nemo", "torch"):
                    loads.append(os.getloadavg()[0])
                    tps = run_once(backend, procs, data, Path(tmp) / f"{backend}{procs}_{repeat}", args)
                    results.setdefault((backend, procs), []).append(tps)
                    print(f"{backend} x{procs} run {repeat}: {tps:,.0f} tokens/s", flush=True)
    rows = []
    for procs in (1, 2):
        torch_tps = statistics.median(results[("torch", procs)])
        nemo_tps = statistics.median(results[("nemo", procs)])
        rows.append(f"| {procs} | {torch_tps:,.0f} | {nemo_tps:,.0f} | {nemo_tps / torch_tps:.2f} |")
    table = "\n".join(["| processes | torch tokens/s | nemo tokens/s | nemo / torch |", "|---|---|---|---|", *rows])
    setup = (f"model `{args.size}` (vocab {args.vocab}), {args.rows} x {args.seq} tokens per step, {args.steps} steps "
             f"({args.warmup} warm-up), float32, {args.threads} threads in all, median of {args.repeats} runs; "
             f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"load average during the runs {min(loads):.1f}-{max(loads):.1f}")
    print(setup)
    print(table)
    if args.out:
        args.out.write_text(f"{setup}\n\n{table}\n")
    write_rows(args, results, loads)


def write_rows(args, results: dict[tuple[str, int], list[float]], loads: list[float]) -> None:
    from summary_rows import BenchResult, Row, load_range, machine, write_result

    rows = []
    for procs in (1, 2):
        torch_runs, nemo_runs = results[("torch", procs)], results[("nemo", procs)]
        each = [n / t for n, t in zip(nemo_runs, torch_runs)]  # the two sides of a repeat ran back to back
        rows.append(Row(what=f"nemo backend tokens/s, CPU, {procs} process(es), model {args.size}, "
                             f"{args.rows} x {args.seq} per step",
                        herd=f"nemo: {statistics.median(nemo_runs):,.0f}",
                        peer=f"herd's torch backend: {statistics.median(torch_runs):,.0f}",
                        ratio=f"{statistics.median(each):.2f}x ({min(each):.2f}-{max(each):.2f})",
                        load=load_range(loads), page="benchmarks/backends.md"))
    command = (f"python bench/nemo_vs_torch.py --size {args.size} --rows {args.rows} --seq {args.seq} --steps "
               f"{args.steps} --warmup {args.warmup} --repeats {args.repeats} --threads {args.threads}"
               + (f" --out {args.out}" if args.out else ""))
    write_result(BenchResult(bench="nemo_vs_torch", command=command, machine=machine(), rows=rows))


if __name__ == "__main__":
    main()
