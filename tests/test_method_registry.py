"""The method registry agrees with the schema and the configs; the methods' schedules."""

import dataclasses
import math

import pytest
import yaml
from tiny_methods import (
    ROOT,
    TINY,
)

from sslbench.methods import METHODS
from sslbench.methods.schedules import cosine_increase, linear_warmup
from sslbench.recipes import method_params

pytestmark = pytest.mark.usefixtures("one_thread")


def test_registry_schema_and_configs_agree():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    enum = schema["properties"]["pretrain"]["properties"]["methods"]["items"]["enum"]
    blocks = schema["properties"]["methods"]["properties"]
    assert set(enum) == set(METHODS) == set(blocks) == set(TINY)
    default = yaml.safe_load((ROOT / "config/config.yaml").read_text())["methods"]
    tiny = yaml.safe_load((ROOT / ".test/config/test.yaml").read_text())["methods"]
    for name, (spec_cls, _) in METHODS.items():
        fields = {f.name for f in dataclasses.fields(spec_cls)}
        assert set(blocks[name]["required"]) == fields, name
        assert set(method_params({"methods": default}, name)) == fields, name
        assert fields == set(tiny[name]) == set(TINY[name]), name


def test_cosine_momentum_schedule_and_linear_warmup():
    for p in (0.0, 0.25, 0.5, 0.9, 1.0):
        expected = 1.0 - (1.0 - 0.99) * (math.cos(math.pi * p) + 1) / 2  # BYOL §3.2
        assert cosine_increase(p, 0.99, 1.0) == pytest.approx(expected)
    with pytest.raises(ValueError):
        cosine_increase(1.5, 0.99, 1.0)
    assert linear_warmup(0.0, 0.04, 0.07, 0.1) == pytest.approx(0.04)
    assert linear_warmup(0.05, 0.04, 0.07, 0.1) == pytest.approx(0.055)
    assert linear_warmup(0.5, 0.04, 0.07, 0.1) == pytest.approx(0.07)
