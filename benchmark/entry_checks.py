"""The checks an entry must pass before its results count: each returns the problems it found, one line
each, saying what to fix (an empty list: passed).

``segrepro submit`` runs them all on an outside entry; the test suite runs the same functions on every
registered entry (``tests/test_mask_property.py``), so a submitted method meets the bar the built-in
ones do, checked by one piece of code.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import torch

from segrepro.entry import BaselineEntry
from segrepro.training import make_optimizer

N_CLASSES = 4
"""Classes of the made-up data the checks feed an entry (more than two, as in the papers' datasets)."""
CPU_TIERS = ("smoke", "quick")
CARD_TEXT = {
    "title": "title",
    "paper": "paper",
    "citation": "citation",
    "model": "model_name",
    "loss": "loss_name",
}
"""Card fields that must not be empty, and the ``BaselineEntry`` argument that fills each."""


def _classes() -> list[str]:
    return [str(k) for k in range(N_CLASSES)]


def _n_training(entry: BaselineEntry) -> int:
    """Classes the network is trained on (the ``target_transform`` hook may train on other classes)."""
    return len(entry.training_classes(_classes()))


def _input(entry: BaselineEntry, dims: int, seed: int = 0) -> torch.Tensor:
    """A batch of 2 (V-Net's 1-voxel bottleneck needs it) small enough for any CPU."""
    spatial = (32, 32) if dims == 2 else (16, 16, 16)
    return torch.randn((2, entry.preprocess.channels, *spatial), generator=torch.Generator().manual_seed(seed))


def _logits(out: torch.Tensor | tuple | list) -> torch.Tensor:
    """The logits of a training-mode output (deep supervision returns a tuple, the full-size one first)."""
    return out[0] if isinstance(out, tuple | list) else out


def card_problems(entry: BaselineEntry) -> list[str]:
    """The card names the method, its paper, model and loss, has the CPU tiers, and is JSON."""
    card = entry.card()
    problems = [
        f"card: {field} is empty; pass BaselineEntry({arg}=...)" for field, arg in CARD_TEXT.items() if not card[field]
    ]
    problems += [
        f"card: no {tier!r} recipe; add recipes={{{tier!r}: Recipe(...)}} (every entry runs the CPU tiers)"
        for tier in CPU_TIERS
        if tier not in entry.recipes
    ]
    if not entry.spatial_dims or set(entry.spatial_dims) - {2, 3}:
        problems.append(f"card: spatial_dims {entry.spatial_dims!r} must name 2 and/or 3")
    try:
        json.dumps(card)
    except (TypeError, ValueError) as exc:
        problems.append(f"card: not JSON ({exc}); give plain values (str, numbers, lists, dicts)")
    return problems


FIT_FIELDS = (
    "model", "loss", "recipes", "output", "spatial_dims", "preprocess", "target_transform", "sampling",
    "after_step", "warm_start", "method", "seed_selection",
)  # fmt: skip
"""What trains the network: an entry that shares another's fit stage must agree with it on each."""


def shared_fit_problems(entry: BaselineEntry) -> list[str]:
    """An entry with ``shares_fit_with`` names a registered entry that is trained exactly as it is."""
    if not entry.shares_fit_with:
        return []
    from segrepro.baselines import get_baseline
    from segrepro.errors import UserError

    try:
        source = get_baseline(entry.shares_fit_with)
    except UserError as exc:
        return [f"shares_fit_with: {exc}"]
    if source.shares_fit_with:
        return [f"shares_fit_with: {source.id} shares its own fit; name {source.shares_fit_with} instead"]
    return [
        f"shares_fit_with: {name} differs from {source.id}'s ({getattr(entry, name)!r} vs {getattr(source, name)!r}); "
        "only the post-processing may differ"
        for name in FIT_FIELDS
        if repr(getattr(entry, name)) != repr(getattr(source, name))
    ]


def build_problems(entry: BaselineEntry) -> list[str]:
    """At every tier and dimension the entry claims, the model builds and gives one score per class on one
    patch of the tier's size (a deep network needs it: a smaller one may shrink to nothing)."""
    problems = []
    for tier, recipe in entry.recipes.items():
        for dims in entry.spatial_dims:
            where = f"{tier} tier, {dims}-D"
            if dims not in recipe.patch_size:
                problems.append(f"{where}: the recipe has no patch_size for {dims}-D data; add it to patch_size")
                continue
            try:
                model = entry.build_model(_classes(), dims, tier).eval()
                x = torch.randn((1, entry.preprocess.channels, *recipe.patch_size[dims]))
                with torch.no_grad():
                    out = model(x)
            except Exception as exc:
                problems.append(f"{where}: the model does not build or run ({type(exc).__name__}: {exc})")
                continue
            want = (x.shape[0], entry.out_channels(_n_training(entry)), *x.shape[2:])
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
                got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                problems.append(f"{where}: in eval mode the model must return logits of shape {want}, not {got}")
    return problems


def training_step_problems(entry: BaselineEntry, dims: int) -> list[str]:
    """One optimiser step of the smoke recipe: a finite loss, finite gradients, and weights that move."""
    torch.manual_seed(0)
    try:
        model = entry.build_model(_classes(), dims, "smoke").train()
        x = _input(entry, dims)
        target = torch.randint(0, _n_training(entry), (x.shape[0], *x.shape[2:]), generator=torch.Generator())
        before = [p.detach().clone() for p in model.parameters()]
        opt = make_optimizer(model, entry.recipe("smoke"))
        loss = entry.loss()(model(x), target, torch.ones(target.shape))
        loss.backward()
        opt.step()
    except Exception as exc:
        return [f"{dims}-D training step fails ({type(exc).__name__}: {exc})"]
    if not torch.isfinite(loss):
        return [f"{dims}-D training step: the loss is {loss.item()}; it must be a finite number"]
    if any(p.grad is not None and not torch.isfinite(p.grad).all() for p in model.parameters()):
        return [f"{dims}-D training step: some gradients are not finite"]
    if all(torch.equal(a, p.detach()) for a, p in zip(before, model.parameters(), strict=True)):
        return [f"{dims}-D training step: no weight changed; the loss must depend on the model's output"]
    return []


def _loss_and_grad(
    entry: BaselineEntry, logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    logits = logits.clone().requires_grad_(True)
    value = entry.loss()(logits, target, mask)
    (grad,) = torch.autograd.grad(value, logits, allow_unused=True)
    return value.detach(), torch.zeros_like(logits) if grad is None else grad


def mask_problems(entry: BaselineEntry, dims: int) -> list[str]:
    """Changing logits and labels under the validity mask changes neither the loss nor its gradient, and
    masked voxels get exactly zero gradient (the entry contract: masked voxels are not scored)."""
    g = torch.Generator().manual_seed(1)
    spatial = (12, 12) if dims == 2 else (6, 6, 6)
    k = _n_training(entry)
    logits = torch.randn((2, entry.out_channels(k), *spatial), generator=g)
    target = torch.randint(0, k, (2, *spatial), generator=g)
    mask = (torch.rand((2, *spatial), generator=g) > 0.4).float()
    hidden = mask == 0
    logits2 = torch.where(hidden.unsqueeze(1), torch.randn(logits.shape, generator=g) * 10, logits)
    target2 = torch.where(hidden, torch.randint(0, k, target.shape, generator=g), target)
    try:
        v1, g1 = _loss_and_grad(entry, logits, target, mask)
        v2, g2 = _loss_and_grad(entry, logits2, target2, mask)
    except Exception as exc:
        return [f"{dims}-D mask check: loss(outputs, target, mask) fails ({type(exc).__name__}: {exc})"]
    fix = "multiply each voxel's term by the mask (see segrepro.baselines.losses)"
    if not torch.allclose(v1, v2, rtol=1e-5, atol=1e-6):
        return [f"{dims}-D: the loss changes with masked voxels ({v1.item():.6g} vs {v2.item():.6g}); {fix}"]
    if (g1 * hidden.unsqueeze(1)).abs().max() != 0 or not torch.allclose(g1, g2, rtol=1e-5, atol=1e-7):
        return [f"{dims}-D: masked voxels get a gradient; {fix}"]
    if g1.abs().sum() == 0:
        return [f"{dims}-D: the loss has no gradient on the scored voxels; it must depend on the outputs"]
    return []


def seed_problems(entry: BaselineEntry, dims: int) -> list[str]:
    """The same seed builds the same model, which gives the same output on the same input."""

    def output() -> torch.Tensor:
        torch.manual_seed(0)
        model = entry.build_model(_classes(), dims, "smoke").eval()
        with torch.no_grad():
            return model(_input(entry, dims))

    try:
        same = torch.equal(output(), output())
    except Exception as exc:
        return [f"{dims}-D seed check: the model does not run ({type(exc).__name__}: {exc})"]
    if not same:
        return [
            f"{dims}-D: the same seed gives different outputs; draw random numbers from torch's generator "
            "(seeded by the engine), not from time or os.urandom"
        ]
    return []


def static_checks(entry: BaselineEntry) -> list[tuple[str, Callable[[], list[str]]]]:
    """``(name, check)`` of every check that needs no data, in the order ``segrepro submit`` runs them."""
    checks: list[tuple[str, Callable[[], list[str]]]] = [
        ("card", lambda: card_problems(entry)),
        ("shared fit", lambda: shared_fit_problems(entry)),
        ("builds", lambda: build_problems(entry)),
    ]
    for dims in entry.spatial_dims if "smoke" in entry.recipes else ():
        checks += [
            (f"{dims}-D training step", lambda d=dims: training_step_problems(entry, d)),
            (f"{dims}-D mask", lambda d=dims: mask_problems(entry, d)),
            (f"{dims}-D same seed", lambda d=dims: seed_problems(entry, d)),
        ]
    return checks
