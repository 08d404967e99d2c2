"""What every training loop (pretraining stages, the code expert, SFT, DPO, the reward
model) does with a finished step: one ``StepMetrics`` line in its ``metrics.jsonl``, the
``[run] loggers`` (TensorBoard, W&B), and a console line at a sane rate.

A console line is printed for the first step, then whenever ``every_s`` seconds (10) or a
``1/lines`` share (a fifth) of the loop's steps have passed since the last line, whichever
comes first, and for the last step (``close``): step/total, loss, lr, grad norm, tokens/s, an
MFU estimate against a stated peak, elapsed time and ETA. Only rank 0 makes a
``StepLog``; the work per step is a JSON line and a clock read, so training is not slowed.
"""

from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch

from herd.core.metrics import StepMetrics, Validation, append_record
from herd.lib.training.loggers import MetricLogger

# Dense BF16 peak FLOP/s per device, for MFU (vendor data sheets, dense, no sparsity).
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12}


@dataclass(frozen=True)
class Peak:
    """The FLOP/s MFU is measured against, and where that number comes from (printed once
    per loop, so an MFU figure never stands without its denominator)."""

    flops: float
    source: str

    def describe(self) -> str:
        if self.flops <= 0:
            return f"MFU not estimated: {self.source}"
        return f"MFU against a peak of {_si(self.flops)}FLOP/s ({self.source})"


@functools.lru_cache(maxsize=None)  # measured once per process: every loop of a run states the same peak
def device_peak(device: str, configured_tflops: float = 0.0, key: str = "[trainers.torch] peak_tflops") -> Peak:
    """``configured_tflops`` when above 0; else the GPU's dense BF16 peak from the table;
    else, on a CPU, a measured float32 512x512 matmul rate (no published peak exists for
    an arbitrary CPU, so MFU on a CPU is relative to what this one reaches)."""
    if configured_tflops > 0:
        return Peak(configured_tflops * 1e12, f"{key} = {configured_tflops:g}")
    if device == "cuda":
        name = torch.cuda.get_device_name()
        flops = next((v for k, v in PEAK_FLOPS.items() if k in name), 0.0)
        source = f"{name} dense BF16 data sheet" if flops else f"{name} is not in the peak table; set {key}"
        return Peak(flops, source)
    # A generator of its own: measuring must not move the global RNG a checkpoint saves.
    a = torch.randn(512, 512, generator=torch.Generator().manual_seed(0))
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ a
        best = min(best, time.perf_counter() - t0)
    return Peak(2 * 512**3 / best, f"measured float32 matmul rate of this CPU; set {key} to state one")


_STATED: set[Peak] = set()


