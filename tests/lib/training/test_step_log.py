"""Step lines at a sane rate with every field a user looks for; one record per step in
metrics.jsonl; loggers asked for by name; torchrun's rank-0 records reach the launcher."""

import logging
import sys

import pytest

from herd.core.errors import ConfigError
from herd.core.metrics import read_metrics
from herd.lib.training.launch import RECORD_PREFIX, run_torchrun
from herd.lib.training.loggers import open_loggers
from herd.lib.training.step_log import JobSteps, Peak, StepLog, device_peak


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def at(self, level: int) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def lines():
    handler = _Lines()
    log = logging.getLogger("herd.test_step_log")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)
    yield log, handler
    log.removeHandler(handler)


def test_a_loop_prints_about_ten_lines_and_records_every_step(tmp_path, lines):
    log, handler = lines
    steps = StepLog(tmp_path / "metrics.jsonl", "initial", "pretrain initial", 100, 6e6, Peak(1e12, "stated"),
                    log=log, every_s=3600.0, lines=10)
    for i in range(1, 101):
        steps.step(i, 512 * i, 4.0 - i / 100, 1e-3, 0.5, 512, 0.01, seq_len=64)
    steps.validation(100, 3.1)
    steps.close()
    info = handler.at(logging.INFO)
    assert info[0] == "pretrain initial: MFU against a peak of 1 TFLOP/s (stated)"
    printed = [m for m in info if m.startswith("pretrain initial step ")]
    # the first step, every tenth of the loop, the last
    assert [m.split(" step ")[1].split(":")[0] for m in printed] == \
        ["1/100"] + [f"{k}/100" for k in range(11, 100, 10)] + ["100/100"]
    assert printed[-1].startswith("pretrain initial step 100/100: loss 3.0000, lr 1.00e-03, grad norm 0.500, 51.2 ktok/s")
    assert "MFU 30.7%" in printed[-1] and "ETA" in printed[1]
    assert info[-1] == "pretrain initial: validation loss 3.1000 after step 100"
    assert len(handler.at(logging.DEBUG)) == 100 - len(printed)  # the other steps reach log.txt only
    records = read_metrics(tmp_path / "metrics.jsonl")
    assert [r.step for r in records] == list(range(1, 101)) and records[-1].val_loss == 3.1
    assert records[0].tokens_per_s == pytest.approx(51200) and records[0].mfu == pytest.approx(0.3072)


def test_the_last_step_is_printed_once_when_the_total_was_not_known(tmp_path, lines):
    log, handler = lines
    steps = StepLog(tmp_path / "m.jsonl", "long_96", "pretrain long_96", 0, 1.0, Peak(0.0, "no peak"), log=log,
                    every_s=3600.0, lines=10)
    for i in range(1, 4):
        steps.step(i, i, 1.0, 1e-4, 1.0, 1, 0.5)
    steps.close()
    steps.close()
    printed = [m for m in handler.at(logging.INFO) if m.startswith("pretrain long_96 step ")]
    assert printed == ["pretrain long_96 step 1: loss 1.0000, lr 1.00e-04, grad norm 1.000, 2 tok/s, 0:00",
                       printed[1]] and printed[1].startswith("pretrain long_96 step 3:")
    assert "MFU" not in printed[1]


def test_job_steps_count_and_a_rank_without_a_log_records_nothing(tmp_path):
    steps = JobSteps.open(tmp_path / "metrics.jsonl", "sft", "sft round_1/sft_0", 100.0, "cpu", 2.0)
    steps.start(2)
    steps.step(2.0, 1e-5, 0.3, 40, 0.1)
    steps.step(1.5, 1e-5, 0.2, 60, 0.1)
    steps.close()
    assert [(m.step, m.tokens, m.phase) for m in read_metrics(tmp_path / "metrics.jsonl")] == [(1, 40, "sft"),
                                                                                                (2, 100, "sft")]
    silent = JobSteps(None)
    silent.start(2)
    silent.step(1.0, 1e-5, 0.1, 10, 0.1)
    silent.close()


def test_the_peak_is_stated_with_its_source():
    assert device_peak("cpu", 2.5) == Peak(2.5e12, "[trainers.torch] peak_tflops = 2.5")
    measured = device_peak("cpu")
    assert measured.flops > 0 and "measured float32 matmul rate of this CPU" in measured.source


def test_an_unknown_or_missing_logger_is_an_error_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="'run.loggers' names 'mlflow', not a logger"):
        open_loggers(["mlflow"], tmp_path, "run")
    assert open_loggers([], tmp_path, "run") == []


def test_torchrun_output_reaches_the_launcher_at_each_records_level(lines):
    log, handler = lines
    script = (f"print('{RECORD_PREFIX}INFO|herd.trainer|sft step 1/2: loss 1.0'); "
              f"print('{RECORD_PREFIX}INFO|nemo_automodel|library chatter'); "
              f"print('{RECORD_PREFIX}WARNING|herd.trainer|rank 1: slow'); print('torchrun noise')")
    code, output = run_torchrun([sys.executable, "-c", script], log)
    assert code == 0 and output.endswith("torchrun noise")
    assert handler.at(logging.INFO) == ["sft step 1/2: loss 1.0"]
    assert handler.at(logging.WARNING) == ["rank 1: slow"]
    assert handler.at(logging.DEBUG) == ["library chatter", "torchrun noise"]
