"""The tiers, spelled once: ``smoke`` (seconds, CI), ``quick`` (minutes on a laptop CPU), ``paper`` (the
paper's recipe, GPU). Torch-free so that the CLI can offer them without importing torch."""

from typing import Literal

TIERS = ("smoke", "quick", "paper")
Tier = Literal["smoke", "quick", "paper"]
