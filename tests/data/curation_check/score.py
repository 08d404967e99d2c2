"""Score a `curate` output against the check set's labels, and write the result table of
docs/curation.md.

    python tests/data/curation_check/score.py --run /tmp/check --write-doc docs/curation.md

runs ``python cli.py curate`` (the default steps) on ``pages.jsonl`` into ``--run``, scores
kept/ and dropped/ against ``labels.jsonl`` and replaces the part of the doc between the
``check-set`` markers. tests/plugins/curation_steps/test_check_set.py runs the same.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PAGES = HERE / "pages.jsonl"
LABELS = HERE / "labels.jsonl"
BEGIN, END = "<!-- check-set:begin -->", "<!-- check-set:end -->"


@dataclass
class Outcome:
    id: str
    expected: str
    language: str
    kind: str
    expected_reason: str
    kept: bool
    reason: str  # the drop reason, "" when kept
    detected_language: str | None


@dataclass
class CheckResult:
    outcomes: list[Outcome] = field(default_factory=list)

    def _rate(self, rows: list[Outcome], kept: bool) -> float:
        return sum(o.kept == kept for o in rows) / len(rows) if rows else 0.0

    @property
    def good(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.expected == "keep"]

    @property
    def junk(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.expected == "drop"]

    @property
    def good_kept(self) -> float:
        return self._rate(self.good, True)

    @property
    def junk_dropped(self) -> float:
        return self._rate(self.junk, False)

    def by(self, rows: list[Outcome], key: str) -> dict[str, list[Outcome]]:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in rows:
            groups[getattr(o, key)].append(o)
        return dict(sorted(groups.items()))

    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kept != (o.expected == "keep")]


def labels() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def run_curate(out: Path, *extra: str) -> None:
    cmd = [sys.executable, str(REPO / "cli.py"), "curate", "--input", str(PAGES), "--output", str(out), *extra]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=os.environ.copy(), timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"curate on the check set failed (rc {done.returncode}):\n{done.stderr[-3000:]}")


def score(out: Path) -> CheckResult:
    from herd.lib.documents import read_kept
    from herd.plugins.curation.io import read_dropped

    kept = {doc.id: doc.language for doc in read_kept(out / "kept")}
    dropped = {d["id"]: d for d in read_dropped(out / "dropped")}
    result = CheckResult()
    for label in labels():
        drop = dropped.get(label["id"])
        if label["id"] not in kept and drop is None:
            raise RuntimeError(f"check-set page {label['id']} is neither in kept/ nor in dropped/ of {out}")
        result.outcomes.append(Outcome(
            label["id"], label["expected"], label["language"], label["kind"], label["reason"],
            kept=drop is None, reason=drop["reason"] if drop else "",
            detected_language=kept.get(label["id"]) if drop is None else drop.get("language"),
        ))
    return result


def markdown(result: CheckResult) -> str:
    lines = [
        f"Good pages kept: **{sum(o.kept for o in result.good)}/{len(result.good)} "
        f"({result.good_kept:.1%})**; junk pages dropped: **{sum(not o.kept for o in result.junk)}/"
        f"{len(result.junk)} ({result.junk_dropped:.1%})**.",
        "",
        "| language | good pages | kept | keep rate | LID correct |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang, rows in result.by(result.good, "language").items():
        lid = sum(o.detected_language == lang for o in rows)
        lines.append(f"| {lang} | {len(rows)} | {sum(o.kept for o in rows)} | "
                     f"{sum(o.kept for o in rows) / len(rows):.0%} | {lid}/{len(rows)} |")
    lines += ["", "| junk kind | pages | dropped | drop rate | reasons |", "|---|---:|---:|---:|---|"]
    for kind, rows in result.by(result.junk, "kind").items():
        reasons = Counter(o.reason or "(kept)" for o in rows)
        text = ", ".join(f"`{r}` {n}" for r, n in sorted(reasons.items()))
        n_dropped = sum(not o.kept for o in rows)
        lines.append(f"| {kind} | {len(rows)} | {n_dropped} | {n_dropped / len(rows):.0%} | {text} |")
    misses = result.misses()
    lines += ["", "Pages on the wrong side:" if misses else "No page is on the wrong side."]
    for o in misses:
        what = f"dropped by `{o.reason}`" if not o.kept else "kept"
        lines.append(f"- `{o.id}` (expected {o.expected}): {what}")
    return "\n".join(lines)


def write_doc(doc: Path, table: str) -> None:
    text = doc.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc} has no {BEGIN} ... {END} markers to replace")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="output folder of the curate run")
    parser.add_argument("--reuse", action="store_true", help="score an existing run instead of running curate")
    parser.add_argument("--write-doc", type=Path, help="replace the check-set table of this file")
    args = parser.parse_args()
    if not args.reuse:
        run_curate(args.run)
    table = markdown(score(args.run))
    if args.write_doc:
        write_doc(args.write_doc, table)
    print(table)


if __name__ == "__main__":
    main()
