"""herd's math answer verifier vs math-verify on the shipped 1,000-pair equivalence set,
side by side: precision, recall and pairs/s; then the step checker's detection rates on the
shipped worked solutions.

Both verifiers get the same bare answer strings: herd through
``AnswerVerifier.compare(reference, answer)``, math-verify as
``verify(parse("$reference$"), parse("$answer$"))`` (its docs ask for math delimiters).
Each repeat runs both in turn, alternating which goes first, with sympy's cache cleared
before each, after one untimed warm-up pass of each; speeds are medians over repeats, and the 1-minute load
average before each repeat goes into ``bench/results/math_verify.json``.

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
    loads = []
    for r in range(repeats):
        loads.append(os.getloadavg()[0])
        order = list(judges) if r % 2 == 0 else list(judges)[::-1]
        for name in order:
            verdicts[name], elapsed = timed_pass(judges[name], pairs)
            seconds[name].append(elapsed)
            print(f"repeat {r}: {name} {len(pairs) / elapsed:.0f} pairs/s", flush=True)
    out = {}
    for name in judges:
        out[name] = {**quality(verdicts[name], pairs), "seconds": seconds[name],
                     "pairs_per_s": len(pairs) / statistics.median(seconds[name])}
    out["speedups"] = [m / h for h, m in zip(seconds["herd"], seconds["math-verify"])]
    out["speedup"] = statistics.median(out["speedups"])
    out["loads"] = loads
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
    write_rows(args, result)


def write_rows(args, result: dict) -> None:
    import importlib.util

    # This folder is off sys.path (see above), so summary_rows is loaded from its file.
    spec = importlib.util.spec_from_file_location("summary_rows", Path(__file__).resolve().parent / "summary_rows.py")
    rows_mod = importlib.util.module_from_spec(spec)
    sys.modules["summary_rows"] = rows_mod  # dataclasses look their module up by name
    spec.loader.exec_module(rows_mod)
    v, steps = result["verifier"], result["steps"]
    herd, peer = v["herd"], v["math-verify"]
    load = rows_mod.load_range(v["loads"])
    met = herd["precision"] == 1.0 and herd["recall"] >= 0.995
    rows = [
        rows_mod.Row(what="math answer equivalence, 1,000 labelled pairs: precision / recall, pairs/s",
                     herd=f"{herd['precision']:.3f} / {herd['recall']:.3f}, {herd['pairs_per_s']:,.0f}",
                     peer=f"math-verify: {peer['precision']:.3f} / {peer['recall']:.3f}, {peer['pairs_per_s']:,.0f}",
                     ratio=f"{v['speedup']:.1f}x ({min(v['speedups']):.1f}-{max(v['speedups']):.1f})", load=load,
                     page="math.md",
                     goal="precision 1.000, recall >= 0.995, >= 5x: "
                          + ("met" if met and v["speedup"] >= 5 else "not met")),
        rows_mod.Row(what="math step checker on herd's templated solutions: first wrong step found / false alarms "
                          "(annotated; plain)",
                     herd=f"{steps['annotated']['found_rate']:.3f} / {steps['annotated']['false_alarm_rate']:.3f}; "
                          f"{steps['plain']['found_rate']:.3f} / {steps['plain']['false_alarm_rate']:.3f}",
                     peer="no peer", ratio="", load=load, page="math.md",
                     goal=">= 0.95 / <= 0.01; >= 0.90 / <= 0.01"),
    ]
    command = (f"python bench/math_verify.py --repeats {args.repeats}"
               + (f" --output {args.output}" if args.output else ""))
    rows_mod.write_result(rows_mod.BenchResult(bench="math_verify", command=command, machine=rows_mod.machine(),
                                               rows=rows))


if __name__ == "__main__":
    main()
