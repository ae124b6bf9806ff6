# Solo's two entry points: `make run` and `make test`. Both do the whole set-up on a fresh
# Debian/Ubuntu machine with Python 3.11, gcc and cmake, and a second run does no rebuild
# and no download (each step is guarded by a stamp file or is idempotent).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
INSTALLED := $(VENV)/.solo-installed
LOCK := requirements.lock
# llama-cpp-python has no wheel on PyPI for this platform: scripts/install-llama.sh compiles
# it once per machine and flag set (instruction sets chosen from /proc/cpuinfo, never
# native, never AMX; CUDA with SOLO_GPU=cuda) and caches the wheel.
LLAMA_REQUIREMENT := $(shell grep -o '"llama-cpp-python[^"]*"' pyproject.toml | tr -d '"')

.PHONY: run test setup llama system-deps models selfcheck third-party lint bench clean peers bench-peers lock

run: setup
	$(PY) run.py

test: setup
	$(PY) -m pytest

setup: $(INSTALLED) llama system-deps models selfcheck third-party peers

# Test peers whose pins conflict with ours, each in a venv of its own under .peers/.
# wyoming-satellite 1.0.0 pins wyoming==1.4.1 (ours is newer): the room tests run two of it.
SATELLITE := .peers/wyoming-satellite
SATELLITE_STAMP := $(SATELLITE)/.installed-1.0.0
# The Wyoming services the remote engines are tested against (tests/voice/test_remote_engines.py)
# and Solo's server is benchmarked against (bench/bench_wyoming.py), on Solo's model files;
# wyoming-bench measures them.
PEER_PINS := wyoming-piper==2.5.2 wyoming-faster-whisper==3.8.1 wyoming-openwakeword==1.8.2 \
	wyoming-bench==2026.10.0
# tflite-runtime, which wyoming-openwakeword runs its models on, is built against numpy 1.
PEER_EXTRA_wyoming-openwakeword := 'numpy<2'
ENGINE_PEERS := wyoming-piper wyoming-faster-whisper wyoming-openwakeword
peers: $(SATELLITE_STAMP) $(ENGINE_PEERS:%=.peers/%/.installed)

$(SATELLITE_STAMP): | $(UV)
	@echo "==> test peer: wyoming-satellite 1.0.0 in $(SATELLITE)"
	$(UV) venv --quiet --allow-existing --python $(PY) $(SATELLITE)
	$(UV) pip install --quiet --python $(SATELLITE)/bin/python 'wyoming-satellite==1.0.0'
	@touch $@

bench-peers: $(foreach peer,$(PEER_PINS),.peers/$(firstword $(subst ==, ,$(peer)))/.installed)

.peers/%/.installed: | $(UV)
	@echo "==> peer: $(filter $*==%,$(PEER_PINS)) in .peers/$*"
	$(UV) venv --quiet --allow-existing --python $(PY) .peers/$*
	$(UV) pip install --quiet --python .peers/$*/bin/python '$(filter $*==%,$(PEER_PINS))' \
		$(PEER_EXTRA_$*)
	@touch $@

$(PY):
	@echo "==> creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

# uv resolves and installs the ~170 packages of the stack in seconds instead of minutes.
$(UV): | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<0.14'

$(INSTALLED): pyproject.toml $(LOCK) | $(UV)
	@scripts/install-llama.sh $(PY) '$(LLAMA_REQUIREMENT)'
	@echo "==> installing Solo and its dependencies (versions from $(LOCK))"
	$(UV) pip install --quiet --python $(PY) -e '.[dev]' --constraint $(LOCK)
	@touch $@

# The version of every dependency, direct or not, that the suite last passed with, for every
# platform: set-up installs those, so a fresh clone gets what was tested rather than the day's
# newest releases (one of which once dropped a package the tests import). `make lock` adds
# what pyproject.toml gained and keeps every other pin it still allows; `make lock
# LOCK_FLAGS=--upgrade` takes the newest releases within pyproject.toml's ranges.
LOCK_FLAGS ?=
lock: | $(UV)
	$(UV) pip compile pyproject.toml --extra dev --universal --python-version 3.11 --quiet \
		$(LOCK_FLAGS) -o $(LOCK)

system-deps:
	@scripts/system-deps.sh

# Idempotent: a model already on disk and verified is skipped in well under a second.
models: $(INSTALLED)
	@echo "==> models: pulling the catalog's defaults (models/catalog.toml)"
	$(PY) run.py models pull --defaults

# A no-op when the installed build has the flags wanted now; a new flag set (SOLO_GPU=cuda
# on a venv that has the CPU build, say) is built or taken from the cache and installed.
llama: $(INSTALLED)
	@scripts/install-llama.sh $(PY) '$(LLAMA_REQUIREMENT)'

# After every set-up: llama.cpp decodes a few tokens in a subprocess; a crash rebuilds once
# with the conservative flags, and a second crash stops set-up with the cause.
selfcheck: llama models
	@scripts/llama-selfcheck.sh $(PY) '$(LLAMA_REQUIREMENT)'

# THIRD_PARTY.md follows what is installed: every runtime dependency's and model's licence.
third-party: $(INSTALLED)
	$(PY) scripts/third_party.py

# ruff (lint and format) everywhere; mypy --strict on the supervisors library.
lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict supervisors
	$(VENV)/bin/mypy solo_actors

bench: setup bench-peers
	@for bench in bench/bench_*.py; do echo "==> $$bench"; $(PY) $$bench; done

clean:
	rm -rf $(VENV) .peers .pytest_cache .ruff_cache
