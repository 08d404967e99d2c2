"""brave_search over a local faiss index of real text, embedded with the packaged MiniLM."""

from __future__ import annotations

import json

import pytest

from herd.core.records import ToolCall
from herd.lib.sft_funnel.embed import Embedder
from herd.plugins.tools.builtin.search import SearchIndex, read_passages, search_tool
from herd.plugins.tools.registry import ToolBox


@pytest.mark.slow
def test_search_finds_the_relevant_passage(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text("\n".join(json.dumps(r) for r in [
        {"id": "lava", "text": "Volcanoes erupt molten rock called lava from the mantle."},
        {"id": "bread", "text": "Sourdough bread rises thanks to wild yeast and lactic bacteria."},
        {"id": "orbit", "text": "The Moon orbits the Earth once every 27.3 days."}]) + "\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("Penguins live in the southern hemisphere.\n\nThey cannot fly but swim well.\n")
    index = SearchIndex(read_passages([docs, notes]), Embedder())
    assert index.search("how long does the moon take to go around the earth", k=1)[0].passage.id == "orbit"
    box = ToolBox([search_tool(index, k=2)])
    result = box.call(ToolCall("brave_search", {"query": "birds that swim but do not fly"}))
    assert result.ok and result.output.startswith("[1] (notes.txt:")
