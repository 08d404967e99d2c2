"""Shared fixtures: an empty built-in registry so core tests see only the plugins they
register themselves, and a helper to run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, SFTRow
from herd.lib.chat.text_backend import TextChatMixin

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def empty_registry(tmp_path: Path) -> Path:
    path = tmp_path / "registry.toml"
    path.write_text("# no built-ins\n")
    return path


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600):
    """Run ``python cli.py ARGS`` for real; returns the CompletedProcess."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, str(REPO / "cli.py"), *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


# ----- judges and the SFT funnel: a scripted generator and SFT rows -------------------


class ScriptedGenerator(TextChatMixin):
    """A deterministic generation backend for tests: ``script(prompt) -> completion``.
    Records every prompt it was asked."""

    def __init__(self, script):
        self.script = script
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        self.prompts.extend(prompts)
        return [[self.script(p) for _ in range(params.n)] for p in prompts]


def make_row(row_id: str, prompt: str, response: str, **kwargs) -> SFTRow:
    return SFTRow(row_id, [ChatMessage("user", prompt), ChatMessage("assistant", response)], **kwargs)


@pytest.fixture
def scripted():
    return ScriptedGenerator


@pytest.fixture
def row():
    return make_row
