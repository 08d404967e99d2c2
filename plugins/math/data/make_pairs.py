"""Writes equivalence_pairs.jsonl: 1,000 labelled (reference, answer) pairs over every
category the verifier covers, half equal and half not, with exactness traps.

    python plugins/math/data/make_pairs.py [--seed 17] [--count 1000]

Each row: ``id``, ``category``, ``reference``, ``answer``, ``equal``. The labels are
mathematical facts the generator knows by construction (both sides are written from the
same numbers), not outputs of any verifier.
"""

from __future__ import annotations

import argparse
import json
import random
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Callable

OUT = Path(__file__).resolve().parent / "equivalence_pairs.jsonl"
Pair = tuple[str, str]


def _sep(n: int) -> str:
    return f"{n:,}"


def integers(rng: random.Random, equal: bool) -> Pair:
    n = rng.randint(1000, 9_999_999)
    if equal:
        return str(n), rng.choice([_sep(n), f"{_sep(n)} apples", f"{n} cm", f"{n}\\text{{ meters}}",
                                   _sep(n).replace(",", " ")])
    m = rng.choice([n + rng.choice([-10, -1, 1, 9, 100]), n * 10, int(str(n)[::-1]) if str(n)[::-1] != str(n) else n + 1])
    return str(n), rng.choice([_sep(m), f"{m} apples", f"{n}.5"])


def currency(rng: random.Random, equal: bool) -> Pair:
    cents = rng.randint(100, 999_999)
    dollars = f"{cents // 100}.{cents % 100:02d}"
    ref = f"\\${_sep(cents // 100)}.{cents % 100:02d}"
    if equal:
        return ref, rng.choice([dollars, f"${dollars}", f"{dollars} dollars", f"\\${dollars}"])
    wrong = cents + rng.choice([1, -1, 10, 100, 1000])
    return ref, f"${wrong // 100}.{wrong % 100:02d}"


def decimals(rng: random.Random, equal: bool) -> Pair:
    den = rng.choice([2, 4, 5, 8, 10, 20, 25, 40, 50, 125])
    num = rng.randint(1, den - 1)
    value = Fraction(num, den)
    text = _decimal(value)
    if equal:
        return text, rng.choice([f"\\frac{{{num}}}{{{den}}}", text + "0", text.lstrip("0") or "0", f"{num}/{den}"])
    return text, rng.choice([_decimal(value + Fraction(1, 10**7)), text[:-1] if len(text) > 3 else text + "1",
                             _decimal(1 - value) if value != Fraction(1, 2) else "0.05"])


