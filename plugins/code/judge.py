"""The ``code_quality`` judge (docs/recipe.md section 6: "a judge scores correctness and
style"), of kind ``verifier`` so that post-training's rejection sampling and DPO pairs use it.

Signals per row (the last assistant message is the answer):

- ``correct``: 1 when the answer passes tests in the sandbox, else 0 with the failure as
  the reason. The tests are the row's ``metadata["code_tests"]`` (human-eval style
  ``prompt``, ``test``, ``entry_point``: the answer may be a completion of the prompt or
  the whole function), or else the answer's own unit tests (a solution block followed by
  a test block, as the execution-feedback rows have). ``None`` when there is nothing to run.
- ``style``: the static rubric of ``herd.plugins.code.style`` (parses, lint-clean,
  line length, docstrings, nesting, no placeholders, specific exceptions), averaged with
  an LLM rubric rating when ``llm_rubric`` is on. ``None`` for answers without code.

Rows that are neither code-capability rows nor contain code get ``None`` for both, so the
judge stays out of other capabilities' verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from herd.core.protocols import Program, SamplingParams, Score
from herd.core.records import SFTRow
from herd.core.services import Services
from herd.plugins.code import prompts
from herd.plugins.code.answers import CODE_TESTS, code_blocks, completion_from_answer, defines
from herd.plugins.code.settings import CodeJudgeConfig
from herd.plugins.code.style import StyleReport, style_of
from herd.plugins.code.synthesis import TARGETS

NAME = "code_quality"


@dataclass
class Verdict:
    """What the judge found for one answer: the program it ran and why it failed."""

    correct: float | None
    style: StyleReport | None
    reason: str = ""

    def feedback(self, limit: int = 600) -> str:
        """The review as text for the model, at most ``limit`` characters (the end of a
        failure, where the failing assertion is, is what is kept)."""
        reason = self.reason[-limit // 2:] if len(self.reason) > limit // 2 else self.reason
        parts = [reason] if reason else []
        if self.style is not None:
            parts.append(self.style.feedback())
        return "\n".join(parts)[:limit]


def answer_of(row: SFTRow) -> str:
    return next((m.content for m in reversed(row.messages) if m.role == "assistant"), "")


def extract_code(answer: str) -> str:
    """The first fenced block, or the whole answer when it has none (a bare completion)."""
    blocks = code_blocks(answer)
    return blocks[0] if blocks else answer


def humaneval_program(answer: str, tests: dict) -> tuple[str, str]:
    """``(program, code as reviewed)`` for human-eval tests: the answer read as the
    evaluator reads it (``answers.completion_from_answer``: a whole function replaces the
    prompt's definition, a body continues it), then the tests."""
    prompt, entry = tests["prompt"], tests["entry_point"]
    completion = completion_from_answer(prompt, entry, answer)
    code = extract_code(answer)
    reviewed = code.strip() + "\n" if defines(code, entry) else prompt + completion
    return f"{prompt}{completion}\n\n{tests['test']}\n\ncheck({entry})\n", reviewed


class CodeJudge:
    """Programs run in ``services.open_sandbox()``, opened on the first row with tests and
    kept for the judge's lifetime; the LLM rubric asks ``services.generator``."""

    def __init__(self, cfg: CodeJudgeConfig | None, services: Services, name: str = NAME):
        self.cfg = cfg or CodeJudgeConfig()
        self.services = services
        self.name = name
        self._sandbox = None
        self.rater = (services.require_generator(f"judge '{name}'", "llm_rubric = true rates style with a model")
                      if self.cfg.llm_rubric else None)

    def score(self, rows: list[SFTRow]) -> list[list[Score]]:
        return [self._scores(v) for v in self.verdicts(rows)]

    def verdicts(self, rows: list[SFTRow]) -> list[Verdict]:
        plans = [self._plan(row) for row in rows]
        runnable = [(i, p) for i, p in enumerate(plans) if p is not None and p[0] is not None]
        results = self.sandbox().run_many([p[0] for _, p in runnable]) if runnable else []
        outcome = {i: r for (i, _), r in zip(runnable, results)}
        verdicts = []
        for i, (row, plan) in enumerate(zip(rows, plans)):
            if plan is None:
                verdicts.append(Verdict(None, None, "not code"))
                continue
            _, reviewed, language = plan
            try:
                style = style_of(reviewed, language, self.cfg.max_line_length)
            except ValueError as err:  # a language tree-sitter does not know
                verdicts.append(Verdict(None, None, str(err)))
                continue
            if i not in outcome:
                verdicts.append(Verdict(None, style, "no tests to run"))
                continue
            result = outcome[i]
            verdicts.append(Verdict(1.0 if result.passed else 0.0, style, "" if result.passed else _failure(result)))
        if self.cfg.llm_rubric:
            self._llm_rubric(rows, verdicts)
        return verdicts

    def sandbox(self):
        if self._sandbox is None:
            # Verifying rows batch after batch reuses one sandbox (warm containers).
            self._sandbox = self.services.sandbox_for(self)
        return self._sandbox

    # -- what to run -----------------------------------------------------------------------
    def _plan(self, row: SFTRow) -> tuple[Program | None, str, str] | None:
        """``(program or None, code to review, language)``, or None when the row is not code."""
        answer = answer_of(row)
        tests = row.metadata.get(CODE_TESTS)
        language = (row.language or "python").lower()
        target = TARGETS.get(language)
        if isinstance(tests, dict) and {"prompt", "test", "entry_point"} <= set(tests):
            source, reviewed = humaneval_program(answer, tests)
            return Program({"main.py": source}, ["python3", "main.py"], self.cfg.timeout_s), reviewed, "python"
        blocks = code_blocks(answer)
        if not blocks and row.capability != "code":
            return None
        if target is None:
            return None, blocks[0] if blocks else answer, language
        if len(blocks) >= 2:
            source = target.program(blocks[0], blocks[1])
            return (Program({target.filename: source}, [target.interpreter, target.filename], self.cfg.timeout_s),
                    blocks[0], target.language)
        return None, blocks[0] if blocks else answer, target.language

    def _scores(self, verdict: Verdict) -> list[Score]:
        style = None if verdict.style is None else round(verdict.style.score, 4)
        return [Score(self.name, "correct", verdict.correct, verdict.reason),
                Score(self.name, "style", style, verdict.style.feedback() if verdict.style else verdict.reason)]

    # -- the LLM rubric --------------------------------------------------------------------
    def _llm_rubric(self, rows: list[SFTRow], verdicts: list[Verdict]) -> None:
        generator = self.rater
        todo = [(row, v) for row, v in zip(rows, verdicts) if v.style is not None and v.style.score > 0]
        if generator is None or not todo:
            return
        asks = [prompts.STYLE_RUBRIC.format(code=extract_code(answer_of(row))) for row, _ in todo]
        replies = generator.generate(asks, SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens, n=1))
        for (_, verdict), reply in zip(todo, replies):
            rating = _rating(reply[0] if reply else "")
            if rating is None:
                verdict.style.issues.append("the LLM rubric gave no 1-5 rating; static rubric only")
                continue
            verdict.style.checks["llm_rubric"] = rating >= 4
            verdict.style.score = (verdict.style.score + (rating - 1) / 4) / 2


def _rating(text: str) -> int | None:
    match = re.search(r"\b([1-5])\b", text)
    return int(match.group(1)) if match else None


def _failure(result) -> str:
    what = {"timeout": "did not finish within the time limit", "oom": "ran out of memory",
            "output_limit": "printed too much output"}.get(result.status)
    if what:
        return f"the tests {what}"
    tail = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return f"the tests failed (exit code {result.exit_code}): " + ("\n".join(tail[-6:]) if tail else "no error output")
