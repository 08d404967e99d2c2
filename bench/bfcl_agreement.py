"""herd's ``eval-tools`` checker against bfcl-eval's own AST checker, on BFCL's shipped
data: every question of the AST and relevance categories, each with seeded response
variants (right calls, a wrong value, a missing required parameter, an unknown parameter,
a wrong type, a wrong function name, no call, parallel calls reordered, a truncated call),
all written as BFCL's Python call lists. Reports the share of verdicts that agree, the
disagreements by variant (a truncated call on an irrelevance row is the one difference by
design: bfcl-eval counts it as abstention, herd as wrong), and rows/s of both checkers.

bfcl-eval pins old numpy and tree-sitter, so it lives in its own environment:

    python -m venv /work/venvs/bfcl && /work/venvs/bfcl/bin/pip install bfcl-eval==2026.3.23
    python bench/bfcl_agreement.py --bfcl-python /work/venvs/bfcl/bin/python --repeats 3
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
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from summary_rows import BenchResult, Row, load_range, machine, write_result  # noqa: E402

CATEGORIES = ["simple_python", "multiple", "parallel", "parallel_multiple", "live_simple", "live_multiple",
              "live_parallel", "live_parallel_multiple", "irrelevance", "live_irrelevance", "live_relevance"]


def bfcl_data_dir(python: str) -> Path:
    out = subprocess.run([python, "-c", "import bfcl_eval, os; print(os.path.dirname(bfcl_eval.__file__))"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip()) / "data"


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def first_value(acceptable: list[Any]) -> tuple[bool, Any]:
    for value in acceptable:
        if value != "":
            return True, value
    return False, None


def render(calls: list[tuple[str, dict[str, Any]]]) -> str:
    return "[" + ", ".join(f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in args.items()) + ")"
                           for name, args in calls) + "]"


def right_calls(truth: list[dict]) -> list[tuple[str, dict[str, Any]]]:
    calls = []
    for item in truth:
        (name, params), = item.items()
        args = {}
        for param, acceptable in params.items():
            present, value = first_value(acceptable)
            if present:
                args[param] = value
        calls.append((name, args))
    return calls


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + " zz"
    if isinstance(value, list):
        return value + ["zz"]
    return None


def variants(question: dict, answer: dict | None, category: str, rng: random.Random) -> dict[str, str]:
    functions = question["function"]
    if answer is None:  # relevance rows: no possible answer; a call to an offered function or none
        if not functions:
            return {"no_call": "I cannot help with that."}
        f = functions[0]
        props = (f.get("parameters") or {}).get("properties") or {}
        args = {p: 1 if (s.get("type") in ("integer", "float")) else "x" for p, s in list(props.items())[:2]}
        call = render([(f["name"], args)])
        return {"no_call": "I cannot help with that using these functions.", "call": call, "truncated": call[:-3]}
    right = right_calls(answer["ground_truth"])
    out = {"right": render(right), "no_call": "I do not know.", "truncated": render(right)[:-3]}
    name, args = right[0]
    out["wrong_name"] = render([(name + "_zz", args)] + right[1:])
    out["unknown_param"] = render([(name, {**args, "zz_unknown": 1})] + right[1:])
    for param in rng.sample(sorted(args), len(args)):
        new = changed(args[param])
        if new is not None:
            out["wrong_value"] = render([(name, {**args, param: new})] + right[1:])
            break
    for param in sorted(args):
        value = args[param]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out["wrong_type"] = render([(name, {**args, param: str(value)})] + right[1:])
            break
    definition = next((f for f in functions if f["name"] == name), None)
    required = [p for p in ((definition or {}).get("parameters") or {}).get("required", []) if p in args]
    if required:
        dropped = dict(args)
        del dropped[rng.choice(required)]
        out["missing_required"] = render([(name, dropped)] + right[1:])
    if len(right) > 1:
        out["reordered"] = render(list(reversed(right)))
    return out


def build(data: Path, folder: Path, seed: int) -> dict[str, str]:
    """Rows under ``folder``; returns each response id's variant."""
    rng = random.Random(seed)
    questions, answers, responses, categories, kinds = [], [], [], {}, {}
    for category in CATEGORIES:
        truth = {}
        answer_file = data / "possible_answer" / f"BFCL_v4_{category}.json"
        if answer_file.exists():
            truth = {r["id"]: r for r in read(answer_file)}
        for question in read(data / f"BFCL_v4_{category}.json"):
            answer = truth.get(question["id"])
            if answer is None and "relevance" not in category:
                continue  # an AST row BFCL ships without its possible answer
            for kind, text in variants(question, answer, category, rng).items():
                # each variant is its own question row: same content, id suffixed, category kept
                rid = f"{category}_{len(questions)}"
                questions.append({**question, "id": rid})
                if answer is not None:
                    answers.append({**answer, "id": rid})
                responses.append({"id": rid, "response": text})
                categories[rid], kinds[rid] = category, kind
    for name, rows in (("questions", questions), ("answers", answers), ("responses", responses)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "categories.json").write_text(json.dumps(categories))
    return kinds


