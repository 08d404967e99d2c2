"""Prompt templates of the code synthesizer (docs/recipe.md section 6: problem from a snippet,
solution with general rules and an explained chain of thought, revision with feedback)."""

PROBLEM = """You write programming exercises.
Here is a {language} code snippet:

```{language}
{snippet}
```

Write one short, self-contained programming problem inspired by this snippet. Name the \
function to write and its arguments, and say what it must return. Do not give the solution.
Problem:"""

SOLUTION = """Solve the programming problem below in {language}.
Rules: follow the problem exactly, use only the standard library, write readable code.
First explain your approach step by step. Then give the solution in one ```{fence} block, \
then unit tests with assertions in a second ```{fence} block.

Problem:
{problem}
"""

REVISE = """Your answer to the problem below failed its checks. Revise the solution, the \
tests, or both. Answer in the same format: a short explanation, then the solution in one \
```{fence} block, then the unit tests in a second ```{fence} block.

Problem:
{problem}

Your previous answer:
{answer}

Feedback from the checks:
{feedback}
"""

TRANSLATION_REQUEST = """Translate this Python solution and its unit tests into {language}.

Solution:
```python
{solution}
```

Tests:
```python
{tests}
```"""

TRANSLATE = """{request}

Keep the behaviour identical. Give the translated solution in one ```{fence} block, then the \
translated tests in a second ```{fence} block; the tests must fail loudly (raise an error) \
when a check fails."""

EXPLAIN = """Explain what this Python code does, precisely enough that a programmer could \
rewrite it from your explanation alone (name the function, its arguments and its result).

```python
{code}
```"""

REGENERATE = """Write the Python code this explanation describes, in one ```python block.

{explanation}"""

JUDGE = """Do these two Python programs behave the same for every input? Answer YES or NO, \
then one sentence why.

Program A:
```python
{original}
```

Program B:
```python
{regenerated}
```"""

# Rejection sampling (docs/recipe.md section 6, synthetic data 4): code-specific system prompts,
# used for sampling only; the SFT row keeps the plain request.
SYSTEM_PROMPTS = {
    "readability": "You are an expert programmer. Write clear, readable code: descriptive names, short "
                   "functions, simple control flow, lines under 100 characters.",
    "documentation": "You are an expert programmer. Document your code: a docstring for every function "
                     "saying what it takes and returns, and comments where the reasoning is not obvious.",
    "thoroughness": "You are an expert programmer. Be thorough: handle edge cases such as empty inputs, "
                    "zero and negative numbers, and never leave placeholders or unfinished code.",
}

COMPLETE = """Complete this Python function. Answer with the whole function in one ```python block.

```python
{prompt}```"""

SAMPLE = """{system}

{request}
"""

REVISE_HARD = """Your answer to the request below did not pass review. Revise it so that it is \
correct and well written. Answer with the whole function in one ```python block.

Request:
{request}

Your previous answer:
{answer}

Review:
{feedback}
"""

STYLE_RUBRIC = """Rate this code from 1 (poor) to 5 (excellent) for readability, documentation and \
thoroughness. Answer with the number first.

```python
{code}
```
Rating:"""
