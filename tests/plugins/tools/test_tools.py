"""The registry's schema checks, the built-in tools on real files in the real sandbox,
and the ``tools`` rollout environment."""

from __future__ import annotations

import json
import time

import pytest

from herd.core.errors import PluginError
from herd.core.records import ChatMessage, SFTRow, ToolCall
from herd.lib.chat.tools import FunctionDef
from herd.lib.sandbox.choose import available_backend, open_sandbox
from herd.lib.sandbox.config import SandboxConfig
from herd.plugins.tools.builtin.maths import maths_tool
from herd.plugins.tools.builtin.python import UploadedFiles, python_tool
from herd.plugins.tools.config import ToolsConfig
from herd.plugins.tools.environment import ToolEnvironment
from herd.lib.tool import Tool, ToolError
from herd.plugins.tools.registry import ToolBox

WEATHER = FunctionDef("get_weather", "Weather of a city", {
    "type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city"], "additionalProperties": False})


def _weather(arguments):
    if arguments["city"] == "Atlantis":
        raise ToolError("no weather station in Atlantis")
    return f"{arguments['city']}: sunny for {arguments.get('days', 1)} day(s)"


def test_arguments_are_validated_before_the_executor_runs():
    ran = []
    box = ToolBox([Tool(WEATHER, lambda a: ran.append(a) or "ok")])
    result = box.call(ToolCall("get_weather", {"days": 0, "units": "C"}))
    assert not result.ok and result.reason == "invalid_arguments" and not ran
    assert "'city' is a required property" in result.output and "days: 0 is less than the minimum" in result.output
    assert "units" in result.output
    assert result.message().role == "ipython" and result.message().content.startswith("Error: invalid arguments")
    assert box.call(ToolCall("get_wether", {})).reason == "unknown_tool"


def test_tool_failures_and_loops_are_results_not_crashes():
    def loop(arguments):
        time.sleep(30)
        return "never"

    box = ToolBox([Tool(WEATHER, _weather), Tool(FunctionDef("spin", "loops", {"type": "object"}), loop, 0.2),
                   Tool(FunctionDef("bug", "raises", {"type": "object"}), lambda a: 1 / 0),
                   Tool(FunctionDef("huge", "talks", {"type": "object"}), lambda a: "x" * 10_000)],
                  max_output_chars=100)
    assert box.call(ToolCall("get_weather", {"city": "Oslo", "days": 2})).output == "Oslo: sunny for 2 day(s)"
    assert box.call(ToolCall("get_weather", {"city": "Atlantis"})).output == "no weather station in Atlantis"
    assert box.call(ToolCall("spin", {})).reason == "timeout"
    bug = box.call(ToolCall("bug", {}))
    assert bug.reason == "failed" and "ZeroDivisionError" in bug.output
    assert "more characters cut" in box.call(ToolCall("huge", {})).output


def test_invalid_definitions_and_duplicate_names_are_refused_naming_the_origin():
    box = ToolBox([Tool(WEATHER, _weather)])
    with pytest.raises(PluginError, match="get_weather.*myplugin"):
        box.add(Tool(WEATHER, _weather), origin="myplugin")
    bad = FunctionDef("broken", "", {"type": "object", "properties": {"x": {"type": "strung"}}})
    with pytest.raises(PluginError, match="broken.*not a valid JSON Schema at properties/x/type"):
        box.add(Tool(bad, _weather))
    with pytest.raises(PluginError, match="type 'object'"):
        box.add(Tool(FunctionDef("s", "", {"type": "string"}), _weather))


@pytest.mark.slow
def test_maths_engine_answers_and_refuses_code():
    tool = maths_tool(timeout_s=20)
    box = ToolBox([tool])
    assert box.call(ToolCall("wolfram_alpha", {"query": "solve x^2 - 5x + 6 = 0 for x"})).output == "[2, 3]"
    assert box.call(ToolCall("wolfram_alpha", {"query": "integrate(x**2, (x, 0, 3))"})).output == "9"
    hostile = box.call(ToolCall("wolfram_alpha", {"query": '__import__("os").system("touch /tmp/pwned")'}))
    assert not hostile.ok and "cannot read" in hostile.output
    assert "exponent" in box.call(ToolCall("wolfram_alpha", {"query": "7^(10^8)"})).output


@pytest.fixture(scope="module")
def sandbox():
    cfg = SandboxConfig(timeout_s=5.0)
    if available_backend(cfg) is None:
        pytest.skip("no isolated sandbox (Docker with the herd image, or bubblewrap) on this machine")
    box = open_sandbox(cfg)
    yield box
    box.close()