def _decimal(value: Fraction) -> str:
    whole = value.numerator // value.denominator
    rest = value - whole
    digits = ""
    while rest and len(digits) < 12:
        rest *= 10
        digits += str(rest.numerator // rest.denominator)
        rest -= rest.numerator // rest.denominator
    return f"{whole}.{digits}" if digits else str(whole)


def fractions(rng: random.Random, equal: bool) -> Pair:
    a, b = rng.randint(1, 30), rng.randint(2, 31)
    while gcd(a, b) != 1 or a == b:
        a, b = rng.randint(1, 30), rng.randint(2, 31)
    k = rng.randint(2, 5)
    ref = f"\\frac{{{a}}}{{{b}}}"
    if equal:
        return ref, rng.choice([f"\\dfrac{{{a}}}{{{b}}}", f"{a}/{b}", f"\\frac{{{a * k}}}{{{b * k}}}", f"\\tfrac{{{a}}}{{{b}}}",
                                f"{a * k}/{b * k}"])
    return ref, rng.choice([f"\\frac{{{b}}}{{{a}}}", f"\\frac{{{a}}}{{{b + 1}}}", f"{a + 1}/{b}", f"\\frac{{{a * k}}}{{{b * k + 1}}}"])


def radicals(rng: random.Random, equal: bool) -> Pair:
    a, n = rng.randint(2, 9), rng.choice([2, 3, 5, 6, 7, 10, 11])
    ref = f"{a}\\sqrt{{{n}}}"
    if equal:
        return ref, rng.choice([f"\\sqrt{{{a * a * n}}}", f"\\sqrt{{{n}}}\\cdot {a}", f"{a}*sqrt({n})",
                                f"\\frac{{{a * n}}}{{\\sqrt{{{n}}}}}"])
    return ref, rng.choice([f"{n}\\sqrt{{{a}}}" if a != n else f"{a + 1}\\sqrt{{{n}}}", f"\\sqrt{{{a * n}}}",
                            f"\\sqrt{{{a * a * n + 1}}}", f"{a + 1}\\sqrt{{{n}}}"])


def pi_values(rng: random.Random, equal: bool) -> Pair:
    a, b = rng.randint(1, 11), rng.randint(2, 12)
    while gcd(a, b) != 1:
        a, b = rng.randint(1, 11), rng.randint(2, 12)
    ref = f"\\frac{{{a}\\pi}}{{{b}}}"
    if equal:
        return ref, rng.choice([f"{a}\\pi/{b}", f"\\frac{{{2 * a}\\pi}}{{{2 * b}}}", f"\\frac{{{a}}}{{{b}}}\\pi",
                                f"{a}/{b} * pi"])
    return ref, rng.choice([f"\\frac{{{a}\\pi}}{{{b + 1}}}", f"\\frac{{{a}*3.14}}{{{b}}}",
                            f"{float(a * 3.141592653589793 / b):.10f}", f"\\frac{{{a + 1}\\pi}}{{{b}}}"])


def scientific(rng: random.Random, equal: bool) -> Pair:
    m, e = rng.randint(11, 99), rng.randint(-8, 9)
    mant = f"{m // 10}.{m % 10}"
    ref = f"{mant}\\times 10^{{{e}}}"
    value = Fraction(m, 10) * Fraction(10) ** e
    if equal:
        return ref, rng.choice([f"{mant}e{e}", f"{mant} \\cdot 10^{{{e}}}", _decimal(value) if value.denominator < 10**13 else f"{mant}E{e}",
                                f"{m}\\times10^{{{e - 1}}}"])
    return ref, rng.choice([f"{mant}e{e + 1}", f"{mant}\\times 10^{{{-e if e else 1}}}", f"{m % 10}.{m // 10}e{e}" if m % 11 else f"{mant}e{e - 1}"])


def degrees(rng: random.Random, equal: bool) -> Pair:
    d = rng.choice([15, 30, 36, 45, 60, 72, 90, 120, 135, 150, 180, 210, 270])
    f = Fraction(d, 180)
    ref = f"{d}^\\circ"
    radians = f"\\frac{{{f.numerator}\\pi}}{{{f.denominator}}}" if f.denominator != 1 else f"{f.numerator}\\pi"
    if equal:
        return ref, rng.choice([str(d), f"{d}°", f"{d}^{{\\circ}}", radians, f"{d} degrees"])
    return ref, rng.choice([str(d + 5), f"{d + 1}°", f"\\frac{{\\pi}}{{{d}}}", f"{d}\\pi"])


def percentages(rng: random.Random, equal: bool) -> Pair:
    p = rng.randint(1, 99)
    ref = f"{p}\\%"
    if equal:
        return ref, rng.choice([str(p), f"{p}%", _decimal(Fraction(p, 100)), f"{p} percent"])
    return ref, rng.choice([str(p + 1), _decimal(Fraction(p, 1000)), f"{p / 10}%", str(p * 10)])


def sets(rng: random.Random, equal: bool) -> Pair:
    items = rng.sample(range(-20, 30), rng.randint(2, 5))
    ref = "\\{" + ", ".join(map(str, items)) + "\\}"
    shuffled = items[:]
    rng.shuffle(shuffled)
    if equal:
        return ref, rng.choice(["\\{" + ", ".join(map(str, shuffled)) + "\\}", ", ".join(map(str, shuffled)),
                                "\\{" + ",".join(map(str, shuffled)) + "\\}"])
    changed = shuffled[:-1] if rng.random() < 0.5 else shuffled[:-1] + [shuffled[-1] + 31]
    return ref, "\\{" + ", ".join(map(str, changed)) + "\\}"


def tuples(rng: random.Random, equal: bool) -> Pair:
    items = rng.sample(range(-9, 20), rng.randint(2, 4))
    ref = "(" + ", ".join(map(str, items)) + ")"
    if equal:
        return ref, rng.choice(["(" + ",".join(map(str, items)) + ")", "\\left(" + ", ".join(map(str, items)) + "\\right)",
                                "(" + ", ".join(f"\\frac{{{2 * i}}}{{2}}" for i in items) + ")"])
    return ref, "(" + ", ".join(map(str, items[::-1])) + ")"


def intervals(rng: random.Random, equal: bool) -> Pair:
    a = rng.randint(-10, 5)
    b = a + rng.randint(1, 10)
    lo, hi = rng.choice(["[", "("]), rng.choice(["]", ")"])
    lo_text = rng.choice([str(a), "-\\infty"]) if lo == "(" else str(a)
    hi_text = rng.choice([str(b), "\\infty"]) if hi == ")" else str(b)
    ref = f"{lo}{lo_text}, {hi_text}{hi}"
    if equal:
        return ref, rng.choice([f"{lo}{lo_text},{hi_text}{hi}", f"\\left{lo}{lo_text}, {hi_text}\\right{hi}"])
    options = []
    if "infty" not in lo_text:
        options.append(f"{'(' if lo == '[' else '['}{lo_text}, {hi_text}{hi}")
    if "infty" not in hi_text:
        options.append(f"{lo}{lo_text}, {hi_text}{')' if hi == ']' else ']'}")
    return ref, rng.choice(options or [f"({a}, \\infty)"])


def equations(rng: random.Random, equal: bool) -> Pair:
    v, n = rng.choice("xyzk"), rng.randint(-30, 30)
    if rng.random() < 0.5:
        ref = f"{v} = {n}"
        if equal:
            return ref, rng.choice([str(n), f"{v}={n}", f"{v} = \\frac{{{2 * n}}}{{2}}"])
        return ref, rng.choice([str(n + 1), f"{v} = {-n if n else 1}", f"{v}={n - 2}"])
    m, c = rng.randint(2, 9), rng.randint(1, 9)
    ref = f"y = {m}x + {c}"
    if equal:
        return ref, rng.choice([f"y={c}+{m}x", f"{m}x - y + {c} = 0", f"2y = {2 * m}x + {2 * c}"])
    return ref, rng.choice([f"y = {c}x + {m}" if m != c else f"y = {m}x - {c}", f"y = {m}x + {c + 1}", f"{m}x + y + {c} = 0"])


def symbolic(rng: random.Random, equal: bool) -> Pair:
    a, b = rng.randint(1, 9), rng.randint(1, 9)
    form = rng.randrange(3)
    if form == 0:
        ref = f"(x+{a})^2"
        right = f"x^2 + {2 * a}x + {a * a}"
        wrong = f"x^2 + {a}x + {a * a}"
    elif form == 1:
        ref = f"(x+{a})(x-{b})"
        right = f"x^2 + {a - b}x - {a * b}" if a >= b else f"x^2 - {b - a}x - {a * b}"
        wrong = f"x^2 + {a + b}x - {a * b}"
    else:
        ref = f"\\frac{{{a}x}}{{{a * b}}}"
        right = f"\\frac{{x}}{{{b}}}"
        wrong = f"\\frac{{x}}{{{b + 1}}}"
    return ref, right if equal else wrong


def exactness(rng: random.Random, equal: bool) -> Pair:
    k = rng.randint(50, 70)
    if equal:
        return rng.choice([
            (f"\\frac{{1}}{{2^{{{k}}}}}", f"2^{{-{k}}}"),
            (f"2^{{-{k}}}", f"\\frac{{1}}{{{2 ** k}}}"),
            ("0.3", "0.1 + 0.2"),
            (f"10^{{{k % 25}}} + 1", str(10 ** (k % 25) + 1)),
            (f"\\frac{{1}}{{3}}", f"\\frac{{{3 ** (k % 20)}}}{{{3 ** (k % 20 + 1)}}}"),
        ])
    return rng.choice([
        (f"\\frac{{1}}{{2^{{{k + 1}}}}}", f"\\frac{{1}}{{2^{{{k}}}}}"),
        (f"2^{{-{k}}}", f"2^{{-{k + 1}}}"),
        ("\\frac{1}{3}", "0." + "3" * (k % 20 + 10)),
        (f"10^{{{k % 30 + 16}}} + 1", f"10^{{{k % 30 + 16}}}"),
        ("\\sqrt{2}", "1.4142135623730951"),
        ("1", "1." + "0" * (k % 20 + 10) + "1"),
        ("\\pi", "3.14159265358979323846"),
    ])


CATEGORIES: dict[str, Callable[[random.Random, bool], Pair]] = {
    "integers": integers, "currency": currency, "decimals": decimals, "fractions": fractions,
    "radicals": radicals, "pi": pi_values, "scientific": scientific, "degrees": degrees,
    "percentages": percentages, "sets": sets, "tuples": tuples, "intervals": intervals,
    "equations": equations, "symbolic": symbolic, "exactness": exactness,
}


def pairs(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    names = list(CATEGORIES)
    rows = []
    for i in range(count):
        category = names[i % len(names)]
        equal = (i // len(names)) % 2 == 0
        reference, answer = CATEGORIES[category](rng, equal)
        rows.append({"id": f"pair-{i}", "category": category, "reference": reference, "answer": answer,
                     "equal": equal})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with args.out.open("w") as f:
        for row in pairs(args.count, args.seed):
            f.write(json.dumps(row) + "\n")
    print(f"wrote {args.count} pairs to {args.out}")


if __name__ == "__main__":
    main()
