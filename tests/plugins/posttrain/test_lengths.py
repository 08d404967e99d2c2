"""Length limits per capability and per synthesizer: long rows kept up to their limit,
every row over it dropped with its reason, trainers packing to the largest limit."""

from __future__ import annotations

import pytest

from herd.core.app import App
from herd.core.errors import ConfigError
from herd.core.hookspecs import hookimpl
from herd.core.records import ChatMessage, PreferenceRow, SFTRow, text_response
from herd.lib.posttraining.batching import pack
from herd.plugins.posttrain.data import Loaded, check_lengths
from herd.plugins.posttrain.lengths import length_policy
from herd.plugins.posttrain.round_data import checked
from herd.plugins.posttrain.round_state import Ledger


class LongDocs:
    @hookimpl
    def herd_register_synthesizers(self, register):
        register("long_docs", lambda cfg, services=None: None, capability="long_context", max_len=400)


@pytest.fixture
def registry(empty_registry):
    return App.create(extra_plugins={"longdocs": LongDocs()}, registry_path=empty_registry, entry_points=False).registry


def _row(rid: str, words: int, capability: str = "general", synthesizer: str | None = None,
         answer_words: int = 0) -> SFTRow:
    meta = {"synthesizer": synthesizer} if synthesizer else {}
    return SFTRow(rid, [ChatMessage("user", "Summarise: " + "word " * words),
                        ChatMessage("assistant", "Done." + " word" * answer_words)],
                  capability=capability, metadata=meta)


def test_limits_by_capability_then_synthesizer_then_default(registry):
    policy = length_policy(64, {"code": 200}, registry, context=1000)
    assert policy.limit(_row("a", 1)).tokens == 64
    assert policy.limit(_row("b", 1, synthesizer="long_docs")).tokens == 400
    assert policy.limit(_row("c", 1, "code", synthesizer="long_docs")).origin == "[posttrain] max_len_by_capability.code"
    small = length_policy(64, {}, registry, context=300)
    assert small.limit(_row("d", 1, synthesizer="long_docs")).tokens == 300  # cut to the model's context
    assert small.largest([_row("e", 1), _row("f", 1, synthesizer="long_docs")]) == 300


def test_a_configured_limit_above_the_context_is_an_error_naming_the_key(registry):
    with pytest.raises(ConfigError, match=r"max_len_by_capability.long_context = 4096 is above the model's context"):
        length_policy(64, {"long_context": 4096}, registry, context=2048)


def test_long_rows_are_kept_up_to_their_limit_and_every_other_drop_has_a_reason(registry, chat):
    policy = length_policy(64, {}, registry, context=1000)
    rows = [_row("short", 2), _row("long", 60, synthesizer="long_docs"), _row("too_long", 2, answer_words=15),
            _row("prompt_fills", 200, synthesizer="long_docs")]
    ledger = Ledger()
    kept = checked(rows, chat, policy, ledger, "synthetic_sft")
    assert [r.id for r in kept] == ["short", "long"]
    reasons = {d.id: d.reason for d in ledger.drops}
    assert reasons["too_long"].startswith("too_long: row too_long:") and "[posttrain] max_len" in reasons["too_long"]
    assert reasons["prompt_fills"].startswith("prompt_too_long:") and "long_docs" in reasons["prompt_fills"]
    # Packed to the largest limit in play, no kept row loses a trained token.
    encoded = [chat.encode_dialog(r.messages) for r in kept]
    packed = pack(encoded, policy.largest(kept), pad_id=0)
    assert sum(int(p.loss_mask.sum()) for p in packed) == sum(sum(e.loss) for e in encoded)


def test_preference_rows_count_the_prompt_and_their_longest_response(chat):
    row = PreferenceRow("p", [ChatMessage("user", "q")], [text_response("a"), text_response("b " * 80)])
    checked_rows = check_lengths(Loaded(rows=[row]), chat, 64, "prefs")
    assert not checked_rows.rows and checked_rows.rejected[0].reason.startswith("too_long")
