"""Baseline entries: each paper's model + loss + decision rule + recipe per tier, in one registry.

Entries in this repo register with ``@register_baseline``; an outside package registers through the
``segrepro.baselines`` entry-point group (see the README), so a new method never needs a fork.
"""

from segrepro.baselines.registry import BASELINES, get_baseline, register_baseline
from segrepro.entry import TIERS, BaselineEntry, Recipe

__all__ = ["BASELINES", "TIERS", "BaselineEntry", "Recipe", "get_baseline", "register_baseline"]
