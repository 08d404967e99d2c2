"""herd's math answer verifier vs math-verify on the shipped 1,000-pair equivalence set,
side by side: precision, recall and pairs/s; then the step checker's detection rates on the
shipped worked solutions.

Both verifiers get the same bare answer strings: herd through
``AnswerVerifier.compare(reference, answer)``, math-verify as
``verify(parse("$reference$"), parse("$answer$"))`` (its docs ask for math delimiters).
Each repeat runs both in turn, alternating which goes first, with sympy's cache cleared
before each, after one untimed warm-up pass of each; speeds are medians over repeats.

    python bench/math_verify.py --repeats 3 [--output docs/benchmarks/math.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, this file's folder leads sys.path and its name would shadow the
# math_verify package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
PAIRS = ROOT / "plugins" / "math" / "data" / "equivalence_pairs.jsonl"
SOLUTIONS = ROOT / "plugins" / "math" / "data" / "step_solutions.jsonl"


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def herd_judge() -> Callable[[str, str], bool]:
    from herd.plugins.math.verifier import AnswerVerifier

    verifier = AnswerVerifier(timeout_s=5.0)
    return lambda ref, ans: verifier.compare(ref, ans).correct


def math_verify_judge() -> Callable[[str, str], bool]:
    from math_verify import parse, verify

    return lambda ref, ans: bool(verify(parse(f"${ref}$"), parse(f"${ans}$")))


def timed_pass(judge: Callable[[str, str], bool], pairs: list[dict]) -> tuple[list[bool], float]:
    import sympy

    sympy.core.cache.clear_cache()
    start = time.perf_counter()
    verdicts = [judge(p["reference"], p["answer"]) for p in pairs]
    return verdicts, time.perf_counter() - start


def quality(verdicts: list[bool], pairs: list[dict]) -> dict:
    tp = sum(v and p["equal"] for v, p in zip(verdicts, pairs))
    fp = sum(v and not p["equal"] for v, p in zip(verdicts, pairs))
    fn = sum(not v and p["equal"] for v, p in zip(verdicts, pairs))
    wrong = [f'{p["category"]}: {p["reference"]!r} vs {p["answer"]!r} (label {p["equal"]})'
             for v, p in zip(verdicts, pairs) if v != p["equal"]]
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "false_accepts": fp, "false_rejects": fn, "wrong": wrong}


def verifier_bench(repeats: int) -> dict:
    pairs = load(PAIRS)
    judges = {"herd": herd_judge(), "math-verify": math_verify_judge()}
    for judge in judges.values():
        timed_pass(judge, pairs[:100])  # warm-up: imports, parsers, sympy
    seconds: dict[str, list[float]] = {name: [] for name in judges}
    verdicts: dict[str, list[bool]] = {}
    for r in range(repeats):
        order = list(judges) if r % 2 == 0 else list(judges)[::-1]
        for name in order:
            verdicts[name], elapsed = timed_pass(judges[name], pairs)
            seconds[name].append(elapsed)
            print(f"repeat {r}: {name} {len(pairs) / elapsed:.0f} pairs/s", flush=True)
    out = {}
    for name in judges:
        out[name] = {**quality(verdicts[name], pairs), "seconds": seconds[name],
                     "pairs_per_s": len(pairs) / statistics.median(seconds[name])}
    out["speedup"] = statistics.median(m / h for h, m in zip(seconds["herd"], seconds["math-verify"]))
    return out


def steps_bench() -> dict:
    from herd.plugins.math.steps import check_solution

    rows = load(SOLUTIONS)
    out = {}
    for annotated in (True, False):
        kind = "annotated" if annotated else "plain"
        injected = [r for r in rows if r["annotated"] == annotated and r["injected_step"] is not None]
        clean = [r for r in rows if r["annotated"] == annotated and r["injected_step"] is None]
        found = sum(check_solution(r["solution"]).first_wrong_step == r["injected_step"] for r in injected)
        alarms = sum(check_solution(r["solution"]).first_wrong_step is not None for r in clean)
        out[kind] = {"injected": len(injected), "first_wrong_found": found, "found_rate": found / len(injected),
                     "clean": len(clean), "false_alarms": alarms, "false_alarm_rate": alarms / len(clean)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
              "load_before": os.getloadavg()}
    result["verifier"] = verifier_bench(args.repeats)
    result["steps"] = steps_bench()
    result["load_after"] = os.getloadavg()
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
