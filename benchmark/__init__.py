"""segrepro: a reproducibility benchmark for class-imbalanced microscopy segmentation.

The engine (protocol, metrics, run records, CLI) lives here; dataset adapters in
``segrepro.datasets``, baseline entries in ``segrepro.baselines``, the app in
``segrepro.leaderboard``.
"""

__version__ = "0.1.0"
