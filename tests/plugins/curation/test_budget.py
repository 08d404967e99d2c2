"""The per-document time budget of extractor steps: enforced by killing a child process,
so a step stuck in C code cannot hang a worker."""

from __future__ import annotations

import os
import time

import pytest

from herd.core.records import Document, Drop
from herd.plugins.curation.budget import TimeBoxedStep


class Behaves:
    """Upper-cases the text; sleeps on SLOW, dies on DIE, raises on RAISE."""

    name = "behaves"

    def apply(self, doc: Document) -> Document | Drop:
        if "SLOW" in doc.text:
            time.sleep(60)
        if "DIE" in doc.text:
            os._exit(3)
        if "RAISE" in doc.text:
            raise ValueError("cannot handle RAISE")
        doc.text = doc.text.upper()
        return doc


@pytest.fixture
def boxed():
    step = TimeBoxedStep("behaves", Behaves(), budget_s=0.5)
    yield step
    step.close()


def test_a_document_within_budget_comes_back_changed(boxed):
    result = boxed.apply(Document(id="a", text="fine words", metadata={"k": 1}))
    assert isinstance(result, Document) and result.text == "FINE WORDS" and result.metadata == {"k": 1}


def test_an_overrun_is_dropped_and_the_next_document_gets_a_fresh_process(boxed):
    result = boxed.apply(Document(id="s", text="SLOW page"))
    assert isinstance(result, Drop) and result.reason == "behaves.timeout"
    assert "extract_time_budget_s = 0.5" in result.detail
    assert boxed.apply(Document(id="b", text="next")).text == "NEXT"


def test_a_process_that_dies_on_a_page_drops_that_page_only(boxed):
    result = boxed.apply(Document(id="d", text="DIE here"))
    assert isinstance(result, Drop) and result.reason == "behaves.crashed" and "exit status 3" in result.detail
    assert boxed.apply(Document(id="c", text="after")).text == "AFTER"


def test_the_steps_own_errors_reach_the_runner_as_before(boxed):
    with pytest.raises(ValueError, match="cannot handle RAISE"):
        boxed.apply(Document(id="r", text="RAISE it"))
    assert boxed.apply(Document(id="e", text="still works")).text == "STILL WORKS"
