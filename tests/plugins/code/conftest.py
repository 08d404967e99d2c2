"""Fixtures of the code plugin's tests: an isolated sandbox (skipped where the machine has
none) and a scripted model."""

from __future__ import annotations

import pytest

from herd.core.protocols import SamplingParams
from herd.lib.sandbox.choose import available_backend, open_sandbox
from herd.lib.sandbox.config import SandboxConfig
from herd.lib.chat.text_backend import TextChatMixin


@pytest.fixture(scope="module")
def code_sandbox():
    cfg = SandboxConfig(timeout_s=5, pool_size=2)
    if available_backend(cfg) is None:
        pytest.skip("no isolated sandbox here (no Docker image, no working bubblewrap)")
    box = open_sandbox(cfg)
    yield box
    box.close()


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
