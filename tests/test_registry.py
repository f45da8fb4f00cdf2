import sys
import textwrap

import pytest

from segrepro.errors import UserError
from segrepro.registry import Registry, discover_modules


def make() -> Registry[int]:
    return Registry("thing", "segrepro.tests-none")


def test_duplicate_names_raise():
    reg = make()
    reg.register("a", 1)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a", 2)


def test_unknown_name_lists_known_and_suggests():
    reg = make()
    reg.register("unet-dice", 1)
    reg.register("xnet", 2)
    with pytest.raises(UserError, match=r"Did you mean 'unet-dice'.*Known: unet-dice, xnet"):
        reg.get("unet-dlce")


def test_decorator_registers_factory_value():
    reg = make()

    @reg.decorator("seven")
    def seven() -> int:
        return 7

    assert reg.get("seven") == 7
    assert reg.names() == ["seven"]


@pytest.mark.parametrize("name", ["../../x", "/abs/x", "a/b", "UPPER", "a..b", "", ".hidden", "-dash", "x" * 201, 3])
def test_ids_that_are_not_slugs_are_refused(name):
    with pytest.raises(UserError, match="not a valid name"):
        make().register(name, 1)


@pytest.fixture
def plugin_tree(tmp_path, monkeypatch):
    """A package ``fakepkg`` with a registry and two paper subpackages, one without an entry module."""
    root = tmp_path / "fakepkg"
    files = {
        "__init__.py": "",
        "registry.py": """
            from segrepro.registry import Registry
            THINGS = Registry("thing", "segrepro.tests-none", package="fakepkg", entry_module="entries")
        """,
        "helpers.py": "raise AssertionError('only entry modules are imported')",
        "paper_a/__init__.py": "",
        "paper_a/entries.py": """
            from fakepkg.registry import THINGS
            THINGS.decorator("a-one")(lambda: 1)
        """,
        "paper_b/__init__.py": "",
        "paper_b/entries.py": "",
        "paper_b/network.py": "raise AssertionError('only entry modules are imported')",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in [m for m in sys.modules if m == "fakepkg" or m.startswith("fakepkg.")]:
        del sys.modules[name]


def test_a_new_package_is_discovered_without_a_hand_edit(plugin_tree):
    assert discover_modules("fakepkg", "entries") == ["fakepkg.paper_a.entries", "fakepkg.paper_b.entries"]
    from fakepkg.registry import THINGS

    assert THINGS.names() == ["a-one"]  # imports the entry modules only (the others raise on import)
    assert THINGS.modules() == {"fakepkg.paper_a.entries": ["a-one"], "fakepkg.paper_b.entries": []}


def test_a_subpackage_that_fails_to_import_is_an_error_not_skipped(plugin_tree, tmp_path):
    (tmp_path / "fakepkg" / "paper_c").mkdir()
    (tmp_path / "fakepkg" / "paper_c" / "__init__.py").write_text("import no_such_module_anywhere\n")
    with pytest.raises(ModuleNotFoundError, match="no_such_module_anywhere"):
        discover_modules("fakepkg", "entries")
