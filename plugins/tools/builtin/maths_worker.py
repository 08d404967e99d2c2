"""The maths engine's child process (standard library and sympy only; run as a script with
``python -I``): reads one query as JSON on stdin, writes ``{"ok": bool, "output": str}``.

The query never reaches ``eval`` or ``sympify``'s parser (both run arbitrary Python): it is
parsed with ``ast`` and only numbers, names (symbols and a list of constants), arithmetic,
``==`` and calls of the functions in ``FUNCTIONS`` are turned into sympy objects. The
parent bounds time and memory (``maths.py``); this file bounds sizes sympy cannot interrupt.
"""

import ast
import json
import re
import sys

import sympy

FUNCTIONS = {
    name: getattr(sympy, name) for name in (
        "solve", "integrate", "diff", "limit", "simplify", "factor", "expand", "sqrt", "root", "exp", "log",
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "factorial", "binomial", "gcd",
        "lcm", "Abs", "floor", "ceiling", "summation", "product", "series", "apart", "together", "cancel",
        "Rational", "N", "isprime", "factorint", "prime", "Matrix", "det", "Eq", "nsimplify", "trigsimp")
}
FUNCTIONS.update({"abs": sympy.Abs, "ln": sympy.log, "sum": sympy.summation, "derivative": sympy.diff,
                  "integral": sympy.integrate, "solve_for": sympy.solve})
CONSTANTS = {"pi": sympy.pi, "e": sympy.E, "E": sympy.E, "I": sympy.I, "i": sympy.I, "oo": sympy.oo,
             "inf": sympy.oo, "infinity": sympy.oo}
MAX_EXPONENT = 10_000
MAX_DIGITS = 1_000
MAX_NODES = 500

VERBS = ("solve", "integrate", "differentiate", "derivative of", "simplify", "factor", "expand", "limit of",
         "integral of")


class Refused(Exception):
    pass


def _prepare(query):
    text = query.strip().rstrip("?.").strip()
    text = re.sub(r"^(what is|compute|calculate|evaluate|find)\s+", "", text, flags=re.I)
    text = text.replace("^", "**").replace("×", "*").replace("÷", "/").replace("−", "-")
    return re.sub(r"(\d)([A-Za-z(])", r"\1*\2", text)


def _verb_form(text):
    """``solve x**2 = 4 for x``, ``integrate x**2 dx``, ``derivative of sin(x)`` as calls."""
    lower = text.lower()
    for verb in VERBS:
        if not lower.startswith(verb + " "):
            continue
        rest = text[len(verb):].strip()
        var = None
        match = re.search(r"\s+(?:for|with respect to|wrt|d)\s*([A-Za-z]\w*)$", rest) or re.search(r"\s+d([A-Za-z])$",
                                                                                                   rest)
        if match:
            rest, var = rest[: match.start()].strip(), match[1]
        name = {"differentiate": "diff", "derivative of": "diff", "limit of": "limit",
                "integral of": "integrate"}.get(verb, verb)
        if "=" in rest and "==" not in rest:
            left, right = rest.split("=", 1)
            rest = f"Eq({left}, {right})"
        return f"{name}({rest}, {var})" if var else f"{name}({rest})"
    if re.search(r"(?<![=<>!])=(?!=)", text):
        left, right = text.split("=", 1)
        return f"solve(Eq({left}, {right}))"
    return text


def _build(node, count):
    count[0] += 1
    if count[0] > MAX_NODES:
        raise Refused(f"the expression has more than {MAX_NODES} parts")
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        if isinstance(node.value, int) and len(str(abs(node.value))) > MAX_DIGITS:
            raise Refused(f"a number has more than {MAX_DIGITS} digits")
        return sympy.Rational(str(node.value)) if isinstance(node.value, float) else sympy.Integer(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS.get(node.id) or sympy.Symbol(node.id)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _build(node.operand, count)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, count), _build(node.right, count)
        if isinstance(node.op, ast.Pow) and right.is_number and abs(right) > MAX_EXPONENT:
            raise Refused(f"an exponent above {MAX_EXPONENT}")
        ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
               ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b, ast.Mod: lambda a, b: a % b}
        op = ops.get(type(node.op))
        if op is None:
            raise Refused(f"the operator {type(node.op).__name__} is not supported")
        return op(left, right)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
        return sympy.Eq(_build(node.left, count), _build(node.comparators[0], count))
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_build(e, count) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise Refused(f"unknown function {node.func.id!r} (known: {', '.join(sorted(FUNCTIONS))})")
        return function(*[_build(a, count) for a in node.args])
    raise Refused(f"cannot read {ast.unparse(node)[:60]!r}")


def _show(value):
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(v)}" for k, v in value.items()) + "}"
    text = str(value)
    if isinstance(value, sympy.Basic) and value.is_number and not value.is_Integer and value.is_finite:
        try:
            decimal = str(sympy.N(value, 15))
        except (TypeError, ValueError):
            return text
        if decimal != text:
            return f"{text} ≈ {decimal}"
    return text


def answer(query):
    source = _verb_form(_prepare(query))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise Refused(f"cannot read the query {query!r} as mathematics; write it as an expression such as "
                      "'integrate(x**2, (x, 0, 1))' or 'solve x**2 = 4 for x'") from None
    return _show(_build(tree.body, [0]))


def main():
    query = json.loads(sys.stdin.read())["query"]
    try:
        result = {"ok": True, "output": answer(query)}
    except Refused as exc:
        result = {"ok": False, "output": str(exc)}
    except (ValueError, TypeError, ArithmeticError, NotImplementedError, AttributeError) as exc:
        result = {"ok": False, "output": f"sympy could not evaluate it: {type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
