"""The base models and regions the emulator accepts, read from its own `models.yaml`.

Deliberately independent of `bot.tuning.catalogue`: the emulator stands in for Google, so it
must not learn what to accept from the code it is testing.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class ModelRule:
    """What Google accepts for one base model."""

    model_id: str
    adapter_sizes: frozenset[int]
    regions: frozenset[str]
    retired_on: dt.date | None = None
    serving_family: bool = False  # tuned endpoints are served from a multi-region location

    def accepted_on(self, day: dt.date) -> bool:
        """Whether a create on `day` is accepted (not retired yet)."""
        return self.retired_on is None or day < self.retired_on


@dataclass(frozen=True)
class ModelTable:
    """Every known base model, and where tuned endpoints are served."""

    models: dict[str, ModelRule]
    multi_region: dict[str, str]

    def get(self, model_id: str) -> ModelRule | None:
        """The rule for `model_id`, or None for a model Google does not know."""
        return self.models.get(model_id)

    def serving_location(self, model_id: str, region: str) -> str:
        """Location of the tuned endpoint of a job of `model_id` that ran in `region`."""
        rule = self.models.get(model_id)
        if rule is not None and rule.serving_family:
            return self.multi_region.get(region, region)
        return region


def _rule(model_id: str, raw: dict[str, Any], many: frozenset[str]) -> ModelRule:
    regions = raw.get("regions", "many")
    retired_on = raw.get("retired_on")
    if raw.get("retired"):
        retired_on = dt.date.min
    elif isinstance(retired_on, str):
        retired_on = dt.date.fromisoformat(retired_on)
    return ModelRule(
        model_id=model_id,
        adapter_sizes=frozenset(int(size) for size in raw.get("adapter_sizes") or ()),
        regions=many if regions == "many" else frozenset(regions),
        retired_on=retired_on,
        serving_family=raw.get("serving") == "multi-region",
    )


def parse_table(text: str) -> ModelTable:
    """A ModelTable from YAML text in the shape of `models.yaml`."""
    data = yaml.safe_load(text)
    many = frozenset(data.get("many_regions") or ())
    models = {name: _rule(name, raw, many) for name, raw in data["models"].items()}
    return ModelTable(models=models, multi_region=dict(data.get("multi_region") or {}))


@functools.cache
def default_table() -> ModelTable:
    """The table shipped next to this module."""
    text = resources.files("bot.emulator").joinpath("models.yaml").read_text("utf-8")
    return parse_table(text)
