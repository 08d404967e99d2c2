"""The commands end to end, in a subprocess, as a user runs them."""

import json

import pytest

from herd.lib.long_context.sample import read_samples
from tests.conftest import run_cli

from tests.lib.long_context.answers import niah_answers


def test_generate_writes_ruler_rows_within_the_length(tokenizer_dir, counter, tmp_path):
    out = tmp_path / "niah.jsonl"
    result = run_cli("long-context", "generate", "--task", "niah_single_1", "--length", "4096", "--samples", "4",
                     "--tokenizer", str(tokenizer_dir / "tokenizer.json"), "--seed", "3", "--output", str(out))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [sorted(r) for r in rows] == [["depth", "index", "input", "length", "outputs"]] * 4
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    for sample in read_samples(out):
        assert 3974 <= sample.length <= 4096
        assert sample.length == counter.count(sample.input) + 128
        assert niah_answers(sample.input) == sample.outputs
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["samples"] == 4 and summary["max_length"] <= 4096


@pytest.mark.parametrize("args, message", [
    (["--task", "niah_single_9", "--length", "4096"], "unknown long-context task 'niah_single_9'"),
    (["--task", "cwe", "--length", "200"], "--length 200 is below task cwe's own size"),
    (["--task", "vt", "--length", "4096", "--tokenizer", "/nonexistent/tok"], "tokenizer /nonexistent/tok: no such file"),
])
def test_bad_input_exits_2_naming_what_is_wrong(args, message, tokenizer_dir, tmp_path):
    if "--tokenizer" not in args:
        args = args + ["--tokenizer", str(tokenizer_dir)]
    result = run_cli("long-context", "generate", *args, "--output", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert message in result.stderr


def test_a_tokenizer_file_that_does_not_load_exits_2(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"not": "a tokenizer"}')
    result = run_cli("long-context", "generate", "--task", "vt", "--length", "4096", "--tokenizer", str(bad),
                     "--output", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert f"tokenizer {bad} does not load" in result.stderr


def test_a_tokenizer_directory_that_does_not_load_exits_2(tmp_path):
    empty = tmp_path / "no_tokenizer_here"
    empty.mkdir()
    result = run_cli("long-context", "generate", "--task", "niah_single_1", "--length", "4096", "--tokenizer",
                     str(empty), "--output", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert f"tokenizer directory {empty} does not load" in result.stderr
