"""Post-training tests run their tiny models on one thread (the tokenizer and model
fixtures are in tests/conftest.py)."""

import pytest

from tests.conftest import one_torch_thread

one_torch_thread = pytest.fixture(autouse=True, scope="session")(one_torch_thread)
