import math

import pytest

from herd.core.protocols import TrainStage
from herd.lib.training.schedule import batch_at, lr_at


def stage(kind, **kw):
    return TrainStage("s", kind, 1000, 16, 1e-3, 1e-5, batch_tokens=64, **kw)


def test_warmup_then_cosine_to_the_floor():
    s = stage("initial", warmup_steps=4)
    assert [lr_at(s, i, 0) for i in range(4)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert lr_at(s, 10, 500) == pytest.approx(1e-5 + 0.5 * (1e-3 - 1e-5))
    assert lr_at(s, 10, 1000) == pytest.approx(1e-5)
    assert lr_at(s, 10, 5000) == pytest.approx(1e-5)  # stays at the floor
    mid = [lr_at(s, 10, t) for t in range(0, 1001, 100)]
    assert all(a >= b for a, b in zip(mid, mid[1:]))


def test_anneal_is_linear_to_final_and_long_context_constant():
    a = stage("anneal")
    assert lr_at(a, 0, 0) == pytest.approx(1e-3)
    assert lr_at(a, 3, 250) == pytest.approx(1e-3 + 0.25 * (1e-5 - 1e-3))
    assert lr_at(a, 9, 1000) == pytest.approx(1e-5)
    assert lr_at(stage("long_context"), 7, 123) == 1e-3
    with pytest.raises(ValueError, match="unknown kind"):
        lr_at(stage("sft"), 0, 0)


def test_batch_and_sequence_ramp_follow_tokens():
    s = stage("initial", batch_ramp=[(2000, 256, 64), (500, 128, 32)])
    assert batch_at(s, 0) == (64, 16)
    assert batch_at(s, 499) == (64, 16)
    assert batch_at(s, 500) == (128, 32)
    assert batch_at(s, 10**6) == (256, 64)
    with pytest.raises(ValueError, match="shorter than one sequence"):
        batch_at(stage("initial", batch_ramp=[(0, 8, 16)]), 0)
    assert math.isfinite(lr_at(s, 0, 0))
