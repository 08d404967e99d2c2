"""The reward model's data: near-identical pair drops and the held-out split."""

from __future__ import annotations

from herd.core.records import ChatMessage, PreferenceRow, text_response
from herd.lib.posttraining.reward import reward_pairs, split_heldout


def test_near_identical_pairs_are_dropped_from_reward_data():
    rows = [
        PreferenceRow("a", [ChatMessage("user", "q")], [text_response(t) for t in ("The answer is 5.", "The answer is 5!", "No idea.")]),
        PreferenceRow("b", [ChatMessage("user", "q")], [text_response("Paris"), text_response("Paris.")]),
    ]
    data = reward_pairs(rows, similarity=0.9)
    assert data.pairs == [[(0, 2), (1, 2)]]
    assert data.dropped == {"near_identical_pair": 2, "row_without_pairs": 1}


def test_reward_heldout_split_is_disjoint_stable_and_complete():
    rows = [PreferenceRow(f"r{i}", [ChatMessage("user", f"q{i}")], [text_response(f"good {i}"), text_response(f"bad answer {i * 7}")])
            for i in range(50)]
    data = reward_pairs(rows, similarity=0.9)
    train, heldout = split_heldout(data, 0.2)
    again_train, again_heldout = split_heldout(data, 0.2)
    train_ids, heldout_ids = {r.id for r in train.rows}, {r.id for r in heldout.rows}
    assert not train_ids & heldout_ids and len(train_ids | heldout_ids) == 50
    assert 0 < len(heldout_ids) < 25
    assert heldout_ids == {r.id for r in again_heldout.rows} and len(again_train.rows) == len(train.rows)
    assert all(len(p) == 1 for p in heldout.pairs)
