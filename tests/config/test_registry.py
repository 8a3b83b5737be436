import re

import pytest

from model_collapse.config.registry import Registry
from model_collapse.core.errors import UserInputError


def test_register_look_up_and_list():
    registry: Registry[int] = Registry("widget")
    registry.register("beta")(2)
    registry.register("alpha")(1)
    assert registry.get("alpha") == 1
    assert registry.names() == ["alpha", "beta"]
    assert registry.items() == [("beta", 2), ("alpha", 1)]  # registration order


def test_unknown_name_suggests_and_lists():
    registry: Registry[int] = Registry("widget")
    registry.register("gaussian")(1)
    registry.register("gmm")(2)
    message = "unknown widget 'gausian'; did you mean 'gaussian'? Available: gaussian, gmm"
    with pytest.raises(UserInputError, match=re.escape(message)):
        registry.get("gausian")
    with pytest.raises(UserInputError, match=re.escape("unknown widget 'zzz'; Available:")):
        registry.get("zzz")


def test_a_name_registers_once():
    registry: Registry[int] = Registry("widget")
    registry.register("a")(1)
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("a")(2)
