import pytest

from herd.core.errors import ConfigError
from herd.plugins.long_context.scoring import postprocess, string_match_all, string_match_part


def test_string_match_all_is_the_share_of_references_found_case_insensitively():
    preds = ["The numbers are 1234567 and 7654321.", "It is ALPHA-beta", "nothing here"]
    refs = [["1234567", "7654321"], ["alpha-Beta", "gamma"], ["42"]]
    # (1 + 0.5 + 0) / 3, as a percentage rounded like RULER's
    assert string_match_all(preds, refs) == 50.0


def test_string_match_part_counts_a_sample_when_any_reference_is_found():
    preds = ["It is ALPHA-beta", "nothing here", "gamma ray"]
    refs = [["alpha-Beta", "gamma"], ["42", "43"], ["delta", "gamma"]]
    assert string_match_part(preds, refs) == 66.67


def test_predictions_are_cleaned_as_ruler_cleans_them():
    assert postprocess("  1234\x00567\t\n ") == "1234\n567"
    # the control character splits the number, so it no longer matches
    assert string_match_all([postprocess("1234\x00567")], [["1234567"]]) == 0.0


def test_mismatched_or_empty_inputs_are_errors():
    with pytest.raises(ValueError):
        string_match_all(["a", "b"], [["a"]])
    with pytest.raises(ConfigError, match="no reference answers"):
        string_match_all(["a"], [[]])
    with pytest.raises(ConfigError, match="no predictions"):
        string_match_part([], [])
