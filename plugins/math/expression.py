"""Arithmetic and symbolic expressions as a small exact tree.

One recursive-descent parser reads both LaTeX (``\\frac{1}{2}``, ``2\\sqrt{3}``,
``\\pi/4``) and plain text (``1/2``, ``2*sqrt(3)``, ``3x^2``) after
``normalize.normalize`` has rewritten the LaTeX spellings it knows. The tree is evaluated
twice, lazily: ``rational(node)`` is the fast path (a ``Fraction`` with no sympy, ``None``
when the value is not rational), ``to_sympy(node)`` the general one. Both refuse values
too large to compute exactly (``TooLarge``): a big-integer power runs in C, where no
time limit can interrupt it, so the bound has to come before the power is taken.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

# An exponent beyond this (with a base other than 0 and +-1) is refused rather than
# computed: 2^100000 still takes microseconds, 10^(10^9) would never finish.
MAX_EXPONENT = 100_000
MAX_DIGITS = 5_000
MAX_FACTORIAL = 1_000
MAX_NODES = 400

FUNCTIONS = frozenset({"sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan",
                       "sinh", "cosh", "tanh", "log", "ln", "exp", "lg"})


class ParseError(ValueError):
    """The text is not an expression this parser reads."""


class TooLarge(ValueError):
    """The value is too large to compute exactly within the bounds above."""


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Sym:
    name: str


@dataclass(frozen=True)
class Const:
    name: str  # "pi", "e", "oo", "i"


@dataclass(frozen=True)
class Op:
    """``kind``: add, mul, div, neg, pow, fact, root (radicand, index) or a function name."""

    kind: str
    args: tuple[Node, ...]


Node = Num | Sym | Const | Op

_TOKEN = re.compile(
    r"(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+(?![\d.]))?)"
    r"|(?P<cmd>\\[a-zA-Z]+)"
    r"|(?P<word>[a-zA-Z]+)"
    r"|(?P<op>[-+*/^!_])"
    r"|(?P<open>[({\[])"
    r"|(?P<close>[)}\]])"
    r"|(?P<space>\s+)"
)
_CLOSE = {"(": ")", "{": "}", "[": "]"}
_COMMANDS = {"\\pi": ("const", "pi"), "\\infty": ("const", "oo"), "\\frac": ("frac", ""),
             "\\sqrt": ("sqrt", ""), "\\cdot": ("op", "*"), "\\times": ("op", "*"), "\\div": ("op", "/")}


@dataclass(frozen=True)
class Token:
    kind: str  # num, const, word (a function), sym, op, open, close, frac, sqrt
    text: str


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group()
        if kind == "space":
            continue
        if kind == "cmd":
            name = value[1:]
            if value in _COMMANDS:
                tokens.append(Token(*_COMMANDS[value]))
            elif name in FUNCTIONS:
                tokens.append(Token("word", name))
            else:
                raise ParseError(f"unknown LaTeX command {value}")
        elif kind == "word":
            tokens.extend(_word_tokens(value))
        else:
            tokens.append(Token(kind, value))
    return tokens


def _word_tokens(word: str) -> list[Token]:
    """A run of letters: a function or constant name, else single-letter symbols (``2xy``)."""
    if word in FUNCTIONS or word == "sqrt":
        return [Token("word" if word != "sqrt" else "sqrt", word)]
    if word == "pi":
        return [Token("const", "pi")]
    return [Token("const", c) if c == "e" else Token("sym", c) for c in word]


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.nodes = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of expression")
        self.pos += 1
        return tok

    def node(self, node: Node) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TooLarge(f"expression has more than {MAX_NODES} parts")
        return node

    def expr(self) -> Node:
        left = self.term()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text in "+-":
            self.take()
            right = self.term()
            left = self.node(Op("add", (left, right if tok.text == "+" else Op("neg", (right,)))))
        return left

    def term(self) -> Node:
        left = self.unary()
        while (tok := self.peek()) is not None:
            if tok.kind == "op" and tok.text in "*/":
                self.take()
                right = self.unary()
                left = self.node(Op("mul" if tok.text == "*" else "div", (left, right)))
            elif self.starts_atom(tok):
                if tok.kind == "num" and self._ends_in_number(left):
                    raise ParseError("two numbers side by side")
                left = self.node(Op("mul", (left, self.power())))
            else:
                break
        return left

    @staticmethod
    def _ends_in_number(node: Node) -> bool:
        while isinstance(node, Op) and node.kind in ("mul", "add"):
            node = node.args[-1]
        return isinstance(node, Num)

    @staticmethod
    def starts_atom(tok: Token) -> bool:
        return tok.kind in ("num", "const", "word", "sym", "open", "frac", "sqrt")

    def unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text in "+-":
            self.take()
            inner = self.unary()
            return inner if tok.text == "+" else self.node(Op("neg", (inner,)))
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.text == "^":
            self.take()
            return self.node(Op("pow", (base, self.unary())))
        return base

    def postfix(self) -> Node:
        node = self.atom()
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "!":
            self.take()
            node = self.node(Op("fact", (node,)))
        return node

    def group(self) -> Node:
        """A braced argument, or the single token LaTeX allows (``\\frac12``)."""
        tok = self.peek()
        if tok is not None and tok.kind == "open":
            return self.atom()
        tok = self.take()
        if tok.kind == "num" and len(tok.text) > 1 and tok.text.isdigit():
            # \frac12: the first digit is one argument, the rest stays for the next one.
            self.tokens[self.pos - 1: self.pos] = [Token("num", tok.text[0]), Token("num", tok.text[1:])]
            self.pos -= 1
            tok = self.take()
        return self.leaf(tok)

    def atom(self) -> Node:
        tok = self.take()
        if tok.kind == "open":
            inner = self.expr()
            close = self.take()
            if close.kind != "close" or close.text != _CLOSE[tok.text]:
                raise ParseError(f"'{tok.text}' closed by '{close.text}'")
            return inner
        if tok.kind == "frac":
            num = self.group()
            return self.node(Op("div", (num, self.group())))
        if tok.kind == "sqrt":
            index: Node = Num(Fraction(2))
            nxt = self.peek()
            if nxt is not None and nxt.kind == "open" and nxt.text == "[":
                self.take()
                index = self.expr()
                if self.take().text != "]":
                    raise ParseError("\\sqrt[n] without its ']'")
            return self.node(Op("root", (self.group(), index)))
        if tok.kind == "word":
            return self.node(Op(tok.text, (self.power(),)))
        return self.leaf(tok)

    def leaf(self, tok: Token) -> Node:
        if tok.kind == "num":
            return self.node(Num(_number(tok.text)))
        if tok.kind == "const":
            return self.node(Const(tok.text))
        if tok.kind == "sym":
            return self.node(Sym(tok.text + self._subscript()))
        raise ParseError(f"unexpected '{tok.text}'")

    def _subscript(self) -> str:
        tok = self.peek()
        if tok is None or tok.text != "_":
            return ""
        self.take()
        tok = self.take()
        if tok.kind == "open":
            parts = []
            while (inner := self.take()).kind != "close":
                parts.append(inner.text)
            return "_" + "".join(parts)
        return "_" + tok.text


def _number(text: str) -> Fraction:
    digits = len(text.split("e")[0].split("E")[0])
    if digits > MAX_DIGITS:
        raise TooLarge(f"number with {digits} digits")
    mantissa, _, exponent = text.lower().partition("e")
    if exponent and abs(int(exponent)) > MAX_EXPONENT:
        raise TooLarge(f"exponent {exponent}")
    value = Fraction(mantissa)
    return value * Fraction(10) ** int(exponent) if exponent else value


def parse(text: str) -> Node:
    parser = _Parser(tokenize(text))
    if not parser.tokens:
        raise ParseError("empty expression")
    node = parser.expr()
    if parser.peek() is not None:
        raise ParseError(f"unexpected '{parser.peek().text}'")
    return node


# ----- the fast path: exact rationals ---------------------------------------------------


class NotRational(Exception):
    """The node's value is not a rational number (a symbol, pi, an irrational root)."""


