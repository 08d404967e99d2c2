"""``eval-tools`` end to end, in a subprocess, as a user runs it: BFCL's file formats in,
accuracy per category and a verdict per id out."""

import json

import pytest

from tests.conftest import run_cli

AREA = {"name": "calculate_triangle_area", "description": "Area of a triangle.",
        "parameters": {"type": "dict", "properties": {"base": {"type": "integer"}, "height": {"type": "integer"}},
                       "required": ["base", "height"]}}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def bfcl_files(tmp_path):
    user = [[{"role": "user", "content": "Area of a triangle with base 10 and height 5?"}]]
    questions = write_jsonl(tmp_path / "questions.json", [
        {"id": "simple_python_0", "question": user, "function": [AREA]},
        {"id": "simple_python_1", "question": user, "function": [AREA]},
        {"id": "irrelevance_0", "question": [[{"role": "user", "content": "What is my BMI?"}]], "function": [AREA]},
        {"id": "irrelevance_1", "question": [[{"role": "user", "content": "What is my BMI?"}]], "function": [AREA]},
        {"id": "multi_turn_base_0", "question": user, "function": [AREA]},
    ])
    truth = {"calculate_triangle_area": {"base": [10], "height": [5]}}
    answers = write_jsonl(tmp_path / "answers.json", [
        {"id": "simple_python_0", "ground_truth": [truth]}, {"id": "simple_python_1", "ground_truth": [truth]}])
    return tmp_path, questions, answers


def test_scores_response_files_per_category(bfcl_files):
    tmp_path, questions, answers = bfcl_files
    responses = write_jsonl(tmp_path / "responses.jsonl", [
        {"id": "simple_python_0", "response": "[calculate_triangle_area(base=10, height=5)]"},
        {"id": "simple_python_1", "response": "[calculate_triangle_area(base=5, height=10)]"},
        {"id": "irrelevance_0", "response": "I cannot tell your BMI with these tools."},
        {"id": "irrelevance_1", "response": '{"name": "calculate_triangle_area", "parameters": {"base": '},
        {"id": "nobody_asked_0", "response": "stray"},
    ])
    out = tmp_path / "out" / "scores.json"
    result = run_cli("eval-tools", "--questions", str(questions), "--answers", str(answers),
                     "--responses", str(responses), "--output", str(out))
    assert result.returncode == 0, result.stderr
    scores = json.loads(out.read_text())
    assert scores["accuracy"] == {"irrelevance": 0.5, "simple_python": 0.5}
    by_id = {r["id"]: r for r in scores["results"]}
    assert list(by_id) == ["simple_python_0", "simple_python_1", "irrelevance_0", "irrelevance_1", "multi_turn_base_0"]
    assert by_id["simple_python_1"]["correct"] is False and "'base': 5" in by_id["simple_python_1"]["reason"]
    assert by_id["irrelevance_1"]["reason"].startswith("malformed call (json)")
    assert by_id["multi_turn_base_0"]["correct"] is None
    assert scores["counts"]["irrelevance"]["malformed"] == 1
    assert scores["responses_without_question"] == ["nobody_asked_0"]
    assert json.loads(result.stdout.strip().splitlines()[-1])["malformed"] == 1


def test_a_question_without_a_response_is_wrong_not_skipped(bfcl_files):
    tmp_path, questions, answers = bfcl_files
    responses = write_jsonl(tmp_path / "responses.jsonl", [
        {"id": "simple_python_0", "response": "[calculate_triangle_area(base=10, height=5)]"}])
    out = tmp_path / "scores.json"
    assert run_cli("eval-tools", "--questions", str(questions), "--answers", str(answers),
                   "--responses", str(responses), "--output", str(out)).returncode == 0
    by_id = {r["id"]: r for r in json.loads(out.read_text())["results"]}
    assert by_id["simple_python_1"] == {"id": "simple_python_1", "category": "simple_python", "correct": False,
                                        "reason": "no response for this id"}


@pytest.mark.parametrize("rows, message", [
    (['{"id": "simple_python_0", "response": "x"}', "{not json"], "responses.jsonl:2: responses row is not JSON"),
    (['{"id": "simple_python_0", "response": 3}'], "responses.jsonl:1: 'response' must be the model's raw text"),
    (['{"id": "a_0", "response": "x"}', '{"id": "a_0", "response": "y"}'], "id 'a_0' appears twice"),
])
def test_bad_rows_exit_5_naming_file_line_and_reason(bfcl_files, rows, message):
    tmp_path, questions, answers = bfcl_files
    responses = tmp_path / "responses.jsonl"
    responses.write_text("\n".join(rows) + "\n")
    result = run_cli("eval-tools", "--questions", str(questions), "--answers", str(answers),
                     "--responses", str(responses), "--output", str(tmp_path / "o.json"))
    assert result.returncode == 5
    assert message in result.stderr
    assert not (tmp_path / "o.json").exists()


@pytest.mark.slow
def test_generates_responses_with_a_local_model(bfcl_files):
    import torch

    from herd.lib.llama.hf_io import save_model
    from herd.lib.llama.model import Llama, LlamaConfig
    from herd.lib.llama.tokenizer import Tokenizer

    tmp_path, questions, answers = bfcl_files
    texts = [json.dumps(AREA), "Area of a triangle with base 10 and height 5?"] * 20
    tok = Tokenizer.train(texts, 600)
    torch.manual_seed(0)
    save_model(Llama(LlamaConfig(vocab_size=tok.vocab_size, max_seq_len=1024)).eval(), tmp_path / "model", tokenizer=tok)
    out = tmp_path / "scores.json"
    result = run_cli("eval-tools", "--questions", str(questions), "--answers", str(answers),
                     "--model", str(tmp_path / "model"), "--max-tokens", "8", "--output", str(out))
    assert result.returncode == 0, result.stderr
    scores = json.loads(out.read_text())
    assert [r["id"] for r in scores["results"]][:4] == ["simple_python_0", "simple_python_1", "irrelevance_0",
                                                        "irrelevance_1"]
    responses = [json.loads(line) for line in (tmp_path / "scores.responses.jsonl").read_text().splitlines()]
    assert [r["id"] for r in responses] == [r["id"] for r in scores["results"]]
    assert all(isinstance(r["response"], str) for r in responses)
