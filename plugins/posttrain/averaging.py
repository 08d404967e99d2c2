"""Weight averaging (docs/recipe.md section 5): the reward model, SFT and DPO each train several
variants (seeds, learning rates) and keep their element-wise mean."""

from __future__ import annotations

import copy
from typing import Sequence, TypeVar

import torch

from herd.lib.posttraining.models import average_state_dicts

M = TypeVar("M", bound=torch.nn.Module)


def averaged(template: M, states: Sequence[dict[str, torch.Tensor]]) -> M:
    """A copy of ``template`` holding the mean of ``states`` (``template`` is unchanged)."""
    model = copy.deepcopy(template)
    model.load_state_dict(average_state_dicts(states))
    return model


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
