"""Templated word problems with computable answers (issue 17, "prompts": templated word
problems, shipped and seeded): six families (arithmetic, rates, percentages, fractions,
simple algebra, combinatorics), each problem with a step-wise worked solution in the
GSM8K format (one computation per line, ``<<expr=value>>`` annotations on some, a last
``#### answer`` line) and its exact answer.

A template computes every step from the values of the steps before it, so an injected
arithmetic error (``inject``) changes one line's stated result and later lines compute
from the wrong value, as a model's would: the step checker flags exactly that line.

Problems fall in two disjoint splits by a hash of their question: ``train`` (what the
synthesizer writes) and ``eval`` (the evaluator's held-out set), so no seed of the
synthesizer can write an evaluation problem. Questions are short (under 45 words) so that
a prompt fits the built-in models' 128 to 512 tokens of context.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

# The instruction after each question: the synthesizer's rows and the evaluator's prompts
# share it, so a model trained on the rows answers in the form the evaluator reads.
INSTRUCTION = "Solve step by step. End with #### and the answer."
SPLITS = ("train", "eval")
# One problem in five is held out for evaluation.
_EVAL_SHARE = 5


class WorkedProblem:
    """A question with a worked solution (its lines, the last one ``#### answer``): the
    prompt a model is asked and the trace it is taught, the same for templated and mined
    problems."""

    question: str
    solution: tuple[str, ...]

    @property
    def prompt(self) -> str:
        return f"{self.question}\n{INSTRUCTION}"

    @property
    def trace(self) -> str:
        return "\n".join(self.solution)


@dataclass(frozen=True)
class Problem(WorkedProblem):
    """``solution``: the worked solution's lines, the last one ``#### answer``. ``seed``
    and ``annotated`` rebuild it (``inject`` re-runs the template with them)."""

    id: str
    family: str
    template: str
    question: str
    solution: tuple[str, ...]
    answer: str
    seed: int
    annotated: bool


@dataclass(frozen=True)
class Mistake:
    """``problem`` with one arithmetic error injected at line ``wrong_step`` (0-based) of
    ``solution``; ``answer`` is where the wrong solution ends (usually not the problem's)."""

    problem: Problem
    solution: tuple[str, ...]
    wrong_step: int
    answer: str

    @property
    def trace(self) -> str:
        return "\n".join(self.solution)


class _Writer:
    """Writes a template's steps; the step at ``wrong_at`` states a wrong result."""

    def __init__(self, annotated: bool, wrong_at: int | None = None, rng: random.Random | None = None):
        self.annotated = annotated
        self.wrong_at = wrong_at
        self.rng = rng or random.Random(0)
        self.lines: list[str] = []
        # (expression, value shown) of each step: what a program computing the solution evaluates
        self.computed: list[tuple[str, str]] = []

    def step(self, text: str, expr: str, value: Fraction | int) -> Fraction:
        """``text`` holds ``{calc}``, which becomes ``expr = value`` (annotated when the
        value is an integer: a GSM8K annotation shows whole numbers)."""
        value = Fraction(value)
        if len(self.lines) == self.wrong_at:
            value = wrong_value(self.rng, value)
        shown = show(value)
        self.computed.append((expr, shown))
        if self.annotated and value.denominator == 1:
            calc = f"{expr} = <<{expr.replace(' ', '')}={shown}>>{shown}"
        else:
            calc = f"{expr} = {shown}"
        self.lines.append(text.replace("{calc}", calc))
        return value


def show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _op(value: Fraction) -> str:
    """A value as an operand: a fraction in parentheses, so ``2 / (17/3)`` keeps its meaning."""
    return show(value) if value.denominator == 1 else f"({show(value)})"


def wrong_value(rng: random.Random, value: Fraction) -> Fraction:
    """A near miss, a digit swap or a factor of ten: the slips a model makes."""
    choice = rng.randrange(3)
    if choice == 1 and value.denominator == 1 and value >= 10 and str(value)[::-1] != str(value):
        return Fraction(int(str(value.numerator)[::-1]))
    if choice == 2 and value != 0:
        return value * 10
    return value + rng.choice([-3, -2, -1, 1, 2, 3])


Template = Callable[[_Writer, random.Random], tuple[str, Fraction]]
_NAMES = ("Sam", "Ana", "Leo", "Mia", "Raj", "Eva", "Tom", "Zoe")


# -- arithmetic ---------------------------------------------------------------------------
def marbles(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    name, a, b, c = rng.choice(_NAMES), rng.randint(20, 90), rng.randint(2, 19), rng.randint(3, 40)
    q = f"{name} has {a} marbles, gives {b} to a friend and then buys {c} more. How many marbles does {name} have now?"
    left = w.step("After giving some away: {calc}.", f"{a} - {b}", a - b)
    now = w.step("After buying more: {calc}.", f"{_op(left)} + {c}", left + c)
    return q, now


def boxes(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    a, b, c = rng.randint(4, 24), rng.randint(3, 15), rng.randint(1, 9)
    q = f"A box holds {a} pencils. A teacher has {b} boxes and {c} loose pencils. How many pencils does she have?"
    boxed = w.step("In the boxes: {calc} pencils.", f"{a} * {b}", a * b)
    total = w.step("In all: {calc} pencils.", f"{_op(boxed)} + {c}", boxed + c)
    return q, total


# -- rates --------------------------------------------------------------------------------
def speed(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    v, h, h2 = rng.randint(4, 30) * 5, rng.randint(2, 6), rng.randint(2, 9)
    q = f"A train travels {v * h} km in {h} hours. At the same speed, how many km does it travel in {h2} hours?"
    per_hour = w.step("Its speed is {calc} km per hour.", f"{v * h} / {h}", Fraction(v * h, h))
    far = w.step("In " + str(h2) + " hours it travels {calc} km.", f"{_op(per_hour)} * {h2}", per_hour * h2)
    return q, far


def printers(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    r1, r2, t = rng.randint(3, 20), rng.randint(3, 20), rng.randint(2, 12)
    n = (r1 + r2) * t
    q = (f"One printer prints {r1} pages per minute and another prints {r2}. Working together, how many "
         f"minutes do they need for {n} pages?")
    rate = w.step("Together they print {calc} pages per minute.", f"{r1} + {r2}", r1 + r2)
    minutes = w.step("They need {calc} minutes.", f"{n} / {_op(rate)}", Fraction(n) / rate)
    return q, minutes


# -- percentages --------------------------------------------------------------------------
def discount(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    price, pct = rng.randint(2, 30) * 20, rng.choice([10, 15, 20, 25, 30, 40, 50])
    q = f"A jacket costs ${price}. It is on sale for {pct}% off. What is the sale price in dollars?"
    off = w.step("The discount is {calc} dollars.", f"{price} * {pct} / 100", Fraction(price * pct, 100))
    sale = w.step("The sale price is {calc} dollars.", f"{price} - {_op(off)}", price - off)
    return q, sale


def walkers(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    n, pct = rng.randint(2, 30) * 20, rng.choice([10, 15, 20, 25, 30, 35, 40, 45, 60, 75])
    q = f"A school has {n} students and {pct}% of them walk to school. How many students do not walk?"
    walk = w.step("Students who walk: {calc}.", f"{n} * {pct} / 100", Fraction(n * pct, 100))
    rest = w.step("Students who do not walk: {calc}.", f"{n} - {_op(walk)}", n - walk)
    return q, rest


# -- fractions ----------------------------------------------------------------------------
def pizza(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    while True:
        a, b = Fraction(rng.randint(1, 3), rng.choice([3, 4, 5, 6, 8])), Fraction(1, rng.choice([2, 3, 4, 6, 8]))
        if a.numerator < a.denominator and a + b < 1 and (a + b).denominator > 1:
            break
    name1, name2 = rng.sample(_NAMES, 2)
    q = f"{name1} eats {show(a)} of a pizza and {name2} eats {show(b)} of it. What fraction of the pizza is left?"
    eaten = w.step("Together they eat {calc}.", f"{show(a)} + {show(b)}", a + b)
    left = w.step("What is left is {calc}.", f"1 - {_op(eaten)}", 1 - eaten)
    return q, left


def sheep(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    b = rng.choice([3, 4, 5, 6, 8])
    a, n = rng.randint(1, b - 1), b * rng.randint(3, 15)
    q = f"A farmer has {n} sheep and {a}/{b} of them are white. How many sheep are not white?"
    white = w.step("White sheep: {calc}.", f"{n} * {a} / {b}", Fraction(n * a, b))
    other = w.step("Sheep that are not white: {calc}.", f"{n} - {_op(white)}", n - white)
    return q, other


# -- simple algebra -----------------------------------------------------------------------
def linear(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    a, x, b = rng.randint(2, 9), rng.randint(2, 15), rng.randint(1, 30)
    c = a * x + b
    q = f"Solve for x: {a}x + {b} = {c}."
    rhs = w.step("Subtract " + str(b) + " from both sides: {calc}", f"{c} - {b}", c - b)
    w.lines[-1] += f", so {a}x = {show(rhs)}."
    value = w.step("Divide by " + str(a) + ": x = {calc}.", f"{_op(rhs)} / {a}", rhs / a)
    return q, value


def doubled(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    x, b = rng.randint(3, 40), rng.randint(2, 25)
    q = f"A number is doubled and then {b} is added. The result is {2 * x + b}. What is the number?"
    before = w.step("Before adding " + str(b) + ": {calc}.", f"{2 * x + b} - {b}", 2 * x)
    number = w.step("The number is {calc}.", f"{_op(before)} / 2", before / 2)
    return q, number


# -- combinatorics ------------------------------------------------------------------------
def meals(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    s, m, d = rng.randint(2, 6), rng.randint(2, 8), rng.randint(2, 5)
    q = (f"A cafe offers {s} soups, {m} main dishes and {d} desserts. How many different meals of one soup, "
         f"one main dish and one dessert are there?")
    pairs = w.step("Soup and main dish: {calc} choices.", f"{s} * {m}", s * m)
    total = w.step("With a dessert: {calc} meals.", f"{_op(pairs)} * {d}", pairs * d)
    return q, total


def podium(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    n = rng.randint(4, 30)
    q = f"{n} runners are in a race. In how many ways can first, second and third place be taken?"
    two = w.step("First and second place: {calc} ways.", f"{n} * {n - 1}", n * (n - 1))
    three = w.step("With third place: {calc} ways.", f"{_op(two)} * {n - 2}", two * (n - 2))
    return q, three


def teams(w: _Writer, rng: random.Random) -> tuple[str, Fraction]:
    n = rng.randint(4, 60)
    q = f"How many different teams of 2 players can be chosen from {n} players?"
    ordered = w.step("Ordered pairs: {calc}.", f"{n} * {n - 1}", n * (n - 1))
    count = w.step("Each team is counted twice, so there are {calc} teams.", f"{_op(ordered)} / 2", ordered / 2)
    return q, count


FAMILIES: dict[str, tuple[Template, ...]] = {
    "arithmetic": (marbles, boxes),
    "rates": (speed, printers),
    "percentages": (discount, walkers),
    "fractions": (pizza, sheep),
    "algebra": (linear, doubled),
    "combinatorics": (meals, podium, teams),
}
_TEMPLATES: dict[str, tuple[str, Template]] = {t.__name__: (family, t) for family, ts in FAMILIES.items() for t in ts}


def split_of(question: str) -> str:
    """Which split a question belongs to: a hash, so the splits never share a question."""
    digest = int(hashlib.sha256(question.encode("utf-8")).hexdigest()[:8], 16)
    return "eval" if digest % _EVAL_SHARE == 0 else "train"


def _build(template: str, seed: int, annotated: bool, wrong_at: int | None = None,
           wrong_rng: random.Random | None = None) -> tuple[str, list[str], Fraction]:
    _, write = _TEMPLATES[template]
    writer = _Writer(annotated, wrong_at, wrong_rng)
    question, answer = write(writer, random.Random(seed))
    writer.lines.append(f"#### {show(answer)}")
    return question, writer.lines, answer


def generate(count: int, seed: int, split: str = "train", families: list[str] | None = None) -> list[Problem]:
    """``count`` distinct problems of ``split``, the families in turn; the same arguments
    always give the same problems."""
    if split not in SPLITS:
        raise ValueError(f"split {split!r}: must be one of {', '.join(SPLITS)}")
    chosen = families or list(FAMILIES)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown problem families {unknown}: choose from {', '.join(FAMILIES)}")
    templates = [t.__name__ for f in chosen for t in FAMILIES[f]]
    rng = random.Random(f"herd.math:{split}:{seed}")
    problems: list[Problem] = []
    seen: set[str] = set()
    attempts = 0
    while len(problems) < count:
        attempts += 1
        if attempts > 50 * count + 1000:
            raise ValueError(f"only {len(problems)} distinct {split} problems of {chosen} found for {count} asked; "
                             "ask for fewer or add families")
        template = templates[attempts % len(templates)]
        problem_seed = rng.getrandbits(48)
        annotated = rng.random() < 0.5
        question, lines, answer = _build(template, problem_seed, annotated)
        if question in seen or split_of(question) != split:
            continue
        seen.add(question)
        problems.append(Problem(f"math-{split}-{seed}-{len(problems)}", _TEMPLATES[template][0], template, question,
                                tuple(lines), show(answer), problem_seed, annotated))
    return problems


def computations(problem: Problem) -> tuple[tuple[str, str], ...]:
    """Each step of ``problem``'s worked solution as (expression, value shown), in order:
    the arithmetic a program computing the solution runs (``interleaved.py``)."""
    _, write = _TEMPLATES[problem.template]
    writer = _Writer(problem.annotated)
    write(writer, random.Random(problem.seed))
    return tuple(writer.computed)


def inject(problem: Problem, rng: random.Random) -> Mistake:
    """``problem``'s solution with one step's result replaced by a wrong one; later steps
    compute from it."""
    steps = len(problem.solution) - 1  # the "####" line states no computation
    wrong_at = rng.randrange(steps)
    _, lines, answer = _build(problem.template, problem.seed, problem.annotated, wrong_at, rng)
    return Mistake(problem, tuple(lines), wrong_at, show(answer))
