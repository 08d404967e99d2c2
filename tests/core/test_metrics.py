"""The metrics file contract: typed step records, validation folded into its step, old
lines and torn lines, the ``[run] loggers`` check."""

import json

import pytest

from herd.core.config import load_config
from herd.core.errors import ConfigError
from herd.core.metrics import StepMetrics, Validation, append_record, logger_problems, read_metrics
from herd.core.plugins import load_plugins


def _step(step: int, phase: str = "initial", loss: float = 3.0) -> StepMetrics:
    return StepMetrics(step=step, phase=phase, tokens=100 * step, loss=loss, lr=1e-3, grad_norm=0.5,
                       tokens_per_s=1000.0, elapsed_seconds=0.1 * step, mfu=0.01, batch_tokens=100, seq_len=32)


def test_steps_read_back_with_their_validation_loss(tmp_path):
    path = tmp_path / "metrics.jsonl"
    for record in (_step(1), _step(2), Validation(2, "initial", 2.5), {"event": "long_context_check", "step": 2},
                   _step(3, "anneal", 2.0)):
        append_record(path, record if isinstance(record, dict) else record.to_json())
    steps = read_metrics(path)
    assert steps == [_step(1), StepMetrics(**{**_step(2).__dict__, "val_loss": 2.5}), _step(3, "anneal", 2.0)]


def test_lines_from_before_the_event_field_and_a_torn_last_line_still_read(tmp_path):
    path = tmp_path / "metrics.jsonl"
    old = {"step": 4, "stage": "initial", "loss": 2.0, "lr": 1e-3, "grad_norm": 1.0, "tokens": 400,
           "seq_len": 32, "batch_tokens": 100, "tokens_per_s": 50.0, "mfu": 0.0}
    path.write_text(json.dumps(old) + "\n" + '{"event": "step", "step": 5, "pha')
    [step] = read_metrics(path)
    assert (step.step, step.phase, step.elapsed_seconds, step.val_loss) == (4, "initial", 0.0, None)


def test_a_step_record_without_a_field_names_the_file_and_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"event": "step", "step": 1, "phase": "sft"}\n')
    with pytest.raises(ValueError, match=r"metrics.jsonl:1: step record lacks 'tokens'"):
        read_metrics(path)


def test_loggers_are_checked_by_name_and_installed_package(empty_registry):
    assert logger_problems([]) == []
    [unknown] = logger_problems(["tensorbaord"])
    assert "'run.loggers' names 'tensorbaord', not a logger (known: tensorboard, wandb)" in unknown
    try:
        import wandb  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match=r"'run.loggers' asks for 'wandb' but the 'wandb' package is not "
                                               r"installed: pip install wandb"):
            load_config(load_plugins(registry_path=empty_registry, entry_points=False).registry,
                        overrides=['run.loggers=["wandb"]'])
