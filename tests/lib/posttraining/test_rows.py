"""Job data files: what the posttrain stage writes (``summary.write_round_data`` with these
writers) is what a job reads."""

from herd.core.records import ChatMessage, PreferenceRow, SFTRow, ToolCall, text_response
from herd.lib.posttraining.rows import (preference_row_to_dict, read_preference_rows, read_sft_rows,
                                       sft_row_to_dict, write_rows)


def test_rows_written_by_the_stage_read_back_in_a_job(tmp_path):
    import json

    sft = SFTRow("s", [ChatMessage("user", "hi"), ChatMessage("assistant", "", tool_calls=[ToolCall("calc", {"x": 1})]),
                       ChatMessage("ipython", "2", name="calc"), ChatMessage("assistant", "2")], scores={"q": 1.0})
    pref = PreferenceRow("p", [ChatMessage("user", "q")],
                         [text_response("good"), [ChatMessage("assistant", "x", tool_calls=[ToolCall("t")])]], margin=3)
    (tmp_path / "s.jsonl").write_text(json.dumps(sft_row_to_dict(sft)) + "\n")
    (tmp_path / "p.jsonl").write_text(json.dumps(preference_row_to_dict(pref)) + "\n")
    assert read_sft_rows(tmp_path / "s.jsonl") == [sft]
    assert read_preference_rows(tmp_path / "p.jsonl") == [pref]
    assert read_preference_rows(write_rows(tmp_path / "w.jsonl", [pref])) == [pref]
