"""The ``openai`` backend against ``herd serve`` over real HTTP on loopback, and against
endpoints that time out or answer garbage."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import Request, urlopen

import pytest

from herd.core.protocols import Generator, SamplingParams
from herd.core.records import ChatMessage, ToolCall
from herd.plugins.posttrain.openai_backend import OpenAIGenerator, OpenAIGeneratorConfig
from herd.plugins.posttrain.serve import ModelService, make_server


@pytest.fixture(scope="module")
def server(model_dir):
    service = ModelService.load(model_dir)
    httpd = make_server(service, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, service, None
    httpd.shutdown()
    httpd.server_close()


def _url(httpd):
    host, port = httpd.server_address[:2]
    return f"http://{host}:{port}/v1"


def _post(url, body):
    req = Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def test_server_speaks_openai_completions_and_chat(server):
    httpd, service, _ = server
    out = _post(_url(httpd) + "/completions", {"prompt": ["hello", "fox"], "max_tokens": 5, "n": 2, "temperature": 1.0, "seed": 1})
    assert out["object"] == "text_completion" and len(out["choices"]) == 4
    assert all(isinstance(c["text"], str) and c["finish_reason"] in ("stop", "length") for c in out["choices"])
    chat = _post(_url(httpd) + "/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "temperature": 0})
    assert chat["choices"][0]["message"]["role"] == "assistant"
    assert chat["usage"]["prompt_tokens"] > 0
    # Greedy decoding through HTTP equals calling the model directly.
    direct = service.generator.chat([[ChatMessage("user", "hi")]], SamplingParams(temperature=0, max_tokens=4))
    assert chat["choices"][0]["message"]["content"] == direct[0][0].message.content


def test_server_rejects_bad_requests(server):
    httpd, _, _ = server
    from urllib.error import HTTPError

    with pytest.raises(HTTPError) as err:
        _post(_url(httpd) + "/chat/completions", {"messages": [{"role": "robot", "content": "x"}]})
    assert err.value.code == 400
    with pytest.raises(HTTPError) as err:
        _post(_url(httpd) + "/completions", {"prompt": 5})
    assert err.value.code == 400


def test_openai_backend_against_herd_serve_with_disk_cache(server, tmp_path):
    httpd, _, _ = server
    cfg = OpenAIGeneratorConfig(base_url=_url(httpd), concurrency=2, cache_dir=str(tmp_path / "cache"))
    gen = OpenAIGenerator(cfg)
    params = SamplingParams(temperature=1.0, max_tokens=6, n=3, seed=7)
    first = gen.generate(["hello", "the fox", "blue"], params)
    assert [len(x) for x in first] == [3, 3, 3] and gen.last_failures == []
    assert gen.stats["requests"] == 3 and gen.stats["cache_hits"] == 0
    again = OpenAIGenerator(cfg)  # a re-run: everything comes from the disk cache
    assert again.generate(["hello", "the fox", "blue"], params) == first
    assert again.stats == {"requests": 0, "cache_hits": 3, "retries": 0, "failures": 0}

    chat_gen = OpenAIGenerator(OpenAIGeneratorConfig(base_url=_url(httpd), endpoint="chat", cache_dir=""))
    out = chat_gen.generate(["hi"], SamplingParams(temperature=0, max_tokens=3))
    assert len(out[0]) == 1


class _Flaky(BaseHTTPRequestHandler):
    """An endpoint that misbehaves on purpose: garbage, slowness, and recovery."""

    calls: dict = {}

    def log_message(self, *a):
        return

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["prompt"]
        _Flaky.calls[prompt] = _Flaky.calls.get(prompt, 0) + 1
        if prompt == "garbage":
            payload, status = b"<html>oops</html>", 200
        elif prompt == "slow":
            time.sleep(1.5)
            payload, status = b"{}", 200
        elif prompt == "busy-once" and _Flaky.calls[prompt] == 1:
            payload, status = b"overloaded", 503
        elif prompt == "bad-request":
            payload, status = b'{"error": "no"}', 400
        else:
            payload = json.dumps({"choices": [{"text": prompt.upper(), "index": 0}]}).encode()
            status = 200
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except BrokenPipeError:  # the client gave up on "slow", as it should
            pass


def test_timeouts_and_garbage_become_counted_failures():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        cfg = OpenAIGeneratorConfig(base_url=_url(httpd), timeout_s=0.5, retries=1, backoff_s=0.01, cache_dir="")
        gen = OpenAIGenerator(cfg)
        out = gen.generate(["ok", "garbage", "slow", "busy-once", "bad-request"], SamplingParams(max_tokens=4))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert out[0] == ["OK"] and out[3] == ["BUSY-ONCE"]
    assert out[1] == out[2] == out[4] == []
    reasons = {f.index: f.reason for f in gen.last_failures}
    assert set(reasons) == {1, 2, 4}
    assert "garbage" in reasons[1] and "after 2 attempts" in reasons[1]
    assert "timeout" in reasons[2]
    assert reasons[4].startswith("HTTP 400")  # a client error is not retried
    assert _Flaky.calls["bad-request"] == 1 and _Flaky.calls["garbage"] == 2
    assert gen.stats["failures"] == 3


@pytest.mark.slow
def test_cli_serve_subprocess_answers_the_openai_backend(model_dir, tmp_path):
    """``python cli.py serve`` as a real process, asked by the ``openai`` backend."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import herd

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(herd.__file__).parent
    proc = subprocess.Popen(
        [sys.executable, str(root / "cli.py"), "serve", "--model", str(model_dir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"serve exited early: {proc.stdout.read()}")
                time.sleep(0.5)
        gen = OpenAIGenerator(OpenAIGeneratorConfig(base_url=f"http://127.0.0.1:{port}/v1", cache_dir=""))
        out = gen.generate(["hello"], SamplingParams(max_tokens=4, n=2, seed=3))
        assert len(out[0]) == 2 and gen.last_failures == []
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ----- Generator.chat over HTTP: typed messages and tool calls in OpenAI's format ------------

TOOL_DIALOG = [
    ChatMessage("system", "Environment: ipython\nTools: brave_search"),
    ChatMessage("user", "weather?"),
    ChatMessage("assistant", "", tool_calls=[ToolCall("brave_search", {"query": "weather"}, id="c1")]),
    ChatMessage("ipython", "sunny"),
]


def test_openai_backend_chat_against_herd_serve_equals_the_model_and_caches(server, tmp_path):
    httpd, service, _ = server
    cfg = OpenAIGeneratorConfig(base_url=_url(httpd), cache_dir=str(tmp_path / "cache"))
    gen = OpenAIGenerator(cfg)
    assert isinstance(gen, Generator)
    conversations = [TOOL_DIALOG, [ChatMessage("user", "hi")]]
    params = SamplingParams(temperature=0, max_tokens=5, n=2)
    out = gen.chat(conversations, params)
    # The tool call went over the wire and was rendered as the model itself renders it.
    direct = service.generator.chat(conversations, params)
    assert out == direct and gen.last_failures == []
    again = OpenAIGenerator(cfg)
    assert again.chat(conversations, params) == out
    assert again.stats["requests"] == 0 and again.stats["cache_hits"] == 2


class _ToolServer(BaseHTTPRequestHandler):
    """A chat endpoint that records each request and answers with tool calls."""

    requests: list = []

    def log_message(self, *a):
        return

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _ToolServer.requests.append((self.path, body))
        search = {"id": "s9", "type": "function", "function": {"name": "brave_search", "arguments": '{"query": "tides"}'}}
        custom = {"id": "t9", "type": "function", "function": {"name": "get_time", "arguments": '{"city": "Oslo"}'}}
        choices = [
            {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": [search]},
             "finish_reason": "tool_calls"},
            {"index": 1, "message": {"role": "assistant", "content": None, "tool_calls": [custom]},
             "finish_reason": "tool_calls"},
            {"index": 2, "message": {"role": "assistant", "content": "Cut"}, "finish_reason": "length"},
        ]
        payload = json.dumps({"choices": choices[: body["n"]]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def test_openai_backend_chat_maps_tool_calls_both_ways():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _ToolServer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        gen = OpenAIGenerator(OpenAIGeneratorConfig(base_url=_url(httpd), cache_dir=""))
        [replies] = gen.chat([TOOL_DIALOG], SamplingParams(max_tokens=8, n=3))
    finally:
        httpd.shutdown()
        httpd.server_close()
    path, body = _ToolServer.requests[-1]
    assert path == "/v1/chat/completions"
    assert body["messages"][2] == {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "brave_search", "arguments": '{"query": "weather"}'}}]}
    assert body["messages"][3] == {"role": "tool", "content": "sunny", "tool_call_id": "c1"}
    assert replies[0].message.tool_calls == [ToolCall("brave_search", {"query": "tides"}, id="s9")]
    assert replies[0].finish == "end_of_message"  # a built-in tool: Llama 3.1 ends with <|eom_id|>
    assert replies[1].message.tool_calls == [ToolCall("get_time", {"city": "Oslo"}, id="t9")]
    assert replies[1].finish == "end_of_turn"  # a custom JSON call ends with <|eot_id|>
    assert replies[2].message == ChatMessage("assistant", "Cut") and replies[2].finish == "length"
