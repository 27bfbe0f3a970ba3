# The two set-up commands of the README:  make book  (build the book into _build/html)
#                                         make test  (build the book, then unit tests + every notebook
#                                                     in quick mode + the built pages in Chromium, then the
#                                                     unit tests again with another BLAS thread count)
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: book test data browser studies benchmarks clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[book,test]"
	touch $@

# Fashion-MNIST from Debian (needs root); elsewhere the loader downloads it into ~/.cache/tpnb.
data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	fi

# Headless Chromium and its driver for tests/browser, from Debian (needs root; elsewhere install them).
browser:
	@if ! { command -v chromium && command -v chromedriver; } >/dev/null \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# The rendered book: every notebook executed in full mode, plotting the committed study results. It never
# trains: `tpnb.studies status` first stops the build, naming every stale or missing run and the command
# that regenerates it (a study whose regeneration is under way shows its previous complete results).
book: $(BIN)/.installed data
	$(BIN)/python -m tpnb.studies status --quiet --allow-previous
	$(BIN)/jupyter-book build --warningiserror --keep-going .

# The book (as `make book`), then the unit tests, every notebook under nbval with studies shrunk by
# TPNB_QUICK=1, and tests/browser, which opens every page of the built book in headless Chromium, all with
# two BLAS threads; then the unit tests alone again with one. OpenBLAS's summation order changes with the
# thread count (as with the CPU it picks its kernels for), and every test must pass under both.
test: $(BIN)/.installed data browser book
	TPNB_QUICK=1 OPENBLAS_NUM_THREADS=2 $(BIN)/python -m pytest
	TPNB_QUICK=1 OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest tests --ignore=tests/browser

# Regenerate every stale or missing committed study result (full mode; resumes where it stopped) on two
# worker processes with one BLAS thread each, as the committed results were computed.
studies: $(BIN)/.installed data
	$(BIN)/python -m tpnb.studies run all --workers 2

# Seconds per epoch and peak memory of every rule against backprop (prints a table; see benchmarks/README.md).
benchmarks: $(BIN)/.installed data
	$(BIN)/python -m benchmarks

clean:
	rm -rf _build results/quick