def rational(node: Node) -> Fraction | None:
    """The exact rational value of ``node``, or ``None`` when it has none."""
    try:
        return _rational(node)
    except (NotRational, ZeroDivisionError):
        return None


def _rational(node: Node) -> Fraction:
    if isinstance(node, Num):
        return node.value
    if not isinstance(node, Op):
        raise NotRational
    kind, args = node.kind, node.args
    if kind == "add":
        return _rational(args[0]) + _rational(args[1])
    if kind == "mul":
        return _rational(args[0]) * _rational(args[1])
    if kind == "div":
        return _rational(args[0]) / _rational(args[1])
    if kind == "neg":
        return -_rational(args[0])
    if kind == "pow":
        return _power(_rational(args[0]), _rational(args[1]))
    if kind == "root":
        index = _rational(args[1])
        if index.denominator != 1 or index <= 0:
            raise NotRational
        return _exact_root(_rational(args[0]), int(index))
    if kind == "fact":
        return Fraction(math.factorial(_small_int(_rational(args[0]))))
    raise NotRational


def _small_int(value: Fraction) -> int:
    if value.denominator != 1 or value < 0:
        raise NotRational
    if value > MAX_FACTORIAL:
        raise TooLarge(f"factorial of {value}")
    return int(value)


def check_power(base_is_trivial: bool, exponent: Fraction) -> None:
    if not base_is_trivial and abs(exponent) > MAX_EXPONENT:
        raise TooLarge(f"power with exponent {exponent}")


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    check_power(base in (0, 1, -1), exponent)
    if exponent.denominator == 1:
        return base ** int(exponent)
    root = _exact_root(base, exponent.denominator)
    return root ** exponent.numerator


