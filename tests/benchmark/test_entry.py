"""Recipes are checked when their entry is built: a bad recipe is a one-line UserError naming the entry."""

import pytest
from torch import nn

from segrepro.baselines import BASELINES
from segrepro.entry import BaselineEntry, Recipe
from segrepro.errors import UserError

GOOD = {"iterations": 10, "batch_size": 2, "lr": 1e-3, "patch_size": {2: (32, 32)}, "val_every": 5}


def entry_with(**changes) -> BaselineEntry:
    return BaselineEntry(
        id="my-entry",
        title="t",
        paper="p",
        citation="c",
        model=lambda i, o, d: nn.Conv2d(i, o, 1),
        loss=nn.MSELoss,
        recipes={"smoke": Recipe(**{**GOOD, **changes})},
    )


def test_a_good_recipe_builds():
    assert entry_with().recipe("smoke").problem() is None
    assert entry_with(schedule="multistep", schedule_kwargs={"milestones": [3, 6], "gamma": 0.1})


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"optimizer": "adagrad"}, "unknown optimizer 'adagrad'"),
        ({"optimizer_kwargs": {"beta": 0.9}}, "optimizer adam has no option beta"),
        ({"optimizer": "sgd", "optimizer_kwargs": {"betas": (0.5, 0.9)}}, "optimizer sgd has no option betas"),
        ({"schedule": "cosine"}, "unknown schedule 'cosine'"),
        ({"schedule": "step", "schedule_kwargs": {"gamma": 0.5}}, "schedule step takes gamma, step_size"),
        ({"schedule": "step", "schedule_kwargs": {"step_size": 5, "milestone": [3]}}, "schedule step takes"),
        ({"schedule": "constant", "schedule_kwargs": {"step_size": 5}}, "schedule constant takes no options"),
        ({"schedule": "multistep", "schedule_kwargs": {"milestones": [6, 3]}}, "milestones must be increasing"),
        ({"schedule": "step", "schedule_kwargs": {"step_size": 0}}, "step_size must be a whole number"),
        ({"schedule": "step", "schedule_kwargs": {"step_size": 2, "gamma": -1}}, "gamma must be a positive"),
        ({"lr": 0.0}, "lr must be a positive number"),
        ({"lr": float("nan")}, "lr must be a positive number"),
        ({"iterations": 0}, "iterations must be a whole number"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"val_every": True}, "val_every must be a whole number"),
        ({"patch_size": {2: (32, 32, 32)}}, "patch_size 2"),
        ({"patch_size": {}}, "patch_size needs a patch"),
    ],
)
def test_a_bad_recipe_is_a_user_error_naming_the_entry(changes, says):
    with pytest.raises(UserError, match=r"^baseline my-entry, smoke recipe: ") as err:
        entry_with(**changes)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_an_unknown_tier_names_the_entry():
    with pytest.raises(UserError, match="baseline my-entry: unknown tier 'fast'"):
        BaselineEntry("my-entry", "t", "p", "c", nn.Identity, nn.MSELoss, {"fast": Recipe(**GOOD)})


def test_width_means_one_thing():
    """Channel counts and channel divisors have their own names; no entry uses the ambiguous ``width``."""
    recipes = [(e.id, t, r) for _, e in BASELINES if e.method is None for t, r in e.recipes.items()]
    assert not [(entry_id, t) for entry_id, t, r in recipes if "width" in r.model_kwargs]
