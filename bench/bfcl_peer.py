"""bfcl-eval's own AST checker over a folder of BFCL question, answer and response files
(written by bench/bfcl_agreement.py). Run with the Python of an environment where
bfcl-eval is installed; prints one JSON object: {id: correct, ...} and the seconds spent.

    /path/to/bfcl-venv/bin/python bench/bfcl_peer.py FOLDER
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bfcl_eval.constants.enums import Language, ReturnFormat
from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
from bfcl_eval.model_handler.utils import default_decode_ast_prompting
from bfcl_eval.utils import is_empty_output, is_function_calling_format_output

# A prompting model BFCL knows whose function names keep their dots (what herd's rows hold).
MODEL = "meta-llama_Llama-3.1-8B-Instruct"


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def verdict(question: dict, answer: dict | None, response: str, category: str) -> bool:
    """BFCL's runner for one row: relevance rows by whether the AST decodes to a call, AST
    rows by the checker after decoding (a decode failure is wrong)."""
    if "relevance" in category:
        try:
            decoded = default_decode_ast_prompting(response, ReturnFormat.PYTHON, False)
            called = not is_empty_output(decoded)
        except Exception:
            called = False
        return not called if "irrelevance" in category else called
    try:
        decoded = default_decode_ast_prompting(response, ReturnFormat.PYTHON, False)
    except Exception:
        return False
    if not is_function_calling_format_output(decoded):
        return False
    return bool(ast_checker(question["function"], decoded, answer["ground_truth"], Language.PYTHON, category,
                            MODEL)["valid"])


def main() -> None:
    folder = Path(sys.argv[1])
    questions = rows(folder / "questions.jsonl")
    answers = {r["id"]: r for r in rows(folder / "answers.jsonl")}
    responses = {r["id"]: r["response"] for r in rows(folder / "responses.jsonl")}
    categories = json.loads((folder / "categories.json").read_text())
    start = time.perf_counter()
    out = {q["id"]: verdict(q, answers.get(q["id"]), responses[q["id"]], categories[q["id"]]) for q in questions}
    print(json.dumps({"verdicts": out, "seconds": time.perf_counter() - start}))


if __name__ == "__main__":
    main()
