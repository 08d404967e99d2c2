"""Online DPO pairs: best versus worst trajectory, with the drops they owe the ledger."""

from __future__ import annotations

from herd.core.records import ChatMessage, Trajectory, text_response
from herd.plugins.posttrain.dpo_step import online_pairs
from herd.plugins.posttrain.judging import Judged
from herd.plugins.posttrain.rollouts import Prompt
from herd.plugins.posttrain.round_state import Ledger


def _judged(pid, texts, rewards, verdicts):
    prompt = Prompt(pid, [ChatMessage("user", "What is 2 plus 3?")], "general", "add", {"synthesizer": "general_tasks"})
    return Judged(prompt, [Trajectory(prompt.messages, text_response(t)) for t in texts], rewards, verdicts)


def test_online_pairs_best_versus_worst_with_drops():
    judged = [
        _judged("a", ["5", "4"], [0.1, 0.9], [True, False]),
        _judged("b", ["same", "same!"], [0.5, 0.1], [None, None]),
        _judged("c", ["one", "two"], [0.2, 0.2], [None, None]),
    ]
    ledger = Ledger()
    pairs = online_pairs(judged, ledger, round_no=2, similarity=0.8)
    assert len(pairs) == 1 and pairs[0].responses == [text_response("5"), text_response("4")]
    assert pairs[0].margin == 3 and pairs[0].round == 2
    assert pairs[0].metadata["synthesizer"] == "general_tasks"  # the pair keeps its source's length limit
    assert ledger.counts() == {"dpo_pairs.near_identical_samples": 1, "dpo_pairs.no_preference_among_samples": 1}