class StepLog:
    """One training loop's step records. ``path``: its ``metrics.jsonl`` (several loops
    may append to one file: the pretraining stages do); ``phase``: the ``StepMetrics.phase``
    of its records; ``label``: how its console lines start; ``total_steps``: the loop's
    planned steps (0 when unknown); ``flops_per_token``: training FLOPs per token for MFU."""

    def __init__(self, path: Path, phase: str, label: str, total_steps: int, flops_per_token: float, peak: Peak,
                 loggers: Sequence[MetricLogger] = (), log: logging.Logger | None = None, every_s: float = 10.0,
                 lines: int = 5):
        self.path, self.phase, self.label, self.total = Path(path), phase, label, total_steps
        self.flops_per_token, self.peak, self.loggers = flops_per_token, peak, list(loggers)
        self.log = log or logging.getLogger("herd.trainer")
        # An unknown total: only the clock decides.
        self.every_s = every_s
        self.every_steps = max(1, total_steps // max(1, lines)) if total_steps else 1 << 62
        self.start = self.last_print = time.perf_counter()
        self.steps = 0  # the loop's steps so far (``resumed_at`` sets where a resumed loop starts)
        self.ran = 0  # steps this process ran (what the ETA is measured on)
        self.window_tokens, self.window_seconds, self.window_steps = 0, 0.0, 0
        self.last: StepMetrics | None = None
        # Said once per process at INFO (every loop of a run has the same peak), then in log.txt.
        self.log.log(logging.DEBUG if peak in _STATED else logging.INFO, "%s: %s", label, peak.describe())
        _STATED.add(peak)

    def step(self, step: int, tokens: int, loss: float, lr: float, grad_norm: float, step_tokens: int,
             step_seconds: float, seq_len: int = 0) -> StepMetrics:
        """Record one finished step (``step``, ``tokens``: the loop's counters after it;
        ``step_tokens``: the step's global tokens; ``step_seconds``: its wall time)."""
        tps = step_tokens / step_seconds if step_seconds > 0 else 0.0
        record = StepMetrics(step=step, phase=self.phase, tokens=tokens, loss=loss, lr=lr, grad_norm=grad_norm,
                             tokens_per_s=tps, elapsed_seconds=time.perf_counter() - self.start, mfu=self._mfu(tps),
                             batch_tokens=step_tokens, seq_len=seq_len)
        self.write(record.to_json())
        for logger in self.loggers:
            logger.log(record)
        self.steps += 1
        self.ran += 1
        self.window_tokens += step_tokens
        self.window_seconds += step_seconds
        self.window_steps += 1
        self.last = record
        now = time.perf_counter()
        if self.ran == 1 or now - self.last_print >= self.every_s or self.window_steps >= self.every_steps \
                or (self.total and self.steps >= self.total):
            self._print(record, now)
        else:  # every step reaches log.txt
            self.log.debug("%s step %d: loss %.4f, lr %.2e, grad norm %.3f, %stok/s", self.label, self.steps,
                           loss, lr, grad_norm, _si(tps))
        return record

    def resumed_at(self, steps: int) -> None:
        """The loop resumes after ``steps`` steps a checkpoint holds."""
        self.steps = steps

    def validation(self, step: int, val_loss: float) -> None:
        """The loop's validation loss after ``step`` (folded into that step by ``read_metrics``)."""
        self.write(Validation(step=step, phase=self.phase, val_loss=val_loss).to_json())
        if self.last is not None and self.last.step == step:
            from dataclasses import replace

            for logger in self.loggers:
                logger.log(replace(self.last, val_loss=val_loss))
        self.log.info("%s: validation loss %.4f after step %d", self.label, val_loss, step)

    def write(self, record: dict) -> None:
        append_record(self.path, record)

    def close(self) -> None:
        """Print the last step if its line is not out yet."""
        if self.window_steps and self.last is not None:
            self._print(self.last, time.perf_counter())

    def _mfu(self, tokens_per_s: float) -> float:
        return tokens_per_s * self.flops_per_token / self.peak.flops if self.peak.flops > 0 else 0.0

    def _print(self, record: StepMetrics, now: float) -> None:
        tps = self.window_tokens / self.window_seconds if self.window_seconds > 0 else 0.0
        elapsed = now - self.start
        done = f"{self.steps}/{self.total}" if self.total else f"{self.steps}"
        eta = ""
        if self.total and self.steps < self.total:
            eta = f", ETA {_clock(elapsed / self.ran * (self.total - self.steps))}"
        mfu = f" MFU {self._mfu(tps):.1%}" if self.peak.flops > 0 else ""
        self.log.info("%s step %s: loss %.4f, lr %.2e, grad norm %.3f, %stok/s%s, %s%s", self.label, done,
                      record.loss, record.lr, record.grad_norm, _si(tps), mfu, _clock(elapsed), eta)
        self.last_print = now
        self.window_tokens, self.window_seconds, self.window_steps = 0, 0.0, 0


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _si(value: float) -> str:
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} "


class JobSteps:
    """A post-training loop's steps (SFT, DPO, reward model): it counts them and their
    tokens and hands each to a ``StepLog`` made when the loop says how many it will run
    (``start``). ``JobSteps(None)`` records nothing: a rank other than 0, or a caller
    that wants no records."""

    def __init__(self, make: Callable[[int], StepLog] | None, loggers: Sequence[MetricLogger] = ()):
        self.make, self.loggers = make, list(loggers)
        self.log: StepLog | None = None
        self.count = self.tokens = 0

    @classmethod
    def open(cls, path: Path, phase: str, label: str, flops_per_token: float, device: str, peak_tflops: float,
             loggers: Sequence[MetricLogger] = ()) -> "JobSteps":
        peak = device_peak(device, peak_tflops)
        return cls(lambda total: StepLog(path, phase, label, total, flops_per_token, peak, loggers), loggers)

    def start(self, total_steps: int) -> None:
        if self.make is not None:
            self.log = self.make(total_steps)

    def step(self, loss: float, lr: float, grad_norm: float, step_tokens: int, seconds: float) -> None:
        if self.log is None:
            return
        self.count += 1
        self.tokens += step_tokens
        self.log.step(self.count, self.tokens, loss, lr, grad_norm, step_tokens, seconds)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
        for logger in self.loggers:
            logger.close()