class _Held:
    """``Services.open_sandbox``'s shape for a sandbox the test holds open."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def __call__(self):
        import contextlib

        return contextlib.nullcontext(self.sandbox)


@pytest.mark.slow
def test_python_reads_uploaded_files_read_only_in_the_sandbox(sandbox, tmp_path):
    csv = tmp_path / "sales.csv"
    csv.write_text("name,amount\napples,3\npears,4\n")
    notes = tmp_path / "notes.txt"
    notes.write_text("remember the pears\n")
    box = ToolBox([python_tool(_Held(sandbox), UploadedFiles.read([csv, notes]))])
    code = ("import csv\nrows = list(csv.DictReader(open('sales.csv')))\n"
            "print(open('notes.txt').read().strip())\nsum(int(r['amount']) for r in rows)")
    result = box.call(ToolCall("code_interpreter", {"code": code}))
    assert result.ok and result.output == "remember the pears\n7"
    write = box.call(ToolCall("code_interpreter", {"code": "open('sales.csv', 'w').write('x')"}))
    assert not write.ok and "PermissionError" in write.output and csv.read_text().startswith("name,amount")
    net = box.call(ToolCall("code_interpreter", {"code": "import socket\nsocket.create_connection(('1.1.1.1', 53), 2)"}))
    assert not net.ok and "Error" in net.output
    slow = box.call(ToolCall("code_interpreter", {"code": "while True: pass"}))
    assert not slow.ok and "timeout" in slow.output


@pytest.mark.slow
def test_the_environment_answers_calls_errors_and_nothing(sandbox):
    box = ToolBox([Tool(WEATHER, _weather), python_tool(_Held(sandbox), UploadedFiles())])
    env = ToolEnvironment(box, ToolsConfig(max_calls=4))
    prompt = SFTRow("p", [ChatMessage("system", "Environment: ipython"), ChatMessage("user", "hi")])
    assert env.applies(prompt) and not env.applies(SFTRow("q", [ChatMessage("user", "hi")]))
    user = ChatMessage("user", "Weather in Oslo and Rome?")

    answer = env.respond([user, ChatMessage("assistant", '[get_weather(city="Oslo"), get_weather(city="Rome", days=2)]')])
    assert [(m.role, m.name, m.content) for m in answer] == [
        ("ipython", "get_weather", "Oslo: sunny for 1 day(s)"), ("ipython", "get_weather", "Rome: sunny for 2 day(s)")]
    code = env.respond([user, ChatMessage("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": "6*7"})])])
    assert code[0].content == "42"
    broken = env.respond([user, ChatMessage("assistant", '<function=get_weather>{"city": "Oslo"</function>')])
    assert broken[0].role == "ipython" and broken[0].content.startswith("Error: malformed tool call (function_tag)")
    invalid = env.respond([user, ChatMessage("assistant", '{"name": "get_weather", "parameters": {"city": 5}}')])
    assert "5 is not of type 'string'" in invalid[0].content
    many = env.respond([user, ChatMessage("assistant", "[" + ", ".join(['get_weather(city="x")'] * 9) + "]")])
    assert len(many) == 1 and "9 calls" in many[0].content
    assert env.respond([user, ChatMessage("assistant", "It is sunny in Oslo.")]) is None
    assert env.respond([user]) is None


RUN_PYTHON = FunctionDef("run_python", "Run Python 3 code.", {
    "type": "object", "properties": {"source": {"type": "string"}}, "required": ["source"]})
SUM_CODE = "import csv\nsum(int(r['amount']) for r in csv.DictReader(open('sales.csv')))"


@pytest.mark.slow
def test_a_prompts_own_functions_and_files_answer_its_rollouts(sandbox):
    from herd.plugins.tools.prompt_tools import METADATA_KEY, PromptTools

    setup = PromptTools([RUN_PYTHON], {"run_python": "code_interpreter"}, {"sales.csv": "name,amount\na,3\nb,4\n"})
    env = ToolEnvironment(ToolBox([python_tool(_Held(sandbox), UploadedFiles())]), ToolsConfig(),
                          code_tool=lambda files: python_tool(_Held(sandbox), files))
    prompt = SFTRow("p", [ChatMessage("user", "Total amount?")], capability="tool_use",
                    metadata={METADATA_KEY: setup.to_metadata()})
    call = ChatMessage("assistant", '{"name": "run_python", "parameters": {"source": ' + json.dumps(SUM_CODE) + "}}")
    started = env.start(prompt)
    assert started.respond([prompt.messages[0], call])[0].content == "7"
    # the run's own environment is untouched: no run_python, and no sales.csv for its code
    assert "no tool named 'run_python'" in env.respond([prompt.messages[0], call])[0].content
    direct = ChatMessage("assistant", "", tool_calls=[ToolCall("code_interpreter", {"code": SUM_CODE})])
    assert "FileNotFoundError" in env.respond([prompt.messages[0], direct])[0].content
    # a prompt without a setup gets the run's environment itself
    assert env.start(SFTRow("q", [ChatMessage("user", "hi")])) is env


def test_a_tool_setup_round_trips_and_a_broken_one_names_the_prompt():
    from herd.core.errors import InputError
    from herd.plugins.tools.prompt_tools import METADATA_KEY, PromptTools

    setup = PromptTools([RUN_PYTHON], {"run_python": "code_interpreter"}, {"a.csv": "x\n1\n"})
    assert PromptTools.from_metadata({METADATA_KEY: setup.to_metadata()}, "prompt p") == setup
    assert PromptTools.from_metadata({}, "prompt p") is None
    with pytest.raises(InputError, match="prompt p: .*run_python name no built-in executor"):
        PromptTools.from_metadata({METADATA_KEY: {"functions": setup.to_metadata()["functions"], "aliases": {}}},
                                  "prompt p")
    with pytest.raises(InputError, match="prompt p: metadata 'tool_setup' is not a tool setup"):
        PromptTools.from_metadata({METADATA_KEY: {"functions": [{"description": "no name"}]}}, "prompt p")
