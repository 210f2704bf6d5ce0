# `make test`: create .venv, install lrkit with every extra (and Chromium where it can), lint,
# type-check, build the docs strictly, run all tests (the browser check reads that build).
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

.PHONY: install install-demo install-bench test lint browser demo data clean

$(STAMP): pyproject.toml constraints-test.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP_INSTALL) -U pip
	$(PIP_INSTALL) -e ".[all,dev]"
	@# fastai (whose range-test rules the tests compare with) requires torchvision, but the only
	@# torchvision wheel here does not match the pinned CPU torch (importing it fails); the
	@# rules need none of it, and a broken torchvision would break whatever probes for it.
	$(PY) -m pip uninstall -y -q torchvision
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
	$(PY) -m pip uninstall -y -q torchvision  # pulled in again by fastai: see above
	rm -f $(VENV)/.installed-bench-*; touch $(BENCH_STAMP)

install: $(STAMP)

install-demo: $(DEMO_STAMP)

install-bench: $(BENCH_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src

# The gate is deterministic: Hypothesis draws the same examples on every run (tests/conftest.py).
# Any warning fails the docs build (strict, and not --quiet, which would hide the warnings).
# The tests that start training processes (kill/resume, distributed: `-m processes`) mostly wait
# on their children, and a few long self-contained ones (`-m beside`: the fuzz harness, the text
# benchmark's end-to-end run) keep one core busy alone; they run in a second pytest beside the
# main one, so both cores work. Its report is printed after the main one's, and either failing
# fails `make test`.
test: export HYPOTHESIS_PROFILE = ci
test: lint browser
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site
	@log=$$(mktemp); \
	$(VENV)/bin/pytest -m "processes or beside" >$$log 2>&1 & others=$$!; \
	LRKIT_SITE_DIR=site $(VENV)/bin/pytest -m "not processes and not beside"; main=$$?; \
	wait $$others; processes=$$?; \
	echo "== pytest -m 'processes or beside' (ran beside the main run) =="; cat $$log; rm -f $$log; \
	echo "main pytest: exit $$main; pytest -m 'processes or beside': exit $$processes"; \
	test $$main -eq 0 && test $$processes -eq 0
	KERAS_BACKEND=jax $(VENV)/bin/pytest tests/test_keras_backends.py
	KERAS_BACKEND=torch $(VENV)/bin/pytest tests/test_keras_backends.py

# Debian's headless Chromium for tests/test_browser.py, installed when running as root on
# Debian/Ubuntu; elsewhere that test skips and says why.
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	    (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null) || \
	    echo "note: chromium could not be installed; the browser check will skip"; \
	  else \
	    echo "note: no chromium (needs root and apt-get to install); the browser check will skip"; \
	  fi; \
	fi

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
	rm -rf $(VENV) site lrkit-demo tests/artifacts .pytest_cache .mypy_cache .ruff_cache
