"""Package discovery for segrepro's layout; everything else is in pyproject.toml.

Four top-level folders map onto one import namespace (``package_dir``), so that nothing installs a
top-level module named ``datasets`` (it would shadow Hugging Face's). ``[tool.setuptools.packages.find]``
cannot prefix what it finds with that namespace, so the walk is here: every package under each mapped
folder is installed, and a new one (a paper's baselines) needs no edit. Folders of package data without
an ``__init__.py`` (``schemas``) count as packages too, so their files are installed without a warning.
"""

from setuptools import find_namespace_packages, setup

PACKAGE_DIR = {
    "segrepro": "benchmark",
    "segrepro.datasets": "datasets",
    "segrepro.baselines": "baselines",
    "segrepro.leaderboard": "leaderboard",
}


def packages() -> list[str]:
    """Each mapped package and, prefixed with its name, every folder below it (caches excluded)."""
    return [
        found
        for name, folder in PACKAGE_DIR.items()
        for found in (name, *(f"{name}.{sub}" for sub in find_namespace_packages(folder, exclude=["*__pycache__*"])))
    ]


setup(package_dir=PACKAGE_DIR, packages=packages())
