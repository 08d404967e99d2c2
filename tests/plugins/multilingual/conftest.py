from __future__ import annotations

import pytest

from herd.core.protocols import SamplingParams
from herd.lib.chat.text_backend import TextChatMixin


class ScriptedGenerator(TextChatMixin):
    """A deterministic generation backend for tests. ``script(prompt, i)`` returns the
    i-th completion of a prompt; every call is recorded."""

    def __init__(self, script):
        self.script = script
        self.calls: list[tuple[str, SamplingParams]] = []

    def generate(self, prompts: list[str], params: SamplingParams) -> list[list[str]]:
        self.calls.extend((p, params) for p in prompts)
        return [[self.script(p, i) for i in range(params.n)] for p in prompts]


@pytest.fixture
def scripted():
    return ScriptedGenerator


@pytest.fixture(scope="session")
def identifier():
    from herd.lib.language.detect import LanguageIdentifier

    return LanguageIdentifier()
