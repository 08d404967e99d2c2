"""Weight averaging of model variants."""

from __future__ import annotations

import pytest
import torch

from herd.plugins.posttrain.averaging import averaged
from herd.lib.posttraining.models import average_state_dicts


def test_average_state_dicts_is_the_mean():
    a = {"w": torch.tensor([1.0, 3.0]), "step": torch.tensor(4)}
    b = {"w": torch.tensor([3.0, 5.0]), "step": torch.tensor(4)}
    avg = average_state_dicts([a, b])
    assert torch.equal(avg["w"], torch.tensor([2.0, 4.0])) and int(avg["step"]) == 4
    with pytest.raises(ValueError, match="different parameters"):
        average_state_dicts([a, {"v": torch.tensor(1.0)}])


def test_averaged_leaves_the_template_unchanged():
    template = torch.nn.Linear(2, 1, bias=False)
    template.weight.data[:] = torch.tensor([[1.0, 1.0]])
    model = averaged(template, [{"weight": torch.tensor([[0.0, 2.0]])}, {"weight": torch.tensor([[2.0, 4.0]])}])
    assert torch.equal(model.weight, torch.tensor([[1.0, 3.0]]))
    assert torch.equal(template.weight, torch.tensor([[1.0, 1.0]]))
