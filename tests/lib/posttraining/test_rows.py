"""Job data files: what the posttrain stage writes (``data.py``) is what a job reads."""

from herd.core.records import ChatMessage, PreferenceRow, SFTRow, ToolCall, text_response
from herd.lib.posttraining.rows import read_preference_rows, read_sft_rows, write_rows


def test_rows_written_by_the_stage_read_back_in_a_job(tmp_path):
    import json

    from herd.plugins.posttrain.data import preference_to_dict, sft_to_dict

    sft = SFTRow("s", [ChatMessage("user", "hi"), ChatMessage("assistant", "", tool_calls=[ToolCall("calc", {"x": 1})]),
                       ChatMessage("ipython", "2", name="calc"), ChatMessage("assistant", "2")], scores={"q": 1.0})
    pref = PreferenceRow("p", [ChatMessage("user", "q")],
                         [text_response("good"), [ChatMessage("assistant", "x", tool_calls=[ToolCall("t")])]], margin=3)
    (tmp_path / "s.jsonl").write_text(json.dumps(sft_to_dict(sft)) + "\n")
    (tmp_path / "p.jsonl").write_text(json.dumps(preference_to_dict(pref)) + "\n")
    assert read_sft_rows(tmp_path / "s.jsonl") == [sft]
    assert read_preference_rows(tmp_path / "p.jsonl") == [pref]
    assert read_preference_rows(write_rows(tmp_path / "w.jsonl", [pref])) == [pref]
