import pytest

from herd.plugins.judges.difficulty import parse_tags
from herd.plugins.judges.parsing import parse_rubric, parse_score
from herd.plugins.judges.topic import parse_topic
from herd.plugins.judges.config import COARSE_TOPICS, FINE_TOPICS


@pytest.mark.parametrize(
    "answer, expected",
    [
        ('{"score": 4}', 4.0),
        ("```json\n{\"rating\": 5}\n```", 5.0),
        ("Score: 4/5", 4.0),
        ("Rating: 3 out of 5", 3.0),
        ("**2**", 2.0),
        ("The answer is mostly right.\nFinal score: 4", 4.0),
        ("Step 1 is fine, step 2 has an error. Score: 2/5", 2.0),
        ("I would give this a 3.", 3.0),
        ("5", 5.0),
    ],
)
def test_parse_score_accepts_common_shapes(answer, expected):
    assert parse_score(answer, 1, 5).value == expected


@pytest.mark.parametrize(
    "answer, reason_part",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("The response is helpful and polite.", "no number"),
        ("Somewhere between 2 and 4, maybe 3", "ambiguous"),
        ("Score: 7", "outside the scale"),
        ("Score: 8/10", "not on the scale"),
        ('{"score": "excellent"}', "not a number"),
        ("It mentions 1999 and 2024.", "no number on the scale"),
    ],
)
def test_parse_score_records_unparseable_answers_with_a_reason(answer, reason_part):
    parsed = parse_score(answer, 1, 5)
    assert parsed.value is None
    assert reason_part in parsed.reason


def test_truncated_json_falls_back_to_the_text():
    assert parse_score('{"score": 4', 1, 5).value == 4.0


def test_parse_rubric_json_lines_and_missing_criteria():
    criteria = ["accuracy", "instruction_following", "tone"]
    from_json = parse_rubric('{"accuracy": 4, "Instruction Following": 5, "tone": {"score": 3}}', criteria, 1, 5)
    assert [from_json[c].value for c in criteria] == [4.0, 5.0, 3.0]
    from_lines = parse_rubric("Accuracy: 2/5\ninstruction following - 4\n", criteria, 1, 5)
    assert from_lines["accuracy"].value == 2.0
    assert from_lines["instruction_following"].value == 4.0
    assert from_lines["tone"].value is None and "tone" in from_lines["tone"].reason
    bad = parse_rubric('{"accuracy": 9}', criteria, 1, 5)
    assert bad["accuracy"].value is None and "outside" in bad["accuracy"].reason


def test_parse_tags_and_topic():
    assert parse_tags('["python", "error handling", "python"]') == (["error handling", "python"], "")
    assert parse_tags("- math\n- geometry\n")[0] == ["geometry", "math"]
    assert parse_tags("no idea")[0] is None
    assert parse_tags("[]")[0] is None
    assert parse_topic('{"coarse": "math_reasoning", "fine": "geometry"}', COARSE_TOPICS, FINE_TOPICS) == (
        "math_reasoning", "geometry", "")
    assert parse_topic("This is about code.", COARSE_TOPICS, FINE_TOPICS)[0] == "code"
    label, fine, reason = parse_topic('{"coarse": "math_reasoning", "fine": "poetry"}', COARSE_TOPICS, FINE_TOPICS)
    assert (label, fine) == ("math_reasoning", None) and "poetry" in reason
    assert parse_topic('{"coarse": "cooking"}', COARSE_TOPICS, FINE_TOPICS)[0] is None
