"""The templated problems: deterministic, every shipped answer verified, every worked
solution passed by the step checker, and every injected error caught at its line."""

import random

import pytest

from herd.plugins.math.problems import FAMILIES, generate, inject, split_of
from herd.plugins.math.steps import check_solution
from herd.plugins.math.verifier import AnswerVerifier

TRAIN = generate(300, 0, "train")
EVAL = generate(120, 0, "eval")


def test_generation_is_deterministic_and_seeded():
    assert generate(300, 0, "train") == TRAIN
    assert generate(20, 1, "train") != TRAIN[:20]


def test_every_family_is_generated():
    assert {p.family for p in TRAIN} == set(FAMILIES)
    assert {p.family for p in EVAL} == set(FAMILIES)


def test_splits_are_disjoint_whatever_the_seed():
    train = {p.question for seed in range(3) for p in generate(100, seed, "train")}
    held_out = {p.question for p in EVAL}
    assert not train & held_out
    assert all(split_of(p.question) == "eval" for p in EVAL)


@pytest.mark.parametrize("problem", TRAIN + EVAL, ids=lambda p: p.id)
def test_answer_is_verified_and_every_step_checks(problem):
    verdict = AnswerVerifier().verify(problem.answer, problem.trace)
    assert verdict.correct, (problem.trace, verdict)
    checked = check_solution(list(problem.solution))
    assert checked.first_wrong_step is None
    # every line but "#### answer" states a computation the checker reads
    assert all(step.claims for step in checked.steps[:-1]), problem.trace


@pytest.mark.parametrize("problem", TRAIN, ids=lambda p: p.id)
def test_injected_error_is_caught_at_its_line(problem):
    mistake = inject(problem, random.Random(problem.seed))
    assert mistake.solution != problem.solution
    assert check_solution(list(mistake.solution)).first_wrong_step == mistake.wrong_step


def test_prompts_are_short_enough_for_small_models():
    assert max(len(p.prompt.split()) for p in TRAIN + EVAL) <= 45


def test_unknown_family_is_named():
    with pytest.raises(ValueError, match="geometry"):
        generate(3, 0, "train", ["geometry"])
