"""BFCL's AST rules on every call format, and what herd does differently: a call that does
not parse is wrong, also where the right answer is no call."""

import pytest

from herd.plugins.tools.bfcl.checker import check_response
from herd.plugins.tools.bfcl.rows import answer_from_row, question_from_row

AREA = {"name": "calculate_triangle_area", "description": "Area of a triangle.",
        "parameters": {"type": "dict", "properties": {
            "base": {"type": "integer"}, "height": {"type": "integer"}, "unit": {"type": "string"}},
            "required": ["base", "height"]}}
WEATHER = {"name": "weather.get", "description": "Weather in a city.",
           "parameters": {"type": "dict", "properties": {
               "city": {"type": "string"}, "days": {"type": "float"},
               "fields": {"type": "array", "items": {"type": "string"}},
               "options": {"type": "dict", "properties": {"metric": {"type": "boolean"}}}},
               "required": ["city"]}}


def question(qid, *functions):
    return question_from_row({"id": qid, "question": [[{"role": "user", "content": "q"}]],
                              "function": list(functions)}, qid)


def answer(qid, *calls):
    return answer_from_row({"id": qid, "ground_truth": list(calls)}, qid)


SIMPLE_Q = question("simple_python_0", AREA)
SIMPLE_A = answer("simple_python_0", {"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}})


@pytest.mark.parametrize("text", [
    "[calculate_triangle_area(base=10, height=5)]",
    '[calculate_triangle_area(base=10, height=5, unit="Units")]',
    '{"name": "calculate_triangle_area", "parameters": {"base": 10, "height": 5}}',
    '<function=calculate_triangle_area>{"base": 10, "height": 5, "unit": "units"}</function>',
    'calculate_triangle_area(base=10, height=5)',
    '<|python_tag|>{"name": "calculate_triangle_area", "parameters": {"base": 10, "height": 5}}',
])
def test_a_right_call_in_every_format_is_correct(text):
    verdict = check_response(SIMPLE_Q, SIMPLE_A, text)
    assert verdict.correct is True, verdict.reason
    assert verdict.category == "simple_python"


@pytest.mark.parametrize("text, reason", [
    ("[calculate_triangle_area(base=10, height=6)]", "parameter 'height': 6 is not one of [5]"),
    ("[calculate_triangle_area(base=10)]", "missing required parameter 'height'"),
    ("[calculate_triangle_area(base=10, height=5, colour='red')]", "unexpected parameter 'colour'"),
    ("[calculate_triangle_area(base='10', height=5)]", "parameter 'base': expected type integer, got str"),
    ("[calculate_triangle_area(base=True, height=5)]", "parameter 'base': expected type integer, got bool"),
    ("[triangle_area(base=10, height=5)]", "calls triangle_area, expected calculate_triangle_area"),
    ("[calculate_triangle_area(base=10, height=5), calculate_triangle_area(base=10, height=5)]",
     "2 calls, expected 1"),
    ("The area is 25 square units.", "no call; expected 1"),
])
def test_wrong_calls_are_wrong_with_the_reason(text, reason):
    verdict = check_response(SIMPLE_Q, SIMPLE_A, text)
    assert verdict.correct is False
    assert reason in verdict.reason


def test_values_follow_bfcls_rules():
    q = question("simple_python_1", WEATHER)
    a = answer("simple_python_1", {"weather.get": {
        "city": ["New York, NY", "NYC"], "days": [3.0, ""], "fields": [["temp", "wind"], ""],
        "options": [{"metric": [True]}, ""]}})
    # strings ignore case, spaces and ",./-_*^"; an int is a float; lists compare item by item
    assert check_response(q, a, "[weather.get(city='new york ny', days=3, fields=['Temp', 'WIND'])]").correct
    assert check_response(q, a, "[weather.get(city='nyc', options={'metric': True})]").correct
    # dots become underscores for APIs that refuse them (OpenAI style)
    assert check_response(q, a, '{"name": "weather_get", "parameters": {"city": "NYC"}}').correct
    wrong = check_response(q, a, "[weather.get(city='NYC', fields=['wind', 'temp'])]")
    assert not wrong.correct and "fields" in wrong.reason
    wrong = check_response(q, a, "[weather.get(city='NYC', options={'metric': False})]")
    assert not wrong.correct and "key 'metric'" in wrong.reason
    wrong = check_response(q, a, "[weather.get(city='NYC', options={'imperial': True})]")
    assert not wrong.correct and "unexpected key 'imperial'" in wrong.reason


def test_a_parameter_without_a_default_must_be_given():
    a = answer("simple_python_0", {"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["cm"]}})
    verdict = check_response(SIMPLE_Q, a, "[calculate_triangle_area(base=10, height=5)]")
    assert not verdict.correct and "missing parameter 'unit'" in verdict.reason


def test_parallel_calls_match_in_any_order_one_to_one():
    q = question("parallel_0", AREA)
    a = answer("parallel_0", {"calculate_triangle_area": {"base": [10], "height": [5]}},
               {"calculate_triangle_area": {"base": [3], "height": [4]}})
    swapped = "[calculate_triangle_area(base=3, height=4), calculate_triangle_area(base=10, height=5)]"
    assert check_response(q, a, swapped).correct
    twice = "[calculate_triangle_area(base=3, height=4), calculate_triangle_area(base=3, height=4)]"
    verdict = check_response(q, a, twice)
    assert not verdict.correct and "expected call 0" in verdict.reason


def test_matching_is_one_to_one_where_a_greedy_pass_would_fail():
    """The first given call fits both expected calls, the second only the first: a greedy
    pass pairs the first call with the first expectation and fails; a matching succeeds."""
    q = question("parallel_1", AREA)
    a = answer("parallel_1", {"calculate_triangle_area": {"base": [10, 3], "height": [5, 4]}},
               {"calculate_triangle_area": {"base": [3], "height": [4]}})
    text = "[calculate_triangle_area(base=3, height=4), calculate_triangle_area(base=10, height=5)]"
    assert check_response(q, a, text).correct


def test_irrelevance_rewards_no_call_and_a_malformed_call_is_not_abstention():
    q = question("irrelevance_0", AREA)
    assert check_response(q, None, "I cannot compute BMI with these tools.").correct
    called = check_response(q, None, "[calculate_triangle_area(base=1, height=2)]")
    assert not called.correct and "although none of the functions fits" in called.reason
    broken = check_response(q, None, '[calculate_triangle_area(base=1, height=')
    assert broken.correct is False and broken.malformed
    assert broken.reason.startswith("malformed call (python_list)")
    broken_json = check_response(q, None, '{"name": "calculate_triangle_area", "parameters": {"base": 1')
    assert broken_json.correct is False and broken_json.malformed


def test_relevance_wants_some_call():
    q = question("live_relevance_3-3-0", AREA)
    assert check_response(q, None, "[calculate_triangle_area(base=1, height=2)]").correct
    assert not check_response(q, None, "no idea").correct


def test_categories_that_need_execution_are_reported_not_guessed():
    for qid in ("multi_turn_base_0", "simple_java_4", "simple_javascript_2", "memory_kv_1"):
        verdict = check_response(question(qid, AREA), None, "[calculate_triangle_area(base=1, height=2)]")
        assert verdict.correct is None and verdict.reason.startswith("not checked:")


def test_a_thousand_calls_are_one_malformed_verdict():
    text = "[" + ", ".join("calculate_triangle_area(base=1, height=2)" for _ in range(1000)) + "]"
    verdict = check_response(SIMPLE_Q, SIMPLE_A, text)
    assert verdict.correct is False and verdict.malformed and "1000 calls" in verdict.reason


def test_many_interchangeable_calls_are_matched_quickly():
    """64 calls, each fitting all but the last expectation: the matching must not explode."""
    q = question("parallel_2", AREA)
    calls = [{"calculate_triangle_area": {"base": [1], "height": [2]}}] * 63
    calls.append({"calculate_triangle_area": {"base": [9], "height": [9]}})
    a = answer("parallel_2", *calls)
    text = "[" + ", ".join("calculate_triangle_area(base=1, height=2)" for _ in range(64)) + "]"
    verdict = check_response(q, a, text)
    assert verdict.correct is False and "expected call 63" in verdict.reason
