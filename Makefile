# The two set-up commands of the README: `make book` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: book pins check-book test test-latest mutants retrain update run-all handouts practice notebooks lock tex clean
# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The exact versions CI runs (requirements-lock.txt, `make lock` regenerates it), then the
# reader's package (isldl, code/) and the book's tooling (isldl_book, book_tools/). CPU_TORCH=1: torch and torchvision of the lock in their CPU-only builds, from
# PyTorch's index, without the CUDA packages (nvidia-*, cuda-*, triton) of PyPI's Linux wheel.
LOCK := requirements-lock.txt
CPU_INDEX := https://download.pytorch.org/whl/cpu
CUDA_ONLY := ^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==
define install_locked
	$(PYTHON) -m venv $(VENV)
	if [ -n "$(CPU_TORCH)" ]; then \
	  $(PY) -m pip install --quiet --index-url $(CPU_INDEX) \
	    $$(grep -E '^torch(vision)?==' $(LOCK) | sed -E 's/ *;.*//; s/$$/+cpu/') \
	  && grep -vE '$(CUDA_ONLY)' $(LOCK) > $(VENV)/lock-cpu.txt \
	  && $(PY) -m pip install --quiet -r $(VENV)/lock-cpu.txt; \
	else $(PY) -m pip install --quiet -r $(LOCK); fi
	$(PY) -m pip install --quiet --no-deps --editable . --editable book_tools
endef

$(VENV)/.installed-test: pyproject.toml $(LOCK)
	$(install_locked)
	touch $@

# Quarto: the one on PATH if there is one (>= 1.6.34), else the `quarto-cli` package.
QUARTO := $(shell command -v quarto || echo $(VENV)/bin/quarto)

$(VENV)/.installed-book: $(VENV)/.installed-test
	command -v quarto >/dev/null || $(PY) -m pip install --quiet --editable ".[quarto]"
	touch $@

## Install, then render the book (HTML and PDF) with Quarto into _book/; the log goes to
## build/render.log. Each format runs every chapter (no freezing: see the README), and a
## full render of one format empties _book/, so the PDF is kept aside while the HTML renders.
## Then each chapter's executed notebook (the one Quarto ran for its page, kept by keep-ipynb)
## and its practice notebook go into _book/notebooks/, for the links under each chapter's title.
book: $(VENV)/.installed-book tex pins
	mkdir -p build
	rm -rf _book build/pdf chapters/*.quarto_ipynb
	set -o pipefail; (QUARTO_PYTHON=$(PY) $(QUARTO) render --to pdf && mkdir build/pdf \
	  && mv _book/*.pdf build/pdf/ \
	  && QUARTO_PYTHON=$(PY) $(QUARTO) render --to html && mv build/pdf/*.pdf _book/) \
	  2>&1 | tee build/render.log
	$(PY) -m isldl_book.notebooks downloads

## Train once each pin that is missing because its data could not be had where the pins were
## made (results/<fit>/missing.json), where that data can be had now: the fit, why and about how
## long are announced, with a progress bar. Commit the new results/<fit>/ afterwards.
pins: $(VENV)/.installed-test
	$(PY) -m isldl_book.train_missing

## Check the rendered book (after `make book`): numbering, references, pages, the log.
check-book: $(VENV)/.installed-test
	$(PY) -m pytest book_checks

## Install, then run the tests (chapters run in fast mode; pinned results loaded; handouts),
## after training the pins whose data can be had now (`pins`), as the render would load them.
test: $(VENV)/.installed-test tex pins
	$(PY) -m pytest

## The tests against the newest versions that pyproject.toml allows instead of the lock, in their
## own .venv-latest (CPU_TORCH=1: torch's CPU build, from PyTorch's index beside PyPI).
LATEST := .venv-latest
test-latest: tex
	rm -rf $(LATEST) && $(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/python -m pip install --quiet --upgrade \
	  $(if $(CPU_TORCH),--index-url $(CPU_INDEX) --extra-index-url https://pypi.org/simple) \
	  --editable ".[test,book]" --editable book_tools
	$(LATEST)/bin/python -m pip list --format=freeze > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m isldl_book.train_missing
	$(LATEST)/bin/python -m pytest

## Put each listed bug into a copy of the package and check that the tests catch it.
mutants: $(VENV)/.installed-test
	$(PY) tests/mutants.py

## The LaTeX that Quarto's PDF needs, pandoc and the PDF tools: Debian/Ubuntu
## packages (fontawesome5 for Quarto's callouts is in texlive-fonts-extra). Elsewhere, or
## without root, `quarto install tinytex` where the network allows.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended texlive-fonts-extra texlive-plain-generic lmodern pandoc poppler-utils
tex:
	@command -v xelatex >/dev/null && command -v pandoc >/dev/null && command -v pdftotext >/dev/null \
	  && kpsewhich fontawesome5.sty >/dev/null \
	|| ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
		$(TEX_PACKAGES))

## One PDF per chapter in handouts/: the chapter's pages of the book's PDF (after `make book`),
## its solutions' pages and the references.
handouts: $(VENV)/.installed-test
	$(PY) -m isldl_book.handouts

## One practice notebook per chapter in practice/: prose kept, exercises in place of code.
practice: $(VENV)/.installed-test
	$(PY) -m isldl_book.notebooks practice

## The Colab notebooks (notebooks/, committed): one per chapter of _quarto.yml, whose first cell
## installs the package at the release's tag (pyproject.toml's version), and notebooks/links.json.
notebooks: $(VENV)/.installed-test
	$(PY) -m isldl_book.notebooks colab

## The lock file: isldl's requirements and its test and book extras, resolved by uv for every
## Python that isldl declares (3.10 and newer) on Linux, macOS and Windows, each line with the
## markers where it applies. uv keeps the lock's versions where they still fit (upgrade one
## with `make lock UV_ARGS="--upgrade-package numpy"`).
lock: $(VENV)/.installed-test
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra book --universal \
	  --python-version 3.10 --custom-compile-command "make lock" $(UV_ARGS) -o $(LOCK)

## Train every pinned result again at the source's budgets and save it under results/,
## timing each chapter; a chapter whose data cannot be had is reported as skipped (exit 0).
retrain: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --mode retrain --save benchmarks/chapter_times_retrained.md

## Train again only the pinned results that are missing, stale or damaged (after a change to
## the code that trains them), loading the others.
update: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --mode update

## Run every chapter with its pinned results, two at a time (a core each), timing each and the
## whole book (see benchmarks/README.md).
run-all: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --repeats 3 --jobs 2 --save benchmarks/chapter_times_pinned.md

clean:
	rm -rf _book build .quarto handouts practice