def _exact_root(value: Fraction, n: int) -> Fraction:
    if value < 0:
        if n % 2 == 0:
            raise NotRational
        return -_exact_root(-value, n)
    num, den = _int_root(value.numerator, n), _int_root(value.denominator, n)
    return Fraction(num, den)


def _int_root(value: int, n: int) -> int:
    root = math.isqrt(value) if n == 2 else round(value ** (1.0 / n)) if value < 2**1000 else None
    if root is None:
        raise NotRational
    for r in (root - 1, root, root + 1):
        if r >= 0 and r**n == value:
            return r
    raise NotRational


# ----- the general path: sympy ----------------------------------------------------------


def to_sympy(node: Node):
    """The sympy expression of ``node`` (sympy is imported here, not before it is needed)."""
    import sympy

    return _sympy(node, sympy)


def _sympy(node: Node, sp):
    if isinstance(node, Num):
        return sp.Rational(node.value.numerator, node.value.denominator)
    if isinstance(node, Sym):
        return sp.Symbol(node.name)
    if isinstance(node, Const):
        return {"pi": sp.pi, "e": sp.E, "oo": sp.oo, "i": sp.I}[node.name]
    kind, args = node.kind, [_sympy(a, sp) for a in node.args]
    if kind == "add":
        return args[0] + args[1]
    if kind == "mul":
        return args[0] * args[1]
    if kind == "div":
        if args[1] == 0:
            raise ParseError("division by zero")
        return args[0] / args[1]
    if kind == "neg":
        return -args[0]
    if kind == "pow":
        if args[1].is_Number:
            check_power(args[0] in (0, 1, -1), Fraction(str(args[1])) if args[1].is_Rational else Fraction(0))
        return args[0] ** args[1]
    if kind == "root":
        return sp.root(args[0], args[1])
    if kind == "fact":
        if args[0].is_Integer:
            _small_int(Fraction(int(args[0])))
        return sp.factorial(args[0])
    functions = {"sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "cot": sp.cot, "sec": sp.sec, "csc": sp.csc,
                 "arcsin": sp.asin, "arccos": sp.acos, "arctan": sp.atan, "sinh": sp.sinh, "cosh": sp.cosh,
                 "tanh": sp.tanh, "ln": sp.log, "log": sp.log, "exp": sp.exp, "lg": lambda x: sp.log(x, 10)}
    return functions[kind](args[0])
