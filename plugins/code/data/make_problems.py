"""Writes the plugin's small problem sets (human-eval format) from templates.

The problems are deliberately tiny, one-line functions from a few templated families, so
that a model trained for minutes on the training set can solve some held-out ones: the
held-out set uses the same families with other constants, and a few functions of its own.
The two sets share no task_id and no (name, body) pair. Run from the repository root:
``python plugins/code/data/make_problems.py`` (the JSONL files are committed).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (name, args, docstring, body expression, test inputs as argument tuples)
Family = tuple[str, str, str, str, list[tuple]]


def parametric(n: int) -> list[Family]:
    ints = [(0,), (1,), (5,), (-3,), (10,)]
    return [
        (f"add_{n}", "x", f"Return x plus {n}.", f"x + {n}", ints),
        (f"times_{n}", "x", f"Return x multiplied by {n}.", f"x * {n}", ints),
        (f"minus_{n}", "x", f"Return x minus {n}.", f"x - {n}", ints),
        (f"greater_than_{n}", "x", f"Return True if x is greater than {n}.", f"x > {n}", [(n - 1,), (n,), (n + 1,), (100,)]),
        (f"repeat_{n}", "s", f"Return the string s repeated {n} times.", f"s * {n}", [("a",), ("ab",), ("",)]),
        (f"mod_{n}", "x", f"Return the remainder of x divided by {n}.", f"x % {n}", [(0,), (7,), (13,), (22,)]),
    ]


FIXED_TRAIN: list[Family] = [
    ("add", "a, b", "Return the sum of a and b.", "a + b", [(1, 2), (0, 0), (-4, 9)]),
    ("multiply", "a, b", "Return the product of a and b.", "a * b", [(2, 3), (0, 5), (-2, 4)]),
    ("square", "x", "Return x squared.", "x * x", [(0,), (3,), (-4,)]),
    ("negate", "x", "Return the negation of x.", "-x", [(0,), (3,), (-4,)]),
    ("is_even", "x", "Return True if x is even.", "x % 2 == 0", [(0,), (3,), (8,)]),
    ("to_upper", "s", "Return s in upper case.", "s.upper()", [("abc",), ("Hi",), ("",)]),
    ("reverse_string", "s", "Return s reversed.", "s[::-1]", [("abc",), ("",), ("racecar",)]),
    ("sum_list", "xs", "Return the sum of the numbers in xs.", "sum(xs)", [([1, 2, 3],), ([],), ([-1, 1],)]),
    ("max_list", "xs", "Return the largest number in xs.", "max(xs)", [([1, 5, 3],), ([-2, -7],), ([4],)]),
    ("first_item", "xs", "Return the first item of xs.", "xs[0]", [([1, 2],), (["a"],), ([[3], 4],)]),
    ("length", "xs", "Return the number of items in xs.", "len(xs)", [([1, 2],), ([],), ("abc",)]),
    ("concat", "a, b", "Return the string a followed by the string b.", "a + b", [("ab", "cd"), ("", "x"), ("x", "")]),
]

FIXED_HELDOUT: list[Family] = [
    ("subtract", "a, b", "Return a minus b.", "a - b", [(5, 2), (0, 0), (-4, 9)]),
    ("cube", "x", "Return x cubed.", "x * x * x", [(0,), (3,), (-2,)]),
    ("is_odd", "x", "Return True if x is odd.", "x % 2 == 1", [(0,), (3,), (8,)]),
    ("to_lower", "s", "Return s in lower case.", "s.lower()", [("ABC",), ("Hi",), ("",)]),
    ("min_list", "xs", "Return the smallest number in xs.", "min(xs)", [([1, 5, 3],), ([-2, -7],), ([4],)]),
    ("last_item", "xs", "Return the last item of xs.", "xs[-1]", [([1, 2],), (["a"],), ([3, [4]],)]),
    ("double", "x", "Return x multiplied by 2.", "x + x", [(0,), (3,), (-4,)]),
    ("average", "a, b", "Return the average of a and b.", "(a + b) / 2", [(1, 3), (0, 0), (-4, 9)]),
]


def problem(family: Family, split: str) -> dict:
    name, args, doc, body, inputs = family
    prompt = f'def {name}({args}):\n    """{doc}"""\n'
    solution = f"    return {body}\n"
    namespace: dict = {}
    exec(prompt + solution, namespace)  # the expected values come from the canonical solution
    checks = "".join(
        f"    assert candidate({', '.join(map(repr, case))}) == {namespace[name](*case)!r}\n" for case in inputs
    )
    return {
        "task_id": f"herd-{split}/{name}",
        "prompt": prompt,
        "canonical_solution": solution,
        "test": f"def check(candidate):\n{checks}",
        "entry_point": name,
    }


# The held-out constants; the training set has the same families with every other constant
# up to 30. Two-digit constants make the training set varied enough that the model must read
# the constant from the prompt (with a handful of constants it memorises the most common).
HELDOUT_CONSTANTS = (3, 7, 8)
TRAIN_CONSTANTS = tuple(n for n in range(1, 31) if n not in HELDOUT_CONSTANTS)


def main() -> None:
    train = [f for n in TRAIN_CONSTANTS for f in parametric(n)] + FIXED_TRAIN
    heldout = [f for n in HELDOUT_CONSTANTS for f in parametric(n)] + FIXED_HELDOUT
    assert not {f[0] for f in train} & {f[0] for f in heldout}
    for split, families in (("train", train), ("heldout", heldout)):
        path = HERE / f"{split}_problems.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for family in families:
                handle.write(json.dumps(problem(family, split)) + "\n")
        print(f"wrote {len(families)} problems to {path}")


if __name__ == "__main__":
    main()
