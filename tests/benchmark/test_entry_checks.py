"""Each entry check fails on an entry broken the way it guards against, with a line saying what to fix
(that every registered entry passes the mask check is tests/test_mask_property.py)."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from segrepro.baselines import get_baseline
from segrepro.entry_checks import (
    build_problems,
    card_problems,
    mask_problems,
    seed_problems,
    shared_fit_problems,
    static_checks,
    training_step_problems,
)

PLAIN = get_baseline("unet-ce")
GOOD = dataclasses.replace(PLAIN, recipes={t: PLAIN.recipes["smoke"] for t in ("smoke", "quick")})
"""The plain U-Net at its smoke recipe only (its paper tier's 96^3 patch takes seconds on a CPU)."""


class UnmaskedCE(nn.Module):
    """Cross entropy over every voxel: ignores the mask."""

    def forward(self, logits, target, mask):
        return nn.functional.cross_entropy(logits, target)


class Constant(nn.Module):
    def forward(self, logits, target, mask):
        return torch.tensor(1.0, requires_grad=True)


class Noisy(nn.Module):
    """Adds noise from a generator of its own, seeded from the OS: not reproducible from the run's seed."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.gen = inner, torch.Generator().manual_seed(torch.seed())

    def forward(self, x):
        return self.inner(x) + torch.randn(x.shape[0], 1, *x.shape[2:], generator=self.gen)


def broken(**changes):
    return dataclasses.replace(GOOD, **changes)


def test_the_plain_entry_passes_every_check():
    assert [(name, check()) for name, check in static_checks(GOOD)] == [(name, []) for name, _ in static_checks(GOOD)]


def test_an_incomplete_card_names_each_missing_field_and_tier():
    entry = broken(citation="", loss_name="", recipes={"smoke": GOOD.recipes["smoke"]})
    assert card_problems(entry) == [
        "card: citation is empty; pass BaselineEntry(citation=...)",
        "card: loss is empty; pass BaselineEntry(loss_name=...)",
        "card: no 'quick' recipe; add recipes={'quick': Recipe(...)} (every entry runs the CPU tiers)",
    ]


def test_a_model_that_does_not_build_or_gives_the_wrong_shape_is_named_per_tier_and_dimension():
    def fails(in_channels, out_channels, spatial_dims, **kwargs):
        if spatial_dims == 3:
            raise RuntimeError("no 3-D version")
        return nn.Conv2d(in_channels, out_channels + 1, 1)

    problems = build_problems(broken(model=fails))
    assert len(problems) == 2 * len(GOOD.recipes)
    assert "smoke tier, 2-D: in eval mode the model must return logits of shape (1, 4, 64, 64)" in problems[0]
    assert problems[1] == "smoke tier, 3-D: the model does not build or run (RuntimeError: no 3-D version)"


def test_a_loss_that_ignores_the_mask_fails_the_mask_check():
    (problem,) = mask_problems(broken(loss=UnmaskedCE), 2)
    assert problem.startswith("2-D: the loss changes with masked voxels")
    assert "multiply each voxel's term by the mask" in problem


def test_a_loss_without_gradient_fails_the_training_step_and_the_mask_check():
    entry = broken(loss=Constant)
    assert training_step_problems(entry, 2) == [
        "2-D training step: no weight changed; the loss must depend on the model's output"
    ]
    assert mask_problems(entry, 2) == [
        "2-D: the loss has no gradient on the scored voxels; it must depend on the outputs"
    ]


def test_a_model_with_its_own_randomness_fails_the_seed_check():
    def noisy(*args, **kwargs):
        return Noisy(GOOD.model(*args, **kwargs))

    (problem,) = seed_problems(broken(model=noisy), 2)
    assert problem.startswith("2-D: the same seed gives different outputs")


def test_an_entry_sharing_a_fit_must_be_trained_exactly_as_its_source():
    wt = get_baseline("guerrero2020-w3-wt")
    assert shared_fit_problems(wt) == []
    [unknown] = shared_fit_problems(dataclasses.replace(wt, shares_fit_with="no-such-entry"))
    assert unknown.startswith("shares_fit_with: unknown baseline 'no-such-entry'. Known: ")
    other_lr = {t: dataclasses.replace(r, lr=r.lr * 10) for t, r in wt.recipes.items()}
    [problem] = shared_fit_problems(dataclasses.replace(wt, recipes=other_lr))
    assert problem.startswith("shares_fit_with: recipes differs from guerrero2020-w3-map's")
    assert problem.endswith("only the post-processing may differ")
    assert shared_fit_problems(dataclasses.replace(wt, shares_fit_with="guerrero2020-bwm-wt")) == [
        "shares_fit_with: guerrero2020-bwm-wt shares its own fit; name guerrero2020-bwm-map instead"
    ]
