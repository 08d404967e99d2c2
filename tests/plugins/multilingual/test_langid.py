"""Language labels on SFT rows (the detector itself is tested in tests/lib/language)."""

from herd.core.records import ChatMessage, SFTRow
from herd.plugins.multilingual.langid import label_rows


def test_label_rows_uses_the_user_turns(identifier):
    rows = [
        SFTRow("a", [ChatMessage("user", "Wie spät ist es jetzt in Berlin?"), ChatMessage("assistant", "It is noon.")]),
        SFTRow("b", [ChatMessage("user", "Where is the nearest train station?"), ChatMessage("assistant", "Hi")],
               language="en"),
        # Declared French, written in German: the declared language stays, with a low confidence.
        SFTRow("c", [ChatMessage("user", "Wo ist der nächste Bahnhof, bitte?"), ChatMessage("assistant", "x")],
               language="fr"),
    ]
    label_rows(rows, identifier)
    assert rows[0].language == "de" and rows[0].scores["language_id.confidence"] > 0.5
    assert rows[1].language == "en" and rows[1].scores["language_id.confidence"] > 0.5
    assert rows[2].language == "fr" and rows[2].scores["language_id.confidence"] < 0.1



def test_language_label_judge_in_the_sft_funnel():
    from herd.lib.sft_funnel.config import SFTFunnelConfig
    from herd.lib.sft_funnel.funnel import run_funnel
    from herd.plugins.multilingual.langid import LanguageLabel

    rows = [SFTRow("es", [ChatMessage("user", "¿Dónde está la estación de tren?"), ChatMessage("assistant", "Allí.")]),
            SFTRow("en", [ChatMessage("user", "Where is the train station?"), ChatMessage("assistant", "There.")])]
    result = run_funnel(rows, [("language_id", LanguageLabel())], SFTFunnelConfig(semantic_dedup=False))
    assert result.counts == {"input": 2, "after.language_id": 2, "kept": 2, "dropped": 0}
    assert [r.language for r in result.kept] == ["es", "en"]
    assert all(r.scores["language_id.confidence"] > 0.5 for r in result.kept)
    assert result.kept[0].metadata["judge_notes"]["language_id.confidence"] == "language es"

