"""Paper 004's transfer learning (TRAN): the binary "any compartment" model's weights, all but the last
layer, initialise the multi-class model. The entry says where from (``BaselineEntry.warm_start``); this is
the weight transfer itself, a state dict in and the model initialised."""

from __future__ import annotations

import torch
from torch import nn

from segrepro.errors import UserError

SINGLE_HEAD = "heads.0."  # a one-head BinaryHeads model keeps its network under this prefix


def last_layer(model: nn.Module) -> list[str]:
    """The state-dict names of ``model``'s last layer: its last convolution and every tensor after it (the
    norm MONAI's HighResNet puts after it), i.e. what depends on the number of classes."""
    convs = [n for n, m in model.named_modules() if isinstance(m, nn.Conv3d | nn.Conv2d)]
    if not convs:
        raise ValueError("the model has no convolution")
    names = list(model.state_dict())
    return names[names.index(convs[-1] + ".weight") :]


def transfer_all_but_last(model: nn.Module, source_state: dict[str, torch.Tensor]) -> list[str]:
    """Copy every tensor of ``source_state`` (a network's state dict, or a one-head ``BinaryHeads`` model's)
    into ``model`` except its last layer's; returns the names copied. Any other missing or mis-shaped tensor
    is a ``UserError``: the source was trained with another network."""
    if source_state and all(k.startswith(SINGLE_HEAD) for k in source_state):
        source_state = {k[len(SINGLE_HEAD) :]: v for k, v in source_state.items()}
    skip = set(last_layer(model))
    target = model.state_dict()
    wanted = [k for k in target if k not in skip]
    missing = [k for k in wanted if k not in source_state]
    mismatched = [k for k in wanted if k in source_state and source_state[k].shape != target[k].shape]
    if missing or mismatched:
        bad = (missing + mismatched)[0]
        raise UserError(
            f"the warm-start checkpoint does not fit this network ({len(missing + mismatched)} tensors, e.g. {bad})"
        )
    with torch.no_grad():
        for k in wanted:
            target[k].copy_(source_state[k])
    return wanted