def herd_verdicts(folder: Path) -> tuple[dict[str, bool | None], float]:
    from herd.plugins.tools.bfcl.rows import read_answers, read_questions, read_responses
    from herd.plugins.tools.bfcl.scoring import score

    questions = read_questions(folder / "questions.jsonl")
    answers, responses = read_answers(folder / "answers.jsonl"), read_responses(folder / "responses.jsonl")
    start = time.perf_counter()
    evaluation = score(questions, answers, responses)
    seconds = time.perf_counter() - start
    return {v.id: v.correct for v in evaluation.verdicts}, seconds


def peer_verdicts(python: str, folder: Path) -> tuple[dict[str, bool], float]:
    out = subprocess.run([python, str(Path(__file__).resolve().parent / "bfcl_peer.py"), str(folder)],
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["verdicts"], data["seconds"]


def page(report: dict) -> str:
    lines = [
        "# Tool calls: herd's `eval-tools` against bfcl-eval's AST checker",
        "",
        "Generated by `python bench/bfcl_agreement.py --bfcl-python /work/venvs/bfcl/bin/python --repeats 3`.",
        "Data: the questions and possible answers bfcl-eval 2026.3.23 ships, categories "
        + ", ".join(CATEGORIES) + "; each question with seeded response variants written as BFCL's Python call "
        "lists. Speed: median seconds over the repeats (herd and bfcl-eval alternating, one warm-up pass of "
        f"each), 1-minute load average {min(report['load']):.1f}-{max(report['load']):.1f} on {os.cpu_count()} cores.",
        "",
        "| figure | value |", "|---|---|",
        f"| response rows | {report['rows']:,} |",
        f"| same verdict | {report['agree']:,} ({100 * report['agreement']:.2f}%) |",
        f"| same verdict, counting the designed difference as agreement | "
        f"{100 * report['agreement_outside_the_designed_difference']:.3f}% |",
        f"| herd rows/s | {report['herd_rows_per_s']:,.0f} |",
        f"| bfcl-eval rows/s | {report['bfcl_rows_per_s']:,.0f} |",
        "", "Variants (rows): " + ", ".join(f"{k} {v:,}" for k, v in report["variants"].items()) + ".",
        "", "## Disagreements", "",
        "| variant | category | herd | bfcl-eval | rows |", "|---|---|---|---|---|",
    ]
    lines += [f"| {d['variant']} | {d['category']} | {d['herd']} | {d['bfcl']} | {d['rows']} |"
              for d in report["disagreements"]]
    lines += ["", "A truncated call on an irrelevance row is the designed difference: bfcl-eval cannot decode "
              "it and counts that as abstention (right); herd counts a call that does not parse as wrong "
              "everywhere. Other rows are explained on docs/tools.md.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bfcl-python", required=True, help="the Python of an environment with bfcl-eval")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks" / "tools.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        kinds = build(bfcl_data_dir(args.bfcl_python), folder, args.seed)
        herd_s, peer_s, loads = [], [], []
        for repeat in range(args.repeats + 1):  # the first pass of each warms up, untimed
            loads.append(os.getloadavg()[0])
            order = ["herd", "peer"] if repeat % 2 == 0 else ["peer", "herd"]
            for who in order:
                if who == "herd":
                    mine, seconds = herd_verdicts(folder)
                    if repeat:
                        herd_s.append(seconds)
                else:
                    theirs, seconds = peer_verdicts(args.bfcl_python, folder)
                    if repeat:
                        peer_s.append(seconds)
    rows = len(kinds)
    agree, by_kind, disagreements = 0, Counter(), Counter()
    for rid, kind in kinds.items():
        by_kind[kind] += 1
        if mine[rid] == theirs[rid]:
            agree += 1
        else:
            disagreements[(kind, rid.rsplit("_", 1)[0], mine[rid], theirs[rid])] += 1
    by_design = sum(n for (kind, category, _, _), n in disagreements.items()
                    if kind == "truncated" and "irrelevance" in category)
    herd_rate, peer_rate = rows / statistics.median(herd_s), rows / statistics.median(peer_s)
    report = {
        "rows": rows, "agree": agree, "agreement": agree / rows,
        "agreement_outside_the_designed_difference": (agree + by_design) / rows,
        "by_design": by_design, "variants": dict(by_kind),
        "disagreements": [{"variant": k, "category": c, "herd": h, "bfcl": b, "rows": n}
                          for (k, c, h, b), n in sorted(disagreements.items(), key=lambda x: -x[1])],
        "herd_rows_per_s": herd_rate, "bfcl_rows_per_s": peer_rate, "load": loads,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page(report))
    write_result(BenchResult(
        bench="bfcl_agreement",
        command="python bench/bfcl_agreement.py --bfcl-python /work/venvs/bfcl/bin/python --repeats 3",
        machine=machine(),
        rows=[Row(what=f"BFCL AST checking, rows/s ({rows} response rows over {len(CATEGORIES)} categories)",
                  herd=f"{herd_rate:,.0f}", peer=f"bfcl-eval 2026.3.23: {peer_rate:,.0f}",
                  ratio=f"{herd_rate / peer_rate:.1f}x", load=load_range(loads), page="benchmarks/tools.md",
                  goal=f"same verdict on {100 * agree / rows:.1f}% of rows; "
                       f"{100 * (agree + by_design) / rows:.1f}% counting truncated calls on irrelevance "
                       "rows (wrong in herd by design)")]))
    print(json.dumps({k: v for k, v in report.items() if k != "disagreements"}, indent=1))
    print(json.dumps(report["disagreements"][:20], indent=1))


if __name__ == "__main__":
    main()
