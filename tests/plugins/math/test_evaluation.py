"""The math evaluator and eval-math: pass@1 and maj@k on held-out problems, with a
scripted generator that answers right or wrong, and a tiny local model through the CLI."""

import json

import pytest

from herd.core.protocols import SamplingParams
from herd.lib.chat.text_backend import TextChatMixin
from herd.plugins.math.config import MathEvalConfig
from herd.plugins.math.evaluation import majority
from herd.plugins.math.evaluator import MathEvaluator
from herd.plugins.math.problems import generate
from herd.plugins.math.verifier import AnswerVerifier

CFG = MathEvalConfig(problems=12, samples=3)
HELD_OUT = {p.question: p for p in generate(CFG.problems, CFG.seed, "eval")}


class Scripted(TextChatMixin):
    """``script(problem, greedy, i) -> text | None``; None: the prompt "does not fit"."""

    def __init__(self, script):
        self.script = script

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        out = []
        for prompt in prompts:
            problem = next(p for q, p in HELD_OUT.items() if q in prompt)
            texts = [self.script(problem, params.temperature == 0.0, i) for i in range(params.n)]
            out.append([] if None in texts else texts)
        return out


def _evaluate(script, tmp_path, make_services):
    model_dir = tmp_path / "model"
    model_dir.mkdir(exist_ok=True)
    services = make_services(Scripted(script), generator_dir=model_dir)
    return MathEvaluator(CFG, services).evaluate(model_dir, tmp_path / "work")


def test_right_answers_score_one(tmp_path, make_services):
    metrics = _evaluate(lambda p, greedy, i: p.trace, tmp_path, make_services)
    assert metrics == {"math.pass@1": 1.0, "math.maj@k": 1.0, "math.k": 3.0, "math.problems": 12.0,
                       "math.skipped": 0.0}
    results = json.loads((tmp_path / "work" / "math_results.json").read_text())["results"]
    assert len(results) == 12 and all(r["greedy_correct"] for r in results)


def test_wrong_greedy_and_a_majority_of_right_samples(tmp_path, make_services):
    def script(problem, greedy, i):
        if greedy:
            return "#### 100000"  # never a held-out answer
        return f"#### {problem.answer}" if i < 2 else "The answer is 99999."

    metrics = _evaluate(script, tmp_path, make_services)
    assert metrics["math.pass@1"] == 0.0 and metrics["math.maj@k"] == 1.0


def test_prompts_that_do_not_fit_are_skipped_not_scored(tmp_path, make_services):
    skipped = set(list(HELD_OUT)[:4])
    metrics = _evaluate(lambda p, g, i: None if p.question in skipped else f"#### {p.answer}", tmp_path, make_services)
    assert metrics["math.skipped"] == 4.0 and metrics["math.problems"] == 8.0 and metrics["math.pass@1"] == 1.0
    results = json.loads((tmp_path / "work" / "math_results.json").read_text())["results"]
    assert sum("does not fit" in (r["skipped"] or "") for r in results) == 4


def test_majority_groups_equal_values():
    verifier = AnswerVerifier()
    assert majority(["#### 1/2", "#### 3", "the answer is 0.5", "#### 3"], verifier) == "1/2"  # tie: first
    assert majority(["#### 3", "#### 0.5", "#### 1/2", "#### 2/4"], verifier) == "0.5"
    assert majority(["no answer here"], verifier) is None


@pytest.mark.slow  # a CLI subprocess that loads a model
def test_eval_math_command_on_a_tiny_model(tmp_path):
    import torch

    from herd.lib.llama.hf_io import save_model
    from herd.lib.llama.model import Llama, LlamaConfig
    from herd.lib.llama.tokenizer import Tokenizer
    from tests.conftest import run_cli

    tok = Tokenizer.train([p.prompt + "\n" + p.trace for p in generate(40, 0, "train")], 600)
    torch.manual_seed(0)
    save_model(Llama(LlamaConfig(vocab_size=tok.vocab_size, max_seq_len=512)).eval(), tmp_path / "model",
               tokenizer=tok)
    out = tmp_path / "math.json"
    result = run_cli("eval-math", "--model", str(tmp_path / "model"), "--problems", "3",
                     "--samples", "2", "--max-tokens", "8", "--output", str(out))
    assert result.returncode == 0, result.stderr
    scores = json.loads(out.read_text())
    assert scores["metrics"]["math.k"] == 2.0
    assert scores["metrics"]["math.problems"] + scores["metrics"]["math.skipped"] == 3.0
    assert [len(r["samples"]) for r in scores["results"] if not r["skipped"]] == [2] * int(
        scores["metrics"]["math.problems"])
    # an untrained model's 8 tokens answer nothing right
    assert 0.0 <= scores["metrics"]["math.pass@1"] <= 1.0


def test_eval_math_rejects_bad_arguments(tmp_path):
    from tests.conftest import run_cli

    result = run_cli("eval-math", "--model", str(tmp_path), "--problems", "0",
                     "--output", str(tmp_path / "o.json"))
    assert result.returncode != 0 and "--problems 0" in result.stderr
