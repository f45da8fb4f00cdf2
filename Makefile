# The two commands of the README:  `make benchmark`  and  `make test`.
# Each sets everything up in .venv on a fresh machine, then runs.

VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch first, pinned, so the package's torch range is already satisfied: on the reference machine
# this takes a CPU build from local disk instead of a multi-GB CUDA build. Override elsewhere,
# e.g. `make benchmark TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"`.
TORCH_SPEC ?= torch==2.13.0
# --durations: the slowest tests are listed at the end of every run, CI's included, to keep the suite fast
PYTEST_ARGS ?= --durations=15

.PHONY: benchmark test lint install

install: $(STAMP)

# setuptools prints a 10-line notice on every editable install ("Editable installation. ... be
# careful with folders named like your package"); it is information only, so it is filtered out.

$(STAMP): pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH_SPEC)
	PYTHONWARNINGS="ignore:Editable installation" $(PY) -m pip install -q --disable-pip-version-check -e ".[dev,cluster]"
	@# dvc.lock: the committed one records the reference benchmark; every run rewrites its output hashes (records
	@# carry times), so git is told not to report this clone's rewrites (undo: git update-index --no-skip-worktree dvc.lock)
	-@git update-index --skip-worktree dvc.lock 2>/dev/null
	touch $(STAMP)

benchmark: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" dvc repro
	@echo "Leaderboard table: results/leaderboard.csv"
	@echo "Open the leaderboard with: $(BIN)/segrepro leaderboard   (then browse http://127.0.0.1:8501)"

# pytest's exit code 5 (no tests collected) is a failure of the suite, not a success.
test: $(STAMP)
	@bash tests/setup_browser.sh
	PATH="$(abspath $(BIN)):$$PATH" $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the suite fails" >&2; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
