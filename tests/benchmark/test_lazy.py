"""``Lazy`` references: imported on call only; and the CLI commands that must answer fast load no torch."""

import subprocess
import sys

import numpy as np
import pytest

from segrepro.errors import UserError
from segrepro.lazy import Lazy


def test_lazy_imports_on_call_and_merges_arguments():
    ref = Lazy("fractions:Fraction", 3)
    assert ref() == 3 and ref(6) == pytest.approx(0.5)
    assert Lazy("os.path:join", "a")("b") == "a/b"
    assert Lazy("json:dumps", sort_keys=True)({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
    assert repr(Lazy("json:dumps", 1, indent=2)) == "Lazy('json:dumps', 1, indent=2)"


def test_lazy_does_not_import_until_called():
    code = (
        "import sys\n"
        "from segrepro.lazy import Lazy\n"
        "ref = Lazy('xml.dom.minidom:parseString')\n"
        "print('before', 'xml.dom.minidom' in sys.modules)\n"
        "ref('<a/>')\n"
        "print('after', 'xml.dom.minidom' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["before", "False", "after", "True"]


@pytest.mark.parametrize("target", ["json", "json:", ":dumps", "json.dumps"])
def test_malformed_target_is_refused(target):
    with pytest.raises(ValueError, match=r"package\.module:attr"):
        Lazy(target)


def test_evaluate_without_hd95_or_instances_loads_no_torch_monai_or_ndimage(tmp_path):
    labels = (np.arange(32 * 32).reshape(32, 32) % 3).astype(np.uint8)
    np.save(tmp_path / "t.npy", labels)
    code = (
        "import sys\n"
        "from segrepro.cli import main\n"
        "assert main(['evaluate', '--target', 't.npy', '--pred', 't.npy', '--n-classes', '3']) == 0\n"
        "print('HEAVY', sorted(m for m in ('torch', 'monai', 'scipy.ndimage') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert "HEAVY []" in out and '"dice"' in out


@pytest.mark.parametrize(
    ("target", "why"), [("no_such_module_xyz:f", "No module named 'no_such_module_xyz'"), ("json:nope", "nope")]
)
def test_a_name_that_does_not_resolve_is_a_one_line_error(target, why):
    with pytest.raises(UserError, match=rf"cannot load '{target}': .*{why}"):
        Lazy(target)()
