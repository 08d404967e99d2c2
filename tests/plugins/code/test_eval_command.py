"""eval-code writes its results where --output says, and refuses a pipe for --samples
without --output before running any sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.errors import ConfigError
from herd.lib.sandbox.choose import available_backend
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.code.eval_command import output_path

REPO = Path(__file__).resolve().parents[3]


def test_the_results_path_is_decided_before_running(tmp_path):
    samples = tmp_path / "s.jsonl"
    samples.write_text("")
    assert output_path(samples, None) == tmp_path / "s.jsonl_results.jsonl"
    assert output_path(samples, tmp_path / "out.jsonl") == tmp_path / "out.jsonl"
    read_end, write_end = os.pipe()
    try:
        pipe = Path(f"/dev/fd/{read_end}")
        with pytest.raises(ConfigError, match="not a regular file.*--output"):
            output_path(pipe, None)
        assert output_path(pipe, tmp_path / "r.jsonl") == tmp_path / "r.jsonl"
    finally:
        os.close(read_end)
        os.close(write_end)


def test_samples_from_a_process_substitution_go_to_output(tmp_path, isolated_sandbox):
    problems = tmp_path / "problems.jsonl"
    problems.write_text(json.dumps({"task_id": "t/add", "prompt": "def add(a, b):\n    \"\"\"Sum.\"\"\"\n", "entry_point": "add",
                                    "canonical_solution": "    return a + b\n",
                                    "test": "def check(f):\n    assert f(1, 2) == 3\n"}) + "\n")
    sample = json.dumps({"task_id": "t/add", "completion": "    return a + b\n"})
    out = tmp_path / "results.jsonl"
    command = (f"{sys.executable} {REPO / 'cli.py'} eval-code --plugins code --problems {problems} "
               f"--samples <(echo '{sample}') --output {out} --k 1 --sandbox {available_backend(SandboxConfig())}")
    proc = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["results"] == str(out)
    assert [json.loads(line)["status"] for line in out.read_text().splitlines()] == ["passed"], out.read_text()
