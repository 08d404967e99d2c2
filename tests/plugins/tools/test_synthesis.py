"""The tool_use synthesizer runs every trajectory for real (sympy, the sandbox) and keeps
only those whose every call parses, validates and runs."""

from __future__ import annotations

import json

import pytest

from herd.core.app import App
from herd.core.services import Services
from herd.lib.chat.tools import FunctionDef
from herd.lib.sandbox.choose import available_backend
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.synthesis import ToolUseSynthesizer
from herd.plugins.tools.tasks import Draft, generated_function


@pytest.fixture
def synthesizer(make_services):
    if available_backend(SandboxConfig()) is None:
        pytest.skip("no isolated sandbox on this machine")
    from herd.core.plugins import load_plugins

    services = make_services()
    services.registry = load_plugins().registry  # the sandbox backends
    return ToolUseSynthesizer(ToolsConfig(seed=3), services)


@pytest.mark.slow
def test_every_template_makes_a_trajectory_that_renders(synthesizer, tmp_path, chat):
    rows = list(synthesizer.synthesize(6, tmp_path))
    counts = json.loads((tmp_path / "tool_use.json").read_text())
    assert counts["kept"] == 6 and counts["dropped"] == 0
    categories = {row.category: row for row in rows}
    assert set(categories) == {"single_builtin", "single_custom", "parallel", "multi_step", "file_upload", "no_call"}
    parallel = categories["parallel"].messages
    assert [m.role for m in parallel] == ["system", "user", "assistant", "ipython", "ipython", "assistant"]
    multi = categories["multi_step"].messages
    assert [c.name for m in multi for c in m.tool_calls] == ["code_interpreter", "wolfram_alpha"]
    assert multi[3].content in multi[4].tool_calls[0].arguments["query"]  # step 2 uses step 1's result
    for row in rows:  # each trajectory is trainable in the one chat format
        assert any(chat.encode_dialog(row.messages).loss)


def test_drafts_whose_calls_fail_are_dropped_with_reasons(synthesizer):
    calc, builtin, arg = generated_function(__import__("random").Random(0), "maths")
    drafts = [
        Draft("bad-json", "single_custom", "q", [lambda r: '{"name": "%s", "parameters": {' % calc.name],
              lambda r: "", functions=[calc], aliases={calc.name: builtin}),
        Draft("bad-args", "single_custom", "q", [lambda r: json.dumps({"name": calc.name, "parameters": {arg: 5}})],
              lambda r: "", functions=[calc], aliases={calc.name: builtin}),
        Draft("unknown", "single_builtin", "q", [lambda r: '[nope(a=1)]'], lambda r: "", builtins=["wolfram_alpha"]),
        Draft("fails", "single_builtin", "q", [lambda r: '<|python_tag|>wolfram_alpha.call(query="frobnicate(x)")'],
              lambda r: "", builtins=["wolfram_alpha"]),
        Draft("prose", "single_builtin", "q", [lambda r: "I think it is 4."], lambda r: "", builtins=["wolfram_alpha"]),
        Draft("good", "single_builtin", "q", [lambda r: '<|python_tag|>wolfram_alpha.call(query="2+2")'],
              lambda r: f"It is {r[0][0].output}.", builtins=["wolfram_alpha"]),
    ]
    kept, dropped = synthesizer.execute(drafts)
    assert [row.id for row in kept] == ["good"] and kept[0].messages[-1].content == "It is 4."
    assert [(d.id, d.reason) for d in dropped] == [
        ("bad-json", "malformed_call"), ("bad-args", "invalid_arguments"), ("unknown", "unknown_tool"),
        ("fails", "failed"), ("prose", "no_call")]
    assert "unknown function 'frobnicate'" in dropped[3].detail
    assert isinstance(calc, FunctionDef)


def test_the_synthesizer_drafts_at_most_its_configured_number(tmp_path):
    app = App.create(plugins=["tools"], entry_points=False)
    synthesizer = ToolUseSynthesizer(ToolsConfig(drafts=3), Services.for_app(app, workdir=tmp_path))
    rows = list(synthesizer.synthesize(50, tmp_path / "work"))
    assert len(rows) == 3
    assert '"drafts": 3' in (tmp_path / "work" / "tool_use.json").read_text()
