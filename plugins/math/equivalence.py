"""Whether two answers have the same value: exactly, never within a tolerance.

Rationals compare as ``Fraction`` (no sympy); anything else (radicals, pi, symbols)
goes to sympy, where a difference that evaluates numerically far from zero proves the
values differ and only an exact simplification to zero proves them equal. A float never
makes two values equal, so 2^-60 and 2^-61 stay apart.

Percent and degree marks: ``50%`` matches ``50`` and ``0.5``; ``30°`` matches ``30`` and
``\\pi/6``; a mark on both sides compares the numbers.
"""

from __future__ import annotations

from fractions import Fraction

from herd.plugins.math.answers import Answer, Equation, Interval, Items, Scalar, Text, Union
from herd.plugins.math.expression import Node, Num, Op, Sym, rational, to_sympy


def equivalent(reference: Answer, response: Answer) -> bool:
    if reference == response:
        return True
    if isinstance(reference, Equation) or isinstance(response, Equation):
        return _equations(reference, response)
    if isinstance(reference, Scalar) and isinstance(response, Scalar):
        return _scalars(reference, response)
    if isinstance(reference, Items) and isinstance(response, Items):
        return _items(reference, response)
    if isinstance(reference, Interval) and isinstance(response, Interval):
        return _intervals(reference, response)
    if isinstance(reference, Union) and isinstance(response, Union):
        return _matched(reference.parts, response.parts)
    if isinstance(reference, Items) or isinstance(response, Items):
        return _items_and_other(reference, response)
    if isinstance(reference, Text) and isinstance(response, Text):
        return reference.text == response.text
    return False


# ----- scalars --------------------------------------------------------------------------


def _scalars(a: Scalar, b: Scalar) -> bool:
    if (a.percent, a.degrees) == (b.percent, b.degrees):
        return same_value(a.expr, b.expr)
    if a.percent != b.percent and not (a.degrees or b.degrees):
        marked, plain = (a, b) if a.percent else (b, a)
        return same_value(marked.expr, plain.expr) or same_value(Op("div", (marked.expr, Num(Fraction(100)))),
                                                                 plain.expr)
    if a.degrees != b.degrees and not (a.percent or b.percent):
        marked, plain = (a, b) if a.degrees else (b, a)
        if same_value(marked.expr, plain.expr):
            return True
        import sympy

        return _sympy_equal(to_sympy(marked.expr) * sympy.pi / 180, to_sympy(plain.expr))
    return False


def same_value(x: Node, y: Node) -> bool:
    if x == y:
        return True
    rx = rational(x)
    if rx is not None:
        ry = rational(y)
        if ry is not None:
            return rx == ry
    return _sympy_equal(to_sympy(x), to_sympy(y))


def _sympy_equal(x, y) -> bool:
    import sympy

    if x == y:
        return True
    if x.has(sympy.oo, -sympy.oo, sympy.zoo) or y.has(sympy.oo, -sympy.oo, sympy.zoo):
        return False  # equal infinities were caught by x == y; oo - oo is nan, not a proof
    diff = x - y
    if diff == 0:
        return True
    if not diff.free_symbols:
        # A numeric difference clearly away from zero proves the values differ; a float
        # never proves them equal.
        gap = abs(diff.evalf(60))
        scale = 1 + abs(x.evalf(20)) + abs(y.evalf(20))
        if gap.is_Number and scale.is_Number and gap > sympy.Float(10) ** -40 * scale:
            return False
    elif _nonzero_somewhere(diff):
        return False
    if sympy.expand(diff) == 0:
        return True
    return sympy.simplify(diff) == 0


def _nonzero_somewhere(expr) -> bool:
    """``expr`` (with symbols) is provably non-zero at one of a few rational points: an
    exact value, or a numeric one far from zero. Cheaper than a failed simplification."""
    import sympy

    names = sorted(expr.free_symbols, key=str)
    for trial in range(3):
        point = {s: sympy.Rational(3 + 2 * trial + 5 * j, 7 + trial + 2 * j) for j, s in enumerate(names)}
        value = expr.xreplace(point)
        if value.is_Rational:
            if value != 0:
                return True
            continue
        gap = abs(value.evalf(60))
        if gap.is_Number and gap.is_finite and gap > sympy.Float(10) ** -40:
            return True
    return False


