# Two commands for learners:
#   make lab    create .venv (first run only), install the course, open JupyterLab on notebooks/
#   make test   same setup, then the whole test suite (unit tests, hygiene, strict nbval)
# Others:
#   make notebooks   re-execute every notebook in place (Restart & Run All) and save the outputs,
#                    then warn about any saved output that changes under another BLAS kernel
#   make test-portable   strict nbval again under other OpenBLAS kernels, numpy's baseline SIMD
#                    path and two BLAS threads (tools/portable_check.py; CI runs it)
#   make benchmark   print the speed figures quoted in the README
#   make test-browser   every notebook in JupyterLab in a real Chromium (tests_browser/; needs
#                       /usr/bin/chromium: installed with apt-get when missing and run as root)
#   make gallery     the same run, writing one screenshot per explorer to docs/gallery/
#   make clean       remove .venv and caches
#
# Works with GNU make 3.81+ (macOS's /usr/bin/make) and bash 3.2+.
# Choose the interpreter with `make lab PYTHON=/path/to/python3.12`.

SHELL := /bin/bash
VENV := .venv
VENV_PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON_CANDIDATES := python3.13 python3.12 python3.11 python3
# One BLAS/OpenMP thread: deterministic sums and no thread thrashing on small CI machines.
THREADS := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# Jupyter refuses to run as root unless told to (containers, CI).
ROOT_FLAG = $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-portable notebooks benchmark clean setup test-browser gallery

setup: $(STAMP)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/ $(ROOT_FLAG)

# No MPLBACKEND here on purpose: the kernels nbval starts inherit the environment, and
# MPLBACKEND=Agg would replace the inline backend, so plt.show() would display nothing.
test: $(STAMP)
	$(THREADS) $(VENV_PY) -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

# Pass notebooks with NB, e.g. `make notebooks NB=notebooks/05_normalization.ipynb`.
NB ?=
notebooks: $(STAMP)
	$(THREADS) $(VENV_PY) tools/run_notebooks.py $(NB)
	$(VENV_PY) tools/portable_check.py --warn-only $(NB)

# The same outputs on every machine: see tools/portable_check.py and the README.
test-portable: $(STAMP)
	$(VENV_PY) tools/portable_check.py --kernels 3

benchmark: $(STAMP)
	$(VENV_PY) benchmarks/run_all.py

# JupyterLab in the system Chromium driven by Playwright (extra `browser`), on a temporary
# copy of notebooks/. Separate from `make test` on purpose: it needs a browser.
# Pass pytest options with BROWSER_ARGS, e.g. `make test-browser BROWSER_ARGS="-k 01_"`.
CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := $(VENV)/.installed-browser
BROWSER_ARGS ?=

test-browser: $(BROWSER_STAMP)
	@bash tools/ensure_chromium.sh "$(CHROMIUM)"
	$(THREADS) CHROMIUM="$(CHROMIUM)" $(VENV_PY) -m pytest tests_browser -p no:cacheprovider $(BROWSER_ARGS)

gallery: $(BROWSER_STAMP)
	@bash tools/ensure_chromium.sh "$(CHROMIUM)"
	$(THREADS) CHROMIUM="$(CHROMIUM)" $(VENV_PY) -m pytest tests_browser -p no:cacheprovider \
		--gallery docs/gallery $(BROWSER_ARGS)

$(BROWSER_STAMP): pyproject.toml $(STAMP)
	$(VENV_PY) -m pip install --disable-pip-version-check -e ".[test,browser]"
	@touch $(BROWSER_STAMP)

# Install (again) only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(VENV_PY)
	$(VENV_PY) -m pip install --disable-pip-version-check -e ".[test]"
	@touch $(STAMP)

$(VENV_PY):
	@py="$(PYTHON)"; \
	if [ -z "$$py" ]; then \
		for cand in $(PYTHON_CANDIDATES); do \
			if command -v "$$cand" >/dev/null 2>&1 && \
			   "$$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then \
				py="$$cand"; break; \
			fi; \
		done; \
	fi; \
	if [ -z "$$py" ]; then \
		echo "error: this course needs Python 3.11 or newer; none of $(PYTHON_CANDIDATES) is." >&2; \
		echo "       Install Python 3.11+ (python.org, Homebrew, apt, pyenv), or pass one: make $(or $(MAKECMDGOALS),lab) PYTHON=/path/to/python3.12" >&2; \
		exit 1; \
	fi; \
	if ! "$$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; then \
		echo "error: $$py is not Python 3.11 or newer: $$("$$py" --version 2>&1)" >&2; exit 1; \
	fi; \
	echo "Creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
	"$$py" -m venv $(VENV) || { \
		rm -rf $(VENV); \
		echo "error: '$$py -m venv' failed (on Debian/Ubuntu: sudo apt install python3-venv)" >&2; exit 1; }

clean:
	rm -rf $(VENV) .pytest_cache build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
