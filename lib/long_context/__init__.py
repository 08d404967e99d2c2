"""RULER's synthetic long-context tasks (NVIDIA/RULER), generated for any tokenizer: the one
implementation behind the pretraining NIAH gate (``lib.training.niah``, docs/recipe.md
section 4.2), the ``long_context`` plugin's ``long-context generate``, ``eval-long`` and
evaluator.

- ``tasks``: RULER's task names, settings and templates (``task_spec``, ``TASKS``);
- ``token_counter``: ``TokenCounter.load(path)`` / ``TokenCounter.of(tokenizer)``;
- ``haystack``: the essay and noise haystacks, tokenised once (``Haystacks``);
- ``niah``, ``variable_tracking``, ``common_words``, ``freq_words``: one builder per task kind;
- ``sample``: ``Sample`` (a RULER row) and its JSONL reading and writing;
- ``generate``: ``generate_samples``, every sample within [0.97 N, N] tokens (``LOWER``).

See docs/long_context.md."""
