"""The CLI's commands and exit codes, run as a user runs them (a real subprocess)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conftest import run_cli  # noqa: E402

from herd.core.plugins import load_plugins, read_builtin_registry  # noqa: E402


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_version():
    result = run_cli("version")
    assert result.returncode == 0 and result.stdout.startswith("herd ")


def test_unknown_plugin_exit_code_and_one_line_cause(tmp_path):
    result = run_cli("run", "--plugins", "multilingal", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 3
    assert last_line(result.stderr).startswith("herd: error: unknown plugin 'multilingal'")


def test_bad_config_exit_code(tmp_path):
    result = run_cli("run", "--set", "run.seed=abc", "--run-dir", str(tmp_path / "r"))
    assert result.returncode == 2
    assert "'run.seed' must be an integer" in last_line(result.stderr)
    missing = run_cli("run", "--config", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "does not exist" in last_line(missing.stderr)


def test_failing_stage_exit_code_and_resume(tmp_path):
    fixtures = Path(__file__).resolve().parent.parent / "fixtures"
    registry = tmp_path / "registry.toml"
    registry.write_text(
        '[plugins.counting]\nmodule = "cli_stage_plugins"\nalways = true\n'
    )
    (tmp_path / "cli_stage_plugins.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(fixtures)!r})\n"
        "from stage_plugins import Counting, Failing\n"
        "counting = Counting()\nfailing = Failing()\n"
        "herd_register_config_sections = counting.herd_register_config_sections\n"
        "def herd_register_stages(register):\n"
        "    counting.herd_register_stages(register)\n    failing.herd_register_stages(register)\n"
    )
    # Added to the PYTHONPATH in force, which may point at the herd checkout under test.
    env = {"HERD_REGISTRY": str(registry),
           "PYTHONPATH": os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH", "")) if p)}
    run_dir = tmp_path / "run"
    failed = run_cli("run", "--run-dir", str(run_dir), env=env)
    assert failed.returncode == 4
    assert "stage 'pretrain' (plugin 'counting') raised RuntimeError" in last_line(failed.stderr)
    assert (run_dir / "log.txt").read_text().count("stage") >= 3
    inspect = run_cli("inspect", str(run_dir), "--json", env=env)
    report = json.loads(inspect.stdout)
    assert report["mix"]["status"] == "complete" and report["pretrain"]["status"].startswith("interrupted")
    resumed = run_cli("run", "--run-dir", str(run_dir), "--resume", env={**env, "HERD_TEST_FAIL": "0"})
    assert resumed.returncode == 0, resumed.stderr
    assert "SKIPPED stages: posttrain" in resumed.stderr.replace("\n", " ")


def test_stages_and_plugins_listing(tmp_path):
    stages = run_cli("stages")
    assert stages.returncode == 0
    names = [line.split()[0] for line in stages.stdout.splitlines() if not line.startswith("(")]
    recipe = ["curate", "mix", "pretrain", "posttrain", "evaluate", "report"]
    assert [n for n in names if n in recipe] == recipe  # plugins may add stages between them
    plugins = run_cli("plugins", "--json")
    assert plugins.returncode == 0
    rows = {row["name"]: row for row in json.loads(plugins.stdout)}
    assert all("status" in row for row in rows.values())
    # What each plugin registered, read from the registry, not from a hand-written list.
    loaded = load_plugins(list(read_builtin_registry()), entry_points=False, tolerant=True)
    for name in loaded.active:
        assert rows[name]["registers"] == loaded.registered(name), name
    assert rows["code"]["registers"]["judges"] == ["code_quality"]
    assert rows["sandbox"]["registers"]["sandboxes"] == ["bwrap", "docker", "unisolated"]


def test_third_party_plugin_package_installed_for_real(hello_site, tmp_path):
    """The fixture package, pip-installed into its own folder; herd finds it through the
    `herd` entry-point group, validates its filter and environment, and lists them."""
    # Added to the PYTHONPATH in force, which may point at the herd checkout under test.
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(hello_site), os.environ.get("PYTHONPATH", "")) if p)}
    listing = run_cli("plugins", "--json", env=env)
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["hello"]["origin"].startswith("entry point (herd-plugin-hello 0.3.0)")
    assert rows["hello"]["registers"] == {"environments": ["greet_back"], "filters": ["no_hello"]}
    pytest.importorskip("herd.plugins.curation")
    corpus = tmp_path / "in.jsonl"
    corpus.write_text('{"id": "a", "text": "hello hello"}\n{"id": "b", "text": "A real sentence about herding llamas in the Andes, long enough to keep."}\n')
    # With the default steps, the plugin's default filter is appended after them, where
    # "hello hello" (11 characters) has already been dropped by the length filter; so the
    # step list here names it first to see it drop something.
    out = tmp_path / "out"
    result = run_cli("curate", "--input", str(corpus), "--output", str(out), "--steps", "no_hello,length", env=env)
    assert result.returncode == 0, result.stderr
    funnel = json.loads((out / "funnel.json").read_text())
    assert [s["name"] for s in funnel["steps"]] == ["read", "no_hello", "length"]
    assert funnel["dropped"]["by_reason"] == {"no_hello.only_greeting": 1, "length.too_short": 1}
