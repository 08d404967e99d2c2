"""What every training backend shares: the stage loop (schedule, checkpoints, resume,
annealing, metrics), the torchrun entry point, parallelism applied from outside the model,
and the needle-in-a-haystack check."""
