"""Fixtures of the long-context plugin's tests: the same real tokenizer and token counter as
the generators' tests in tests/lib/long_context (one definition, imported)."""

from tests.lib.long_context.conftest import counter, tokenizer_dir  # noqa: F401  (pytest fixtures)
