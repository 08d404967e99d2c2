"""``herd serve`` batching concurrent requests, asked by the official ``openai`` client from
threads over loopback: each answer equals the one the request gets alone, and the server's
``/stats`` shows that requests shared batches."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from herd.core.protocols import SamplingParams
from herd.plugins.posttrain.serve import Limits, ModelService, RequestLog, make_server


def _start(service, **limits):
    httpd = make_server(service, "127.0.0.1", 0, Limits(**limits), RequestLog())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    host, port = httpd.server_address[:2]
    return httpd, thread, f"http://{host}:{port}"


@pytest.fixture(scope="module")
def served(model_dir):
    service = ModelService.load(model_dir, max_batch_rows=16)
    httpd, _, url = _start(service, max_tokens=64)
    client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120)
    yield client, service, url
    httpd.shutdown()
    httpd.server_close()
    service.close()


def _stats(url: str) -> dict:
    return httpx.get(url + "/stats", timeout=30).json()


# Greedy requests with different prompts, budgets and stop strings, streamed and not.
REQUESTS = [
    ("completion", {"prompt": "hello", "max_tokens": 12}),
    ("completion", {"prompt": "the quick brown fox jumps over", "max_tokens": 5}),
    ("completion", {"prompt": ["a b c", "one two three four five six"], "max_tokens": 9, "stop": ["e"]}),
    ("chat", {"messages": [{"role": "user", "content": "the quick brown fox"}], "max_completion_tokens": 10}),
    ("chat", {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
              "max_tokens": 7}),
    ("completion_stream", {"prompt": "blue green red", "max_tokens": 11}),
    ("chat_stream", {"messages": [{"role": "user", "content": "count to ten"}], "max_tokens": 8}),
]


def _ask(client: openai.OpenAI, model: str, kind: str, kwargs: dict):
    """The answer as comparable plain data: texts, finish reasons and usage."""
    if kind == "completion":
        out = client.completions.create(model=model, temperature=0, **kwargs)
        return [(c.index, c.text, c.finish_reason) for c in out.choices], out.usage.model_dump()
    if kind == "chat":
        out = client.chat.completions.create(model=model, temperature=0, **kwargs)
        return [(c.index, c.message.content, c.finish_reason) for c in out.choices], out.usage.model_dump()
    if kind == "completion_stream":
        chunks = list(client.completions.create(model=model, temperature=0, stream=True,
                                                stream_options={"include_usage": True}, **kwargs))
        text = "".join(c.choices[0].text for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        return [(0, text, finish[0])], chunks[-1].usage.model_dump()
    chunks = list(client.chat.completions.create(model=model, temperature=0, stream=True,
                                                 stream_options={"include_usage": True}, **kwargs))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    return [(0, text, finish[0])], chunks[-1].usage.model_dump()


@pytest.mark.slow
def test_concurrent_greedy_requests_are_batched_and_equal_their_answers_alone(served):
    client, service, url = served
    alone = [_ask(client, service.name, kind, kwargs) for kind, kwargs in REQUESTS]
    assert _stats(url)["largest_batch"] == 1  # one at a time: every batch held one request
    # Which requests meet in a batch depends on when they arrive: a long streamed request
    # keeps the model busy while the burst queues behind it, and a burst is repeated (at most
    # 5 times) until one shared a batch. Every burst's answers must equal the ones alone.
    for _ in range(5):
        blocker = client.completions.create(model=service.name, prompt="x", max_tokens=64, temperature=0,
                                            stream=True)
        next(iter(blocker))  # the model is now decoding it
        with ThreadPoolExecutor(len(REQUESTS)) as pool:
            together = list(pool.map(lambda r: _ask(client, service.name, *r), REQUESTS))
        list(blocker)
        assert together == alone
        if _stats(url)["largest_batch"] > 1:
            break
    stats = _stats(url)
    assert stats["largest_batch"] > 1 and stats["queued"] == 0
    assert stats["requests"] == sum(int(k) * v for k, v in stats["batch_sizes"].items())


@pytest.mark.slow
def test_seeded_sampling_runs_alone_and_repeats_under_concurrency(served):
    client, service, _ = served

    def ask(seed: int) -> list[str]:
        out = client.completions.create(model=service.name, prompt="hello there", max_tokens=6, temperature=1.0,
                                        n=2, seed=seed)
        return [c.text for c in out.choices]

    alone = [ask(s) for s in (1, 2, 3, 4)]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(ask, (1, 2, 3, 4))) == alone


def test_max_batch_rows_bounds_a_batch(model_dir):
    service = ModelService.load(model_dir, max_batch_rows=1)
    httpd, _, url = _start(service, max_tokens=16)
    try:
        client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120)
        with ThreadPoolExecutor(3) as pool:
            list(pool.map(lambda p: client.completions.create(model=service.name, prompt=p, max_tokens=8,
                                                              temperature=0), ["a", "b c", "d e f"]))
        stats = _stats(url)
        assert stats == {**stats, "batches": 3, "requests": 3, "largest_batch": 1, "max_batch_rows": 1}
    finally:
        httpd.shutdown()
        httpd.server_close()
        service.close()


def test_unknown_routes_and_methods_get_openai_errors(served):
    _, _, url = served
    missing = httpx.post(url + "/v1/responses", json={}, timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert "/v1/chat/completions" in missing.json()["error"]["message"]
    wrong = httpx.get(url + "/v1/completions", timeout=30)
    assert wrong.status_code == 405 and set(wrong.json()["error"]) == {"message", "type", "param", "code"}
    garbage = httpx.post(url + "/v1/completions", content=b"{not json", timeout=30)
    assert garbage.status_code == 400 and "not JSON" in garbage.json()["error"]["message"]


def test_a_client_leaving_mid_stream_is_logged_and_the_server_goes_on(model_dir, tmp_path):
    service = ModelService.load(model_dir)
    log_path = tmp_path / "requests.log"
    httpd = make_server(service, "127.0.0.1", 0, Limits(max_tokens=64), RequestLog(log_path))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    try:
        with httpx.Client(base_url=f"http://{host}:{port}/v1", timeout=60) as http:
            with http.stream("POST", "/completions", json={"prompt": "x", "max_tokens": 64, "temperature": 0,
                                                           "stream": True}) as resp:
                next(resp.iter_lines())  # one event, then the client hangs up
            after = http.post("/completions", json={"prompt": "hello", "max_tokens": 3, "temperature": 0}).json()
        assert after["usage"]["completion_tokens"] == 3
    finally:
        httpd.shutdown()  # waits until the server has stopped: every log line is written
        httpd.server_close()
        service.close()
    # The hung-up stream is logged either way: 499 when the client left first, 200 when the
    # whole stream had already been written to the socket.
    lines = log_path.read_text().splitlines()
    assert len(lines) == 2 and lines[0].split()[3] in ("200", "499")
    assert any(" POST /v1/completions 200 " in line and "completion_tokens=3 " in line for line in lines)


def test_shutdown_lets_a_stream_in_flight_finish(model_dir):
    service = ModelService.load(model_dir)
    httpd, thread, url = _start(service, max_tokens=64)
    client = openai.OpenAI(base_url=url + "/v1", api_key="none", max_retries=0, timeout=120)
    try:
        stream = client.completions.create(model=service.name, prompt="x", max_tokens=40, temperature=0,
                                           stream=True)
        first = next(iter(stream))
        stopper = threading.Thread(target=httpd.shutdown)
        stopper.start()
        rest = list(stream)
        stopper.join(timeout=120)
        whole = service.generator.generate(["x"], SamplingParams(temperature=0, max_tokens=40))[0][0]
        assert first.choices[0].text + "".join(c.choices[0].text for c in rest) == whole
        assert not thread.is_alive()
    finally:
        httpd.shutdown()
        httpd.server_close()
        service.close()
