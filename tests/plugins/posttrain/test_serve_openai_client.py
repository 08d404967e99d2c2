"""``herd serve`` over real HTTP on loopback, asked by the official ``openai`` client."""

from __future__ import annotations

import threading

import openai
import pytest

from herd.plugins.posttrain.serve import Limits, ModelService, RequestLog, make_server


@pytest.fixture(scope="module")
def served(model_dir, tmp_path_factory):
    service = ModelService.load(model_dir)
    log_path = tmp_path_factory.mktemp("serve") / "requests.log"
    httpd = make_server(service, "127.0.0.1", 0, Limits(max_tokens=64, max_body_bytes=20_000),
                        RequestLog(log_path))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    host, port = httpd.server_address[:2]
    client = openai.OpenAI(base_url=f"http://{host}:{port}/v1", api_key="none", max_retries=0, timeout=120)
    yield client, service, log_path
    httpd.shutdown()
    httpd.server_close()


MESSAGES = [{"role": "user", "content": "the quick brown fox"}]


def test_chat_stream_equals_greedy_answer_and_counts_real_tokens(served):
    client, service, _ = served
    whole = client.chat.completions.create(model=service.name, messages=MESSAGES, temperature=0,
                                           max_completion_tokens=7)
    chunks = list(client.chat.completions.create(model=service.name, messages=MESSAGES, temperature=0,
                                                 max_completion_tokens=7, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [whole.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    prompt_ids = service.chat.encode_prompt([service_message(m) for m in MESSAGES]).ids
    assert whole.usage.prompt_tokens == len(prompt_ids)
    # The tiny random model rarely stops: 7 tokens asked, 7 counted (or fewer with a stop token).
    assert whole.usage.completion_tokens == 7 if whole.choices[0].finish_reason == "length" else \
        whole.usage.completion_tokens <= 7


def service_message(m):
    from herd.core.records import ChatMessage

    return ChatMessage(m["role"], m["content"])


def test_completion_stream_equals_whole_answer(served):
    client, service, _ = served
    whole = client.completions.create(model=service.name, prompt="hello there", max_tokens=6, temperature=0)
    pieces = list(client.completions.create(model=service.name, prompt="hello there", max_tokens=6, temperature=0,
                                            stream=True))
    assert "".join(p.choices[0].text for p in pieces) == whole.choices[0].text
    assert whole.usage.prompt_tokens == len(service.tokenizer.encode("hello there", bos=True))
    assert whole.usage.completion_tokens == 6 and whole.choices[0].finish_reason == "length"
    # Same answer as the generator itself.
    from herd.core.protocols import SamplingParams

    assert service.generator.generate(["hello there"], SamplingParams(temperature=0, max_tokens=6))[0][0] == \
        whole.choices[0].text


@pytest.mark.parametrize("extra, param", [
    ({"logprobs": True}, "logprobs"),
    ({"logprobs": True, "top_logprobs": 2}, "logprobs"),
    ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ({"max_completion_tokens": 10_000}, "max_completion_tokens"),
    ({"n": 0}, "n"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
])
def test_unsupported_parameters_are_refused_with_openai_errors(served, extra, param):
    client, service, _ = served
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model=service.name, messages=MESSAGES, max_tokens=2, **extra)
    assert err.value.status_code == 400
    assert err.value.body["param"] == param and err.value.body["message"]


def test_unknown_model_is_refused_and_models_lists_the_served_one(served):
    client, service, _ = served
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, max_tokens=2)
    assert err.value.body["code"] == "model_not_found" and "gpt-4o" in err.value.body["message"]
    assert [m.id for m in client.models.list().data] == list(service.names)


def test_unknown_fields_are_ignored_as_vllm_does(served):
    client, service, _ = served
    out = client.chat.completions.create(model=service.name, messages=MESSAGES, max_tokens=2, temperature=0,
                                         extra_body={"my_own_field": 1})
    assert out.usage.completion_tokens <= 2


def test_body_size_is_bounded(served):
    client, service, _ = served
    with pytest.raises(openai.APIStatusError) as err:
        client.completions.create(model=service.name, prompt="x" * 30_000, max_tokens=2)
    assert err.value.status_code == 413


def test_embeddings_are_normalised_mean_pooled_states(served):
    import numpy as np
    import torch

    client, service, _ = served
    out = client.embeddings.create(model=service.name, input=["hello", "the fox jumps"])  # base64 on the wire
    floats = client.embeddings.create(model=service.name, input="hello", encoding_format="float")
    vectors = np.array([d.embedding for d in out.data])
    assert vectors.shape == (2, service.model.cfg.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], floats.data[0].embedding, atol=1e-6)
    ids = service.tokenizer.encode("hello", bos=True)
    with torch.no_grad():
        hidden = service.model.hidden_states(torch.tensor([ids]))[0].mean(0)
    assert np.allclose(vectors[0], (hidden / hidden.norm()).numpy(), atol=1e-5)
    assert out.usage.prompt_tokens == len(ids) + len(service.tokenizer.encode("the fox jumps", bos=True))


def test_two_clients_at_once_get_their_own_answers(served):
    client, service, _ = served
    prompts = ["hello", "the quick brown fox jumps"]
    alone = [client.completions.create(model=service.name, prompt=p, max_tokens=8, temperature=0).choices[0].text
             for p in prompts]
    together: dict[int, str] = {}

    def ask(i: int) -> None:
        stream = client.completions.create(model=service.name, prompt=prompts[i], max_tokens=8, temperature=0,
                                           stream=True)
        together[i] = "".join(c.choices[0].text for c in stream)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [together[0], together[1]] == alone


def test_request_log_has_a_line_per_request(served):
    client, service, log_path = served
    import time

    client.completions.create(model=service.name, prompt="hello there you", max_tokens=3, temperature=0)
    want = f"POST /v1/completions 200 prompt_tokens={len(service.tokenizer.encode('hello there you', bos=True))} " \
           "completion_tokens=3 ms="
    for _ in range(100):  # the line is written just after the answer is sent
        if any(want in line for line in log_path.read_text().splitlines()):
            break
        time.sleep(0.05)
    assert any(want in line for line in log_path.read_text().splitlines())
