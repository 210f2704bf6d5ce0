# `make test`: create .venv, install lrkit with every extra, lint, type-check, run all tests.
# `make demo`: create .venv, install lrkit with what the demo needs (lrkit[demo]), run `lrkit demo`.
# `make install-bench`: `make install`, plus what benchmarks/ needs (lrkit[bench]).
VENV ?= .venv
PY := $(VENV)/bin/python
SUM := $(shell cat pyproject.toml constraints-test.txt | cksum | cut -d' ' -f1)
# One stamp per install, named by the checksum: editing pyproject.toml reinstalls.
# The full install covers the demo's (a superset), so it stamps both.
STAMP := $(VENV)/.installed-all-$(SUM)
DEMO_STAMP := $(VENV)/.installed-demo-$(SUM)
BENCH_STAMP := $(VENV)/.installed-bench-$(SUM)
PIP_INSTALL := $(PY) -m pip install -q --disable-pip-version-check -c constraints-test.txt

.PHONY: install install-demo install-bench test lint demo data clean

$(STAMP): pyproject.toml constraints-test.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) -U pip
	$(PIP_INSTALL) -e ".[all,dev]"
	rm -f $(VENV)/.installed-*; touch $(STAMP) $(DEMO_STAMP)

# The demo's install skips byte-compiling TensorFlow's many modules (half the install time):
# Python compiles only the modules the demo imports, once, on its first run.
$(DEMO_STAMP): pyproject.toml constraints-test.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) -U pip
	$(PIP_INSTALL) --no-compile -e ".[demo]"
	rm -f $(VENV)/.installed-demo-*; touch $(DEMO_STAMP)

$(BENCH_STAMP): $(STAMP)
	$(PIP_INSTALL) -e ".[all,dev,bench]"
	rm -f $(VENV)/.installed-bench-*; touch $(BENCH_STAMP)

install: $(STAMP)

install-demo: $(DEMO_STAMP)

install-bench: $(BENCH_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src

# The gate is deterministic: Hypothesis draws the same examples on every run (tests/conftest.py).
test: export HYPOTHESIS_PROFILE = ci
test: lint
	$(VENV)/bin/pytest
	KERAS_BACKEND=jax $(VENV)/bin/pytest tests/test_keras_backends.py
	KERAS_BACKEND=torch $(VENV)/bin/pytest tests/test_keras_backends.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet --site-dir site

# Real Fashion-MNIST for the demo and the tests, from Debian's package (offline, MIT licence),
# when running as root on Debian/Ubuntu; otherwise lrkit falls back to scikit-learn's digits.
data:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then \
	  apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null && apt-get install -y -q dataset-fashion-mnist >/dev/null) || \
	  echo "note: dataset-fashion-mnist not installed; the demo uses scikit-learn's digits"; \
	fi

demo: $(DEMO_STAMP) data
	$(VENV)/bin/lrkit demo

clean:
	rm -rf $(VENV) site lrkit-demo .pytest_cache .mypy_cache .ruff_cache
