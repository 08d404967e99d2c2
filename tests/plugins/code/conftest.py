"""Fixtures of the code plugin's tests: a scripted model (the sandbox is
``isolated_sandbox`` of tests/plugins/conftest.py)."""

from __future__ import annotations

import pytest

from herd.core.protocols import SamplingParams
from herd.lib.chat.text_backend import TextChatMixin


class ScriptedModel(TextChatMixin):
    """Deterministic stand-in for an LLM: the replies of the first rule whose substrings
    all occur in the prompt, one per requested sample (cycled)."""

    def __init__(self, rules: list[tuple[list[str], list[str]]]):
        self.rules = rules
        self.prompts: list[str] = []

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        out = []
        for prompt in prompts:
            self.prompts.append(prompt)
            replies = next((r for needles, r in self.rules if all(n in prompt for n in needles)), None)
            if replies is None:
                raise AssertionError(f"the scripted model has no reply for:\n{prompt[:400]}")
            out.append([replies[i % len(replies)] for i in range(params.n)])
        return out


@pytest.fixture
def scripted_model():
    """``scripted_model(rules)`` builds a ``ScriptedModel``."""
    return ScriptedModel