# ----- equations ------------------------------------------------------------------------


def _equations(a: Answer, b: Answer) -> bool:
    if isinstance(a, Equation) and isinstance(b, Equation):
        if isinstance(a.lhs, Sym) and isinstance(b.lhs, Sym):
            return a.lhs.name == b.lhs.name and equivalent(a.rhs, b.rhs)
        return _same_equation(a, b)
    eq, other = (a, b) if isinstance(a, Equation) else (b, a)
    # "x = 7" answers "7": the variable names what the number is.
    return isinstance(eq.lhs, Sym) and (equivalent(eq.rhs, other) if eq is a else equivalent(other, eq.rhs))


def _same_equation(a: Equation, b: Equation) -> bool:
    """The same equation up to a non-zero factor (``y = 2x + 1`` and ``2x - y + 1 = 0``)."""
    import sympy

    if not isinstance(a.rhs, Scalar) or not isinstance(b.rhs, Scalar):
        return False
    da = to_sympy(a.lhs) - to_sympy(a.rhs.expr)
    db = to_sympy(b.lhs) - to_sympy(b.rhs.expr)
    if db == 0 or da == 0:
        return da == db
    # The factor is the ratio at any point where db is not zero; the equations are the
    # same when da - factor * db vanishes identically.
    names = sorted(da.free_symbols | db.free_symbols, key=str)
    point = {s: sympy.Rational(5 + 3 * j, 11 + 2 * j) for j, s in enumerate(names)}
    at_b = db.xreplace(point)
    if at_b == 0 or not at_b.is_finite:
        return bool(sympy.simplify(da / db).is_number)
    factor = da.xreplace(point) / at_b
    return factor != 0 and _sympy_equal(da, factor * db)


# ----- sets, tuples, intervals ----------------------------------------------------------


def _items(a: Items, b: Items) -> bool:
    if a.kind == "tuple" and b.kind == "tuple":
        return len(a.items) == len(b.items) and all(equivalent(x, y) for x, y in zip(a.items, b.items))
    if a.kind == "set" and b.kind == "set":
        return _matched(_distinct(a.items), _distinct(b.items))
    return False


def _distinct(items: tuple[Answer, ...]) -> list[Answer]:
    out: list[Answer] = []
    for item in items:
        if not any(equivalent(seen, item) for seen in out):
            out.append(item)
    return out


def _matched(a, b) -> bool:
    """Every element of ``a`` matches a distinct element of ``b``, and none is left over."""
    if len(a) != len(b):
        return False
    left = list(b)
    for x in a:
        match = next((i for i, y in enumerate(left) if equivalent(x, y)), None)
        if match is None:
            return False
        left.pop(match)
    return True


def _intervals(a: Interval, b: Interval) -> bool:
    return (a.lo_closed, a.hi_closed) == (b.lo_closed, b.hi_closed) and same_value(a.lo, b.lo) \
        and same_value(a.hi, b.hi)


def _items_and_other(a: Answer, b: Answer) -> bool:
    items, other = (a, b) if isinstance(a, Items) else (b, a)
    if items.kind == "tuple" and len(items.items) == 2 and isinstance(other, Interval):
        # "(1, 2)" is both a point and an open interval.
        lo, hi = items.items
        return (not other.lo_closed and not other.hi_closed and isinstance(lo, Scalar) and isinstance(hi, Scalar)
                and same_value(lo.expr, other.lo) and same_value(hi.expr, other.hi))
    if items.kind == "set" and len(_distinct(items.items)) == 1:
        return equivalent(items.items[0], other) if items is a else equivalent(other, items.items[0])
    return False
