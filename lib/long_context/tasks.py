"""RULER's synthetic tasks (NVIDIA/RULER ``scripts/synthetic.yaml`` and
``scripts/data/synthetic/constants.py``): their names, settings and prompt templates.

The templates are RULER's words, spelling included ("assgined" in variable tracking), so
that scores compare with published RULER numbers. Each template is RULER's task template
followed by its answer prefix, as RULER's ``prepare.py`` writes it for the ``base`` model
template: the input ends where the model's answer begins.
"""

from __future__ import annotations

from dataclasses import dataclass

from herd.core.errors import ConfigError

NIAH_TEMPLATE = (
    "Some special magic {type_needle_v} are hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
    "What are all the special magic {type_needle_v} for {query} mentioned in the provided text?"
    " The special magic {type_needle_v} for {query} mentioned in the provided text are"
)
# RULER rewrites the plural template when one value is asked for ("Some" -> "A", "are" -> "is").
NIAH_TEMPLATE_ONE = (
    "A special magic {type_needle_v} is hidden within the following text. Make sure to memorize it. "
    "I will quiz you about the {type_needle_v} afterwards.\n{context}\n"
    "What is the special magic {type_needle_v} for {query} mentioned in the provided text?"
    " The special magic {type_needle_v} for {query} mentioned in the provided text is"
)
NIAH_NEEDLE = "One of the special magic {type_needle_v} for {key} is: {value}."

VT_TEMPLATE = (
    "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n{context}\n"
    "Question: Find all variables that are assigned the value {query} in the text above."
    " Answer: According to the chain(s) of variable assignment in the text above, {num_v} variables are "
    "assgined the value {query}, they are: "
)
CWE_TEMPLATE = (
    "Below is a numbered list of words. In these words, some appear more often than others. "
    "Memorize the ones that appear most often.\n{context}\n"
    "Question: What are the 10 most common words in the above list?"
    " Answer: The top 10 words that appear most often in the list are:"
)
FWE_TEMPLATE = (
    "Read the following coded text and track the frequency of each coded word. Find the three most "
    "frequently appeared coded words. {context}\n"
    "Question: Do not provide any explanation. Please ignore the dots '....'. What are the three most "
    "frequently appeared words in the above coded text?"
    " Answer: According to the coded text above, the three most frequently appeared words are:"
)

# RULER's repeated noise: the "repeat" haystack of niah_single_1 and variable tracking's filler.
NOISE = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."


@dataclass(frozen=True)
class NiahSettings:
    haystack: str  # "essay", "repeat" (the noise sentences) or "needle" (distractor needles)
    key_type: str  # "words", "numbers" or "uuids"
    value_type: str
    num_keys: int = 1
    num_values: int = 1
    num_queries: int = 1


@dataclass(frozen=True)
class VariableTrackingSettings:
    num_chains: int = 1
    num_hops: int = 4


@dataclass(frozen=True)
class CommonWordsSettings:
    freq_common: int = 30
    freq_uncommon: int = 3
    num_common: int = 10


@dataclass(frozen=True)
class FreqWordsSettings:
    alpha: float = 2.0
    coded_word_length: int = 6


Settings = NiahSettings | VariableTrackingSettings | CommonWordsSettings | FreqWordsSettings


@dataclass(frozen=True)
class TaskSpec:
    """One RULER task: ``tokens_to_generate`` is RULER's answer budget, part of a sample's
    ``length`` (RULER counts the prompt plus the tokens the model may generate)."""

    name: str
    kind: str  # "niah", "variable_tracking", "common_words_extraction", "freq_words_extraction"
    tokens_to_generate: int
    settings: Settings


def _niah(name: str, **kw) -> TaskSpec:
    return TaskSpec(name, "niah", 128, NiahSettings(**kw))


TASKS: dict[str, TaskSpec] = {spec.name: spec for spec in (
    _niah("niah_single_1", haystack="repeat", key_type="words", value_type="numbers"),
    _niah("niah_single_2", haystack="essay", key_type="words", value_type="numbers"),
    _niah("niah_single_3", haystack="essay", key_type="words", value_type="uuids"),
    _niah("niah_multikey_1", haystack="essay", key_type="words", value_type="numbers", num_keys=4),
    _niah("niah_multikey_2", haystack="needle", key_type="words", value_type="numbers"),
    _niah("niah_multikey_3", haystack="needle", key_type="uuids", value_type="uuids"),
    _niah("niah_multivalue", haystack="essay", key_type="words", value_type="numbers", num_values=4),
    _niah("niah_multiquery", haystack="essay", key_type="words", value_type="numbers", num_keys=4, num_queries=4),
    TaskSpec("vt", "variable_tracking", 30, VariableTrackingSettings(num_chains=1, num_hops=4)),
    TaskSpec("cwe", "common_words_extraction", 120, CommonWordsSettings(freq_common=30, freq_uncommon=3, num_common=10)),
    TaskSpec("fwe", "freq_words_extraction", 50, FreqWordsSettings(alpha=2.0)),
)}


def task_spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown long-context task {name!r}: choose one of {', '.join(TASKS)}") from None


def parse_tasks(text: str) -> list[TaskSpec]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigError(f"--tasks {text!r}: name at least one task ({', '.join(TASKS)})")
    return [task_spec(name) for name in names]


def parse_lengths(text: str) -> list[int]:
    try:
        lengths = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--lengths {text!r}: expected comma-separated token counts such as 4096,8192") from None
    if not lengths or any(n < 1 for n in lengths):
        raise ConfigError(f"--lengths {text!r}: expected comma-separated positive token counts such as 4096,8192")
    return lengths
