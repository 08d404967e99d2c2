"""Templates of tool-use trajectories (issue 19): single, parallel, nested and multi-step
calls over the built-in tools, offered either as Llama 3.1 built-ins or under generated
function definitions, a CSV-upload task, and questions where the right answer is no call
(an easy question with tools on offer, or tools that do not fit the question).

A template writes a ``Draft``: the model's turns as the raw text a model writes (each a
function of the results so far), so that the synthesizer checks the whole path a real
response takes: parse, validate, execute."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Callable

from herd.lib.chat.tools import FunctionDef, tools_system_prompt
from herd.plugins.tools.registry import ToolResult

# The results so far, one list per earlier model turn.
Results = list[list[ToolResult]]


@dataclass
class Draft:
    """``turns``: each writes the model's raw call text from the results so far; ``answer``
    the final reply. ``aliases``: generated function name -> the built-in that runs it."""

    id: str
    category: str
    user: str
    turns: list[Callable[[Results], str]]
    answer: Callable[[Results], str]
    builtins: list[str] = field(default_factory=list)
    functions: list[FunctionDef] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def system(self) -> str:
        return tools_system_prompt(self.builtins, self.functions)


def _string_schema(argument: str) -> dict:
    # No per-argument description: a definition is rendered into every prompt that offers
    # it, and the built-in profiles' models have 256 to 512 tokens of context.
    return {"type": "object", "properties": {argument: {"type": "string"}}, "required": [argument],
            "additionalProperties": False}


# Generated definitions: a name, description and argument name over each built-in executor.
_MATHS_NAMES = ("calculate", "evaluate_expression", "math_engine", "compute", "symbolic_math")
_MATHS_ARGS = ("expression", "query", "formula", "problem")
_PYTHON_NAMES = ("run_python", "execute_code", "python_sandbox")
_PYTHON_ARGS = ("code", "source", "program")


def generated_function(rng: random.Random, kind: str) -> tuple[FunctionDef, str, str]:
    """A fresh definition for ``kind`` (``"maths"``, ``"python"``): (definition, the built-in
    it runs on, its argument name)."""
    if kind == "maths":
        name, arg = rng.choice(_MATHS_NAMES), rng.choice(_MATHS_ARGS)
        return (FunctionDef(name, "Solve or simplify mathematics exactly.", _string_schema(arg)), "wolfram_alpha", arg)
    name, arg = rng.choice(_PYTHON_NAMES), rng.choice(_PYTHON_ARGS)
    return (FunctionDef(name, "Run Python 3 code; returns what it prints.", _string_schema(arg)), "code_interpreter", arg)


def _out(results: Results, turn: int, call: int = 0) -> str:
    return results[turn][call].output.split(" ≈ ")[0]


def _builtin(name: str, query: str) -> str:
    return f'<|python_tag|>{name}.call(query="{query}")'


def single_builtin_maths(rng: random.Random, i: int) -> Draft:
    a, b = rng.randint(2, 9), rng.randint(1, 20)
    expr = f"x^{a} + {b}*x"
    return Draft(f"tool-single-builtin-{i}", "single_builtin", f"What is the derivative of {expr}?",
                 [lambda r: _builtin("wolfram_alpha", f"derivative of {expr}")],
                 lambda r: f"The derivative of {expr} is {_out(r, 0)}.", builtins=["wolfram_alpha"])


def single_custom_maths(rng: random.Random, i: int) -> Draft:
    definition, builtin, arg = generated_function(rng, "maths")
    p, q = rng.randint(1, 9), rng.randint(1, 9)
    equation = f"x^2 - {p + q}*x + {p * q} = 0"
    return Draft(f"tool-single-custom-{i}", "single_custom", f"Solve {equation}.",
                 [lambda r: json.dumps({"name": definition.name, "parameters": {arg: equation}})],
                 lambda r: f"The solutions of {equation} are {_out(r, 0)}.",
                 functions=[definition], aliases={definition.name: builtin})


def parallel_custom_maths(rng: random.Random, i: int) -> Draft:
    definition, builtin, arg = generated_function(rng, "maths")
    n, m = rng.randint(10, 99), rng.randint(10, 99)
    first, second = f"{n}^3", f"factorint({m * 1001})"
    return Draft(f"tool-parallel-{i}", "parallel", f"Compute {n} cubed, and factor {m * 1001} into primes.",
                 [lambda r: f'[{definition.name}({arg}="{first}"), {definition.name}({arg}="{second}")]'],
                 lambda r: f"{n} cubed is {_out(r, 0, 0)}; the prime factors of {m * 1001} are {_out(r, 0, 1)}.",
                 functions=[definition], aliases={definition.name: builtin})


def multi_step(rng: random.Random, i: int) -> Draft:
    n = rng.randint(20, 200)
    return Draft(f"tool-multistep-{i}", "multi_step", f"Add up the squares of 1 to {n} with Python, then factor that sum into primes.",
                 [lambda r: f"<|python_tag|>print(sum(k * k for k in range(1, {n} + 1)))",
                  lambda r: _builtin("wolfram_alpha", f"factorint({_out(r, 0)})")],
                 lambda r: f"The sum of the squares of 1 to {n} is {_out(r, 0)}, whose prime factors "
                           f"(prime: exponent) are {_out(r, 1)}.",
                 builtins=["code_interpreter", "wolfram_alpha"])


def csv_upload(rng: random.Random, i: int) -> Draft:
    definition, builtin, arg = generated_function(rng, "python")
    rows = [(f"item{k}", rng.randint(1, 500)) for k in range(rng.randint(4, 9))]
    text = "name,amount\n" + "".join(f"{name},{amount}\n" for name, amount in rows)
    code = ("import csv\nrows = list(csv.DictReader(open('sales.csv')))\n"
            "print(len(rows), sum(int(r['amount']) for r in rows))")
    return Draft(f"tool-csv-{i}", "file_upload", "I uploaded sales.csv (columns name, amount). How many rows does it have, and what is the total "
                 "amount?",
                 [lambda r: json.dumps({"name": definition.name, "parameters": {arg: code}})],
                 lambda r: "It has {} rows and the amounts add up to {}.".format(*_out(r, 0).split()),
                 functions=[definition], aliases={definition.name: builtin}, files={"sales.csv": text})


def no_call(rng: random.Random, i: int) -> Draft:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    definition, builtin, _ = generated_function(rng, "python")
    return Draft(f"tool-nocall-{i}", "no_call", f"What is {a} times {b}?", [],
                 lambda r: f"{a} times {b} is {a * b}.", builtins=["wolfram_alpha"], functions=[definition],
                 aliases={definition.name: builtin})


def nested(rng: random.Random, i: int) -> Draft:
    """A call whose argument is another call's result (BFCL's "nested"): cube a number,
    then factor the cube, through the same generated function."""
    definition, builtin, arg = generated_function(rng, "maths")
    n = rng.randint(12, 99)
    return Draft(f"tool-nested-{i}", "nested", f"Cube {n}, then factor the result into primes.",
                 [lambda r: json.dumps({"name": definition.name, "parameters": {arg: f"{n}^3"}}),
                  lambda r: json.dumps({"name": definition.name, "parameters": {arg: f"factorint({_out(r, 0)})"}})],
                 lambda r: f"{n} cubed is {_out(r, 0)}; its prime factors (prime: exponent) are {_out(r, 1)}.",
                 functions=[definition], aliases={definition.name: builtin})


# Questions no offered tool can answer (the right reply calls nothing), with their answers.
_IRRELEVANT = (("Translate 'thank you' into French.", "'Thank you' in French is 'merci'."),
               ("What is the capital of Japan?", "The capital of Japan is Tokyo."),
               ("Name the largest planet of the solar system.", "Jupiter is the largest planet of the solar system."),
               ("Which language is spoken in Brazil?", "Portuguese is the official language of Brazil."))


def irrelevant_tool(rng: random.Random, i: int) -> Draft:
    definition, builtin, _ = generated_function(rng, rng.choice(("maths", "python")))
    question, answer = rng.choice(_IRRELEVANT)
    return Draft(f"tool-irrelevant-{i}", "irrelevance", question, [], lambda r: answer, functions=[definition],
                 aliases={definition.name: builtin})


TEMPLATES: tuple[Callable[[random.Random, int], Draft], ...] = (
    single_builtin_maths, single_custom_maths, parallel_custom_maths, multi_step, csv_upload, no_call, nested,
    irrelevant_tool)
