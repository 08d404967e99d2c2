from __future__ import annotations

import json

import pytest

from herd.lib.chat.rows import turns_text

from herd.core.errors import InputError
from herd.plugins.posttrain.data import check_lengths, load_preferences, load_sft


def _write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_preference_rankings_in_all_three_forms(tmp_path):
    path = _write(
        tmp_path / "p.jsonl",
        [
            {"prompt": "q", "edited": "best", "chosen": "good", "rejected": "bad", "margin": "significantly better"},
            {"prompt": "q", "chosen": "good", "rejected": "bad", "margin": 0},
            {"prompt": "q", "responses": [{"text": "b", "rank": 2}, {"text": "a", "rank": 1}]},
            {"prompt": [{"role": "user", "content": "q"}], "responses": ["x", "y", "z"], "preferences": [[2, 0], [0, 1]]},
        ],
    )
    loaded = load_preferences(path)
    assert loaded.rejected == []
    assert [[turns_text(t) for t in r.responses] for r in loaded.rows] == [["best", "good", "bad"], ["good", "bad"], ["a", "b"], ["z", "x", "y"]]
    assert [r.margin for r in loaded.rows] == [3, 0, 1, 1]


def test_invalid_preference_rows_rejected_with_row_and_reason(tmp_path):
    path = _write(
        tmp_path / "p.jsonl",
        [
            {"prompt": "q", "chosen": "", "rejected": "bad"},
            {"prompt": "q", "responses": [{"text": "a", "rank": 1}, {"text": "b", "rank": 1}]},
            {"prompt": "q", "responses": ["a", "b", "c"], "preferences": [[0, 1], [1, 2], [2, 0]]},
            "{not json",
            {"prompt": "q", "chosen": "ok", "rejected": "no", "margin": 7},
            {"prompt": "q", "chosen": "same", "rejected": "same"},
            {"prompt": "q", "responses": ["a", "b", "c"], "preferences": [[0, 1]]},
            {"prompt": "q", "chosen": "fine", "rejected": "worse"},
        ],
    )
    loaded = load_preferences(path)
    reasons = {r.row: r.reason for r in loaded.rejected}
    assert len(loaded.rows) == 1 and loaded.numbers == [8]
    assert "empty" in reasons[1]
    assert "ties" in reasons[2]
    assert "cycle" in reasons[3]
    assert "invalid JSON" in reasons[4]
    assert "outside the 4-level scale" in reasons[5]
    assert "identical" in reasons[6]
    assert "unordered" in reasons[7]
    assert str(loaded.rejected[0]).startswith(f"{path} row 1:")


def test_sft_rows_and_rejections(tmp_path):
    path = _write(
        tmp_path / "s.jsonl",
        [
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}], "capability": "code"},
            {"messages": [{"role": "user", "content": "hi"}]},
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]},
            {"messages": [{"role": "wizard", "content": "hi"}]},
        ],
    )
    loaded = load_sft(path)
    assert [r.capability for r in loaded.rows] == ["code"]
    assert [r.row for r in loaded.rejected] == [2, 3, 4]
    assert "no assistant message" in loaded.rejected[0].reason


def test_hf_dataset_on_disk(tmp_path):
    import datasets

    ds = datasets.Dataset.from_list(
        [{"prompt": "q1", "chosen": "a", "rejected": "b"}, {"prompt": "q2", "chosen": "c", "rejected": ""}]
    )
    ds.save_to_disk(str(tmp_path / "hf"))
    loaded = load_preferences(tmp_path / "hf")
    assert len(loaded.rows) == 1 and loaded.rejected[0].row == 2


def test_missing_file_is_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_sft(tmp_path / "nope.jsonl")


def test_prompt_longer_than_context_is_rejected(tmp_path, chat):
    path = _write(
        tmp_path / "p.jsonl",
        [{"prompt": "short", "chosen": "a", "rejected": "b"}, {"prompt": "x" * 300, "chosen": "a", "rejected": "b"}],
    )
    checked = check_lengths(load_preferences(path), chat, max_len=64, source=str(path))
    assert len(checked.rows) == 1
    assert checked.rejected[0].row == 2 and "context is 64" in checked.rejected[0].reason


def test_a_trajectory_response_keeps_its_messages_and_round_trips(tmp_path):
    from herd.lib.posttraining.rows import preference_row_to_dict
    from herd.plugins.posttrain.data import load_preferences, write_jsonl

    trajectory = [
        {"role": "assistant", "content": "", "tool_calls": [{"name": "calc", "arguments": {"x": "2+3"}}]},
        {"role": "ipython", "content": "5", "name": "calc"},
        {"role": "assistant", "content": "It is 5."},
    ]
    path = tmp_path / "prefs.jsonl"
    write_jsonl(path, [{"prompt": "What is 2+3?", "chosen": trajectory, "rejected": "It is 6."}])
    row = load_preferences(path).rows[0]
    assert [m.role for m in row.responses[0]] == ["assistant", "ipython", "assistant"]
    assert row.responses[0][0].tool_calls[0].name == "calc" and row.responses[0][0].tool_calls[0].arguments == {"x": "2+3"}
    assert [m.content for m in row.responses[1]] == ["It is 6."]
    again = tmp_path / "again.jsonl"
    write_jsonl(again, [preference_row_to_dict(row)])
    assert load_preferences(again).rows[0].responses == row.responses


def test_a_response_must_start_and_end_with_the_assistant(tmp_path):
    from herd.plugins.posttrain.data import load_preferences, write_jsonl

    path = tmp_path / "prefs.jsonl"
    write_jsonl(path, [{"prompt": "q", "chosen": [{"role": "ipython", "content": "5"}], "rejected": "no"},
                       {"prompt": "q", "chosen": [{"role": "assistant", "content": "call"},
                                                  {"role": "ipython", "content": "5"}], "rejected": "no"}])
    loaded = load_preferences(path)
    assert not loaded.rows
    assert "not the assistant's" in loaded.rejected[0].reason and "answers last" in loaded.rejected[1].reason
