"""What every training backend shares: the stage loop (schedule, checkpoints, resume,
annealing, metrics), the torchrun entry point, parallelism applied from outside the model,
and the needle-in-a-haystack gate (``niah``: RULER's ``niah_single_1`` from ``lib.long_context``,
docs/recipe.md section 4.2)."""
