"""The baseline registry finds its entries by itself: every paper package has an ``entries`` module,
each of them registers something, nothing registers elsewhere, and registering imports no torch."""

import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import segrepro.baselines
from segrepro.baselines import BASELINES
from segrepro.lazy import Lazy

ROOT = Path(segrepro.baselines.__file__).parent
MODULES = sorted(m.name for m in pkgutil.walk_packages([str(ROOT)], "segrepro.baselines."))


@pytest.mark.parametrize("module", sorted(BASELINES.modules()))
def test_every_entry_module_registers_something(module):
    assert BASELINES.modules()[module], f"{module} is an entry module but registers no baseline"


def test_every_paper_package_has_an_entry_module():
    packages = [m.name for m in pkgutil.iter_modules([str(ROOT)]) if m.ispkg]
    assert packages, "no paper packages found"
    assert {f"segrepro.baselines.{p}.entries" for p in packages} <= set(BASELINES.modules())


@pytest.mark.parametrize("module", MODULES)
def test_only_entry_modules_register(module):
    """A registration outside an ``entries`` module would never be imported by the registry."""
    source = Path(importlib.util.find_spec(module).origin).read_text()
    if module.rsplit(".", 1)[-1] not in ("entries", "registry", "__init__"):
        assert "register_baseline(" not in source, f"{module} registers entries; move them to an entries module"


@pytest.mark.parametrize("entry_id", [name for name, e in BASELINES if e.method is None])
def test_model_and_loss_are_lazy_references_that_resolve(entry_id):
    entry = BASELINES.get(entry_id)
    for factory in (entry.model, entry.loss):
        assert isinstance(factory, Lazy), f"{entry_id}: name factories with Lazy('module:attr') so listing stays fast"
        assert callable(factory.resolve())


def test_listing_imports_neither_torch_nor_monai(workdir):
    code = (
        "import sys\n"
        "from segrepro.cli import main\n"
        "assert main(['baselines', 'list']) == 0\n"
        "assert main(['datasets', 'list']) == 0\n"
        "heavy = sorted(m for m in ('torch', 'monai') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=workdir).stdout
    assert "HEAVY []" in out
    assert "unet-dicece" in out and "synthetic-2d" in out
