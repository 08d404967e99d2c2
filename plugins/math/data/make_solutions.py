"""Writes step_solutions.jsonl: templated word problems with worked solutions, in the
GSM8K format (``<<expr=value>>`` annotations, ``#### answer``) and as plain text, clean
or with one injected arithmetic error.

    python plugins/math/data/make_solutions.py [--seed 17] [--per-kind 200]

Each row: ``id``, ``question``, ``solution`` (lines joined by newlines), ``answer``,
``annotated``, ``injected_step`` (the 0-based line holding the wrong result, or null).
An injected error changes one step's stated result; later steps compute from the wrong
value, as a model's would, so only that line is wrong.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

OUT = Path(__file__).resolve().parent / "step_solutions.jsonl"


@dataclass
class Writer:
    """Renders steps; ``wrong_at`` is the step whose result is replaced by a wrong one."""

    rng: random.Random
    annotated: bool
    wrong_at: int | None
    lines: list[str]

    def step(self, before: str, expr: str, value: int, after: str, words: str | None = None) -> int:
        if len(self.lines) == self.wrong_at:
            value = _wrong(self.rng, value)
        shown = _money(value) if before.endswith("$") else f"{value:,}" if value >= 10000 else str(value)
        before = before[:-1] if before.endswith("$") else before
        money = "$" if shown.startswith("$") else ""
        calc = expr.replace(" ", "").replace("$", "").replace(",", "")
        if self.annotated:
            self.lines.append(f"{before}{expr} = {money}<<{calc}={value}>>{shown.lstrip('$')}{after}")
        elif words is not None and self.rng.random() < 0.5:
            self.lines.append(words.format(value=shown))
        else:
            self.lines.append(f"{before}{expr} = {shown}{after}")
        return value


def _money(value: int) -> str:
    return f"${value:,}"


def _wrong(rng: random.Random, value: int) -> int:
    choice = rng.randrange(3)
    if choice == 0:
        return value + rng.choice([-3, -2, -1, 1, 2, 3, 10])
    if choice == 1 and value >= 10 and str(value)[::-1] != str(value):
        return int(str(value)[::-1])
    return value * 10 if value else 1


def eggs(w: Writer, rng: random.Random) -> tuple[str, int]:
    laid, eat, bake, price = rng.randint(12, 30), rng.randint(1, 4), rng.randint(2, 6), rng.randint(2, 5)
    q = (f"Janet's ducks lay {laid} eggs per day. She eats {eat} for breakfast every morning and bakes muffins "
         f"with {bake} every day. She sells the rest at ${price} per egg. How much does she make every day?")
    left = w.step("Janet sells ", f"{laid} - {eat} - {bake}", laid - eat - bake, " duck eggs a day.")
    money = w.step("She makes ", f"{left} * {price}", left * price, " every day at the market.",
                   words=f"She makes {left} times {price} dollars, which is ${{value}} every day.")
    w.step("In a week she makes ", f"{money} * 7", money * 7, " dollars.")
    return q, money


def shopping(w: Writer, rng: random.Random) -> tuple[str, int]:
    n, p, m, q_, paid = rng.randint(2, 9), rng.randint(2, 15), rng.randint(2, 9), rng.randint(3, 20), 0
    paid = (n * p + m * q_) // 50 * 50 + 100
    q = (f"Tom buys {n} notebooks at ${p} each and {m} pens at ${q_} each. He pays with ${paid}. "
         f"How much change does he get?")
    a = w.step("The notebooks cost ", f"{n} * {p}", n * p, " dollars.",
               words=f"The notebooks cost {n} times {p}, which is {{value}} dollars.")
    b = w.step("The pens cost ", f"{m} * {q_}", m * q_, " dollars.")
    total = w.step("In total he spends ", f"{a} + {b}", a + b, " dollars.",
                   words=f"In total he spends {a} plus {b}, which is {{value}} dollars.")
    change = w.step("His change is ", f"{paid} - {total}", paid - total, " dollars.")
    return q, change


def trip(w: Writer, rng: random.Random) -> tuple[str, int]:
    s1, h1, s2, h2 = rng.randint(30, 70), rng.randint(2, 6), rng.randint(20, 60), rng.randint(1, 4)
    q = (f"A car drives at {s1} miles per hour for {h1} hours and then at {s2} miles per hour for {h2} hours. "
         f"How far does it go?")
    d1 = w.step("First it covers ", f"{s1} * {h1}", s1 * h1, " miles.")
    d2 = w.step("Then it covers ", f"{s2} x {h2}", s2 * h2, " miles.")
    total = w.step("Altogether it drives ", f"{d1} + {d2}", d1 + d2, " miles.",
                   words=f"Altogether it drives {d1} plus {d2}, so {{value}} miles.")
    return q, total


def house(w: Writer, rng: random.Random) -> tuple[str, int]:
    price, repairs, pct = rng.randint(5, 50) * 10000, rng.randint(2, 9) * 10000, rng.choice([50, 100, 150])
    q = (f"Josh buys a house for ${price:,} and puts ${repairs:,} into repairs. This increased the value of the "
         f"house by {pct}%. How much profit did he make?")
    cost = w.step("The total cost is $", f"{price:,} + {repairs:,}", price + repairs, ".")
    gain = w.step("The value went up by $", f"{price:,} * {pct / 100:g}", price * pct // 100, ".",
                  words=f"{pct}% of {price:,} is {{value}}, so that is how much the value went up.")
    value = w.step("So the house is worth $", f"{gain:,} + {price:,}", gain + price, " now.")
    profit = w.step("His profit is $", f"{value:,} - {cost:,}", value - cost, ".")
    return q, profit


def classroom(w: Writer, rng: random.Random) -> tuple[str, int]:
    n = rng.randint(5, 20) * 8
    q = (f"A school has {n} students. A quarter of them take the bus and half of the rest walk. "
         f"The others are driven. How many are driven?")
    bus = w.step("", f"{n} / 4", n // 4, " students take the bus.",
                 words=f"A quarter of {n} is {{value}}, so that many take the bus.")
    rest = w.step("That leaves ", f"{n} - {bus}", n - bus, " students.")
    walk = w.step("", f"{rest} / 2", rest // 2 if rest % 2 == 0 else rest, " students walk.",
                  words=f"Half of {rest} is {{value}}, who walk.")
    driven = w.step("So ", f"{rest} - {walk}", rest - walk, " are driven.")
    return q, driven


def discount(w: Writer, rng: random.Random) -> tuple[str, int]:
    price, pct, qty = rng.randint(2, 40) * 20, rng.choice([10, 20, 25, 30, 40, 50]), rng.randint(2, 5)
    q = f"A jacket costs ${price}. It is on sale for {pct}% off. How much do {qty} jackets cost on sale?"
    off = w.step("The discount is ", f"{price} * {pct} / 100", price * pct // 100, " dollars.",
                 words=f"{pct}% of {price} is {{value}} dollars off.")
    each = w.step("Each jacket costs ", f"{price} - {off}", price - off, " dollars on sale.")
    total = w.step("So the jackets cost ", f"{each} * {qty}", each * qty, " dollars.",
                   words=f"{qty} jackets cost {each} times {qty}, which is {{value}} dollars.")
    return q, total


def wages(w: Writer, rng: random.Random) -> tuple[str, int]:
    hours, days, rate, bonus = rng.randint(4, 10), rng.randint(3, 6), rng.randint(8, 25), rng.randint(10, 90)
    q = (f"Maria works {hours} hours a day for {days} days and earns ${rate} an hour, plus a ${bonus} bonus. "
         f"How much does she earn?")
    total_hours = w.step("She works ", f"{hours} * {days}", hours * days, " hours.")
    pay = w.step("She earns ", f"({hours} * {days}) * {rate}", hours * days * rate, " dollars before the bonus.")
    del total_hours
    total = w.step("With the bonus she gets ", f"{pay} + {bonus}", pay + bonus, " dollars.")
    return q, total


TEMPLATES: dict[str, Callable[[Writer, random.Random], tuple[str, int]]] = {
    "eggs": eggs, "shopping": shopping, "trip": trip, "house": house, "classroom": classroom,
    "discount": discount, "wages": wages,
}


def solution(template: str, seed: int, annotated: bool, inject: bool) -> dict:
    rng = random.Random(seed)
    probe = Writer(random.Random(seed), annotated, None, [])
    TEMPLATES[template](probe, random.Random(seed))
    wrong_at = rng.randrange(len(probe.lines)) if inject else None
    writer = Writer(rng, annotated, wrong_at, [])
    question, answer = TEMPLATES[template](writer, random.Random(seed))
    writer.lines.append(f"#### {answer}" if annotated else f"The answer is {answer}.")
    return {"question": question, "solution": "\n".join(writer.lines), "answer": str(answer),
            "annotated": annotated, "injected_step": wrong_at, "template": template}


def solutions(per_kind: int, seed: int) -> list[dict]:
    rows = []
    names = list(TEMPLATES)
    for annotated in (True, False):
        for inject in (False, True):
            for i in range(per_kind):
                row = solution(names[i % len(names)], seed * 100_003 + len(rows), annotated, inject)
                rows.append({"id": f"sol-{len(rows)}", **row})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--per-kind", type=int, default=200, help="rows per (annotated, injected) kind")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = solutions(args.per_kind, args.seed)
    with args.out.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(f"wrote {len(rows)} solutions to {args.out}")


if __name__ == "__main__":
    main()
