"""InsTag-style intent tags without an LLM (docs/recipe.md section 5, "difficulty"): a rule
set maps each intent or skill a request may ask for to a regex over the user's text; the
number of distinct tags that fire measures how complex the instruction is (InsTag's
observation: more intents, harder and more diverse data)."""

from __future__ import annotations

import re

from herd.core.errors import ConfigError

# tag -> case-insensitive regex over the user turns. Intents (what is asked) and skills (what
# answering needs); a request about a bug in code that must be explained tags three.
INSTAG_RULES: dict[str, str] = {
    "code_generation": r"\b(?:write|implement|create|generate)\b[^.?!\n]*\b(?:function|class|script|program|code|query)\b",
    "code_completion": r"^\s*(?:def|class|async def)\s+\w+|\"\"\"[^\"]+\"\"\"",
    "debugging": r"\b(?:bug|fix|error|exception|traceback|debug|doesn'?t work|fails?)\b",
    "explanation": r"\b(?:explain|why|how does|how do|describe|what does)\b",
    "arithmetic": r"\d+\s*(?:plus|minus|times|divided by|[-+*/×÷^])\s*\d+",
    "math_reasoning": r"\b(?:solve|equation|prove|proof|probability|integral|derivative|calculate|compute|how many)\b",
    "translation": r"\b(?:translate|translation)\b",
    "summarization": r"\b(?:summari[sz]e|summary|tl;?dr)\b",
    "creative_writing": r"\b(?:poem|story|essay|haiku|lyrics|song|slogan)\b",
    "output_format": r"\b(?:json|table|bullet|markdown|csv|yaml|numbered list)\b",
    "length_constraint": r"\b(?:in (?:\d+|one|two|three|five|a few) (?:words?|sentences?|paragraphs?|lines?)|brief(?:ly)?|concise(?:ly)?)\b",
    "step_by_step": r"\b(?:step[- ]by[- ]step|show (?:your|the) work|reasoning)\b",
    "comparison": r"\b(?:compare|comparison|difference between|versus|vs\.?|pros and cons)\b",
    "tool_use": r"\b(?:search|look up|browse|web|api|call the|use the \w+ tool)\b",
    "string_manipulation": r"\b(?:repeat|reverse|first letter|last letter|count (?:the )?(?:words|letters|characters)|how many words|uppercase|lowercase)\b",
    "role_play": r"\b(?:act as|pretend|you are an? |role[- ]?play)\b",
    "classification": r"\b(?:classify|categori[sz]e|which of the following|label)\b",
    "advice": r"\b(?:should i|recommend|advice|suggest|tips?)\b",
    "long_document": r"\b(?:document|article|passage|the text below|following text)\b",
    "multi_part": r"\?[^?]+\?|(?:^|\n)\s*(?:2[.)]|b[.)])\s",
}


class IntentTagger:
    """The distinct tags of ``tag_rules`` whose regex matches a text."""

    def __init__(self, rules: dict[str, str], where: str = "[judges.difficulty] tag_rules"):
        self.rules: list[tuple[str, re.Pattern[str]]] = []
        for tag, pattern in rules.items():
            try:
                self.rules.append((tag, re.compile(pattern, re.IGNORECASE | re.MULTILINE)))
            except re.error as exc:
                raise ConfigError(f"{where}: tag {tag!r} has an invalid regex {pattern!r}: {exc}") from None

    def tags(self, text: str) -> list[str]:
        return [tag for tag, pattern in self.rules if pattern.search(text)]
