import pytest

from segrepro.errors import UserError
from segrepro.registry import Registry


def make() -> Registry[int]:
    return Registry("thing", "segrepro.tests-none", builtin_modules=())


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
