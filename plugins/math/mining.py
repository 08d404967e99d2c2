"""Prompts mined from the curated corpus (issue 17, "prompts mined from the curated corpus's
math documents"): the curate stage's ``kept/`` documents that the domain classifier
labelled ``math_reasoning``, and in them only passages whose answer herd can check.

Two kinds of passage are mined; every other passage is skipped:

- ``worked``: a question (a paragraph of at most 60 words ending in ``?``) followed by a
  worked solution that marks its final answer (``####``, "the answer is", ``\\boxed``).
  Kept when the step checker reads at least one arithmetic claim in it, finds none wrong,
  and the marked answer equals the last claim's computed value (the answer verifier
  decides), so the answer is one the text computes, not one it merely asserts.
- ``arithmetic``: an arithmetic claim with at least two operators that the step checker
  re-computes and finds right (``10*100*5 + 10*5*50 = 7500`` in prose, or a doctest
  ``>>> 2**10 - 24`` whose printed output follows). The prompt asks for the computation;
  the answer is its exact value.

The curate stage writes ``kept/part-*.jsonl.gz`` (or ``.parquet``) of ``Document`` rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from herd.core.errors import InputError
from herd.core.records import Document
from herd.lib.documents import read_kept
from herd.plugins.math.problems import WorkedProblem
from herd.plugins.math.steps import check_line, check_solution
from herd.plugins.math.verifier import AnswerVerifier

_QUESTION_WORDS = 60
_MAX_EXPRESSION = 60
_ANSWER_MARK = re.compile(r"####|\bthe answer is\b|\\boxed", re.I)
_DOCTEST = re.compile(r"^\s*>>>\s*(.+)$")
_OPERATORS = re.compile(r"(?<=[\d)%])\s*[-+*/^×÷x]\s*(?=[\d($.])")


@dataclass(frozen=True)
class MinedProblem(WorkedProblem):
    """``solution``: the worked solution's lines (the passage's own, or the one claim for
    an ``arithmetic`` passage), the last one ``#### answer``."""

    id: str
    kind: str
    question: str
    solution: tuple[str, ...]
    answer: str
    document: str



def read_documents(kept: Path) -> Iterator[Document]:
    """The documents of a curate stage's ``kept/`` folder, in file-name order."""
    if not kept.is_dir():
        raise InputError(f"{kept}: no kept/ folder of a curate stage (set [synthesizers.math] corpus to a curate "
                         "stage's folder, or leave it empty)")
    return read_kept(kept)


def mine(documents: Iterator[Document], domain: str, limit: int, verifier: AnswerVerifier) -> list[MinedProblem]:
    """At most ``limit`` checked problems from the documents of ``domain``, in document order."""
    found: list[MinedProblem] = []
    seen: set[str] = set()
    for doc in documents:
        if doc.domain != domain:
            continue
        for problem in [*_worked(doc, verifier), *_arithmetic(doc)]:
            if len(found) >= limit:
                return found
            if problem.question not in seen:
                seen.add(problem.question)
                found.append(problem)
    return found


def _worked(doc: Document, verifier: AnswerVerifier) -> Iterator[MinedProblem]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", doc.text) if p.strip()]
    for i, (question, solution) in enumerate(zip(paragraphs, paragraphs[1:])):
        if not question.endswith("?") or len(question.split()) > _QUESTION_WORDS or not _ANSWER_MARK.search(solution):
            continue
        lines = [line.strip() for line in solution.split("\n") if line.strip()]
        checked = check_solution(lines)
        claims = [c for s in checked.steps for c in s.claims]
        if not claims or checked.first_wrong_step is not None:
            continue
        verdict = verifier.verify(claims[-1].computed, solution)
        if not verdict.correct or verdict.extracted is None:
            continue
        if not lines[-1].startswith("####"):
            lines.append(f"#### {verdict.extracted}")
        yield MinedProblem(f"{doc.id}#worked{i}", "worked", question, tuple(lines), verdict.extracted, doc.id)


def _arithmetic(doc: Document) -> Iterator[MinedProblem]:
    lines = doc.text.split("\n")
    for i, line in enumerate(lines):
        doctest = _DOCTEST.match(line)
        if doctest:
            shown = lines[i + 1].strip() if i + 1 < len(lines) else ""
            line = f"{doctest.group(1)} = {shown}" if re.fullmatch(r"-?\d+(?:\.\d+)?", shown) else ""
        for claim in check_line(line):
            expression = claim.expression.strip()
            if not claim.correct or len(_OPERATORS.findall(expression)) < 2 or len(expression) > _MAX_EXPRESSION:
                continue
            yield MinedProblem(f"{doc.id}#line{i}", "arithmetic", f"Compute {expression}.",
                               (f"{expression} = {claim.computed}", f"#### {claim.computed}"), claim.computed, doc.id)
