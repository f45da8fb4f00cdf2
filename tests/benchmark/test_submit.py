"""``segrepro submit``: the example outside method becomes a verified bundle; a wrong entry id, a built-in
entry and a failing check are one-line errors that write nothing."""

from __future__ import annotations

import tarfile
import textwrap

import pytest
from example_method import ENTRY, env_with, install, segrepro

from segrepro import results
from segrepro.cli import main


@pytest.mark.slow
def test_the_example_method_is_bundled_with_everything_needed_to_trust_it(example_bundle):
    bundle = results.read_bundle(example_bundle)
    assert isinstance(bundle, results.Bundle), bundle
    assert bundle.package["name"] == "mylab-segmentation" and bundle.package["version"] == "0.1.0"
    assert bundle.package["entry_point"] == f"{ENTRY} = mylab_segmentation.entries"
    assert bundle.card["id"] == ENTRY and bundle.card["loss"].startswith("MONAI MaskedDiceLoss")
    ((name, record),) = bundle.records.items()
    assert name == f"records/synthetic-2d__{ENTRY}__smoke__f0__s0.json"
    assert record["status"] == "ok" and record["metrics"]["canonical"]["mean"]["dice"] is not None
    with tarfile.open(example_bundle) as tar:
        names = sorted(tar.getnames())
        lock = tar.extractfile("environment.txt").read().decode()
    assert names == sorted([results.MANIFEST, *results.BUNDLE_MEMBERS, name])
    assert "torch==" in lock and "monai==" in lock and "mylab-segmentation==0.1.0" in lock
    assert not [p for p in example_bundle.parent.iterdir() if p != example_bundle]  # no temporary file left


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("mylab-basicunet-dise", "unknown baseline 'mylab-basicunet-dise'"),
        ("unet-dicece", "unet-dicece is built into segrepro"),
    ],
)
def test_an_entry_that_is_not_an_outside_package_s_is_a_one_line_error(workdir, capsys, entry, message):
    assert main(["submit", entry]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"segrepro: error: {message}") and err.count("\n") == 1
    assert not (workdir / "results").exists()


BROKEN_ENTRY = """
    from segrepro.baselines import BaselineEntry, get_baseline, register_baseline


    class UnmaskedCE:
        def __call__(self, logits, target, mask):
            import torch

            return torch.nn.functional.cross_entropy(logits, target)


    @register_baseline("broken-unet")
    def entry() -> BaselineEntry:
        plain = get_baseline("unet-ce")
        return BaselineEntry(
            id="broken-unet", title="t", paper="p", citation="", model=plain.model, loss=UnmaskedCE,
            recipes={"smoke": plain.recipes["smoke"], "quick": plain.recipes["smoke"]}, model_name="m", loss_name="l",
        )
"""


@pytest.mark.slow
def test_each_failing_check_is_one_line_and_nothing_is_written(tmp_path):
    package = tmp_path / "broken"
    (package / "broken_entry").mkdir(parents=True)
    (package / "broken_entry" / "__init__.py").write_text(textwrap.dedent(BROKEN_ENTRY))
    (package / "pyproject.toml").write_text(
        '[project]\nname = "broken-entry"\nversion = "1.0"\n'
        '[project.entry-points."segrepro.baselines"]\nbroken-unet = "broken_entry"\n'
    )
    install(package, tmp_path / "site")
    env = env_with(tmp_path / "site", tmp_path)
    assert segrepro(env, tmp_path, "datasets", "prepare", "synthetic-2d").returncode == 0
    done = segrepro(env, tmp_path, "submit", "broken-unet", "--quiet")
    assert done.returncode == 2
    card, mask_2d, mask_3d, error = done.stderr.splitlines()
    assert card == "FAIL card: citation is empty; pass BaselineEntry(citation=...)"
    assert mask_2d.startswith("FAIL 2-D: the loss changes with masked voxels")
    assert mask_3d.startswith("FAIL 3-D: the loss changes with masked voxels")
    assert error == "segrepro: error: 3 check(s) of broken-unet failed (listed above); fix them and submit again"
    assert not (tmp_path / "results" / "bundles").exists() and not (tmp_path / "results" / "runs").exists()


@pytest.mark.slow
def test_an_existing_bundle_is_kept_without_force(example_bundle, tmp_path):
    env = env_with(example_bundle.parents[2] / "site", example_bundle.parents[2])
    before = example_bundle.read_bytes()
    done = segrepro(env, tmp_path, "submit", ENTRY, "--out", str(example_bundle))
    assert done.returncode == 2 and done.stderr.strip() == (
        f"segrepro: error: {example_bundle} exists; give --force to replace it, or another --out"
    )
    assert example_bundle.read_bytes() == before
