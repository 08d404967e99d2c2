from __future__ import annotations

import pytest

from herd.core.protocols import SamplingParams
from herd.core.records import ChatMessage, SFTRow


class ScriptedGenerator:
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
