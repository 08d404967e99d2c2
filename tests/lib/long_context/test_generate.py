import math

import pytest

from herd.core.errors import ConfigError
from herd.lib.long_context.generate import LOWER, generate_samples
from herd.lib.long_context.haystack import Haystacks
from herd.lib.long_context.tasks import TASKS, task_spec

from tests.lib.long_context.answers import cwe_counts, fwe_counts, niah_answers, vt_answers

LENGTHS = (4096, 12000)


@pytest.fixture(scope="module")
def generated(counter):
    haystacks = Haystacks(counter)
    return {(name, n): generate_samples(spec, n, 3, counter, seed=7, haystacks=haystacks)
            for name, spec in TASKS.items() for n in LENGTHS}


@pytest.mark.parametrize("task", list(TASKS))
def test_every_sample_is_within_097n_and_n_tokens(task, generated, counter):
    spec = task_spec(task)
    for n in LENGTHS:
        for sample in generated[(task, n)]:
            assert sample.length == counter.count(sample.input) + spec.tokens_to_generate
            assert math.ceil(LOWER * n) <= sample.length <= n


@pytest.mark.parametrize("task", [t for t in TASKS if t.startswith("niah")])
def test_niah_answers_are_the_needles_the_question_asks_about(task, generated):
    spec = task_spec(task)
    for n in LENGTHS:
        for sample in generated[(task, n)]:
            assert sorted(niah_answers(sample.input)) == sorted(sample.outputs)
            assert len(sample.outputs) == spec.settings.num_values * spec.settings.num_queries
            for value in sample.outputs:
                assert sample.input.count(value) == 1


def test_variable_chains_resolve_to_the_answer(generated):
    for n in LENGTHS:
        for sample in generated[("vt", n)]:
            assert vt_answers(sample.input) == set(sample.outputs)
            assert len(sample.outputs) == 5  # RULER's 4 hops


def test_common_words_are_the_true_top_ten(generated):
    for n in LENGTHS:
        for sample in generated[("cwe", n)]:
            counts = cwe_counts(sample.input)
            top = max(counts[w] for w in sample.outputs)
            assert all(counts[w] == top for w in sample.outputs)
            assert all(c < top for w, c in counts.items() if w not in sample.outputs)
            # RULER's repeats: 6 and 1 below 4096 tokens, else 30 and 3.
            assert top == 30 and set(counts.values()) == {30, 3}


def test_frequent_words_are_the_true_top_three_after_the_dots(generated):
    for n in LENGTHS:
        for sample in generated[("fwe", n)]:
            ranked = [w for w, _ in fwe_counts(sample.input).most_common()]
            assert ranked[0] == "..."
            assert ranked[1:4] == sample.outputs
            counts = fwe_counts(sample.input)
            assert counts[ranked[3]] > counts[ranked[4]]


def test_needle_depths_are_evenly_spread_and_where_the_row_says(counter):
    samples = generate_samples(task_spec("niah_single_2"), 4096, 5, counter, seed=1)
    assert [s.depth for s in samples] == [0, 25, 50, 75, 100]
    for sample in samples:
        start = sample.input.index("afterwards.\n") + len("afterwards.\n")
        end = sample.input.rindex("\nWhat is the special magic")
        needle = sample.input.index("One of the special magic")
        assert abs((needle - start) / (end - start) * 100 - sample.depth) < 5


def test_multi_needle_depths_spread_over_the_context(counter):
    sample = generate_samples(task_spec("niah_multivalue"), 8192, 1, counter, seed=3)[0]
    start, end = sample.input.index("afterwards.\n"), sample.input.rindex("\nWhat are all")
    places = sorted((sample.input.index(v) - start) / (end - start) for v in sample.outputs)
    gaps = [b - a for a, b in zip(places, places[1:])]
    assert all(0.15 < g < 0.35 for g in gaps)


def test_same_seed_same_rows_other_seed_other_rows(counter):
    spec = task_spec("niah_multikey_2")
    first = [s.to_row() for s in generate_samples(spec, 4096, 3, counter, seed=5)]
    again = [s.to_row() for s in generate_samples(spec, 4096, 3, counter, seed=5)]
    other = [s.to_row() for s in generate_samples(spec, 4096, 3, counter, seed=6)]
    assert first == again
    assert [r["outputs"] for r in first] != [r["outputs"] for r in other]


def test_a_length_below_the_template_is_an_error_naming_the_task(counter):
    with pytest.raises(ConfigError, match=r"--length 300 is below task vt's own size.*use --length \d+"):
        generate_samples(task_spec("vt"), 300, 2, counter, seed=0)


def test_unknown_task_names_the_choices():
    with pytest.raises(ConfigError, match="unknown long-context task 'niah_single_9'.*niah_single_1"):
        task_spec("niah_single_9")


def test_a_tokenizer_that_truncates_and_pads_is_counted_in_full(tokenizer_dir, tmp_path):
    import json

    from herd.lib.long_context.token_counter import TokenCounter

    data = json.loads((tokenizer_dir / "tokenizer.json").read_text())
    data["truncation"] = {"max_length": 16, "strategy": "LongestFirst", "stride": 0, "direction": "Right"}
    data["padding"] = {"strategy": {"Fixed": 16}, "direction": "Right", "pad_to_multiple_of": None, "pad_id": 0,
                       "pad_type_id": 0, "pad_token": "<|finetune_right_pad_id|>"}
    (tmp_path / "tokenizer.json").write_text(json.dumps(data))
    text = "The grass is green. " * 20
    assert TokenCounter.load(tmp_path).count(text) == TokenCounter.load(tokenizer_dir).count(text) > 16
