# The two set-up commands of the README: `make book` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: book student release check-release browser pins check-book test test-quick test-simulated test-latest mutants retrain update rekey run-all \
	handouts practice notebooks lock tex quarto-version clean
# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The exact versions CI runs (requirements-lock.txt, `make lock` regenerates it), then the
# reader's package (isldl, code/) and the book's tooling (isldl_book, book_tools/).
#
# torch's build. CPU_TORCH=1: the CPU-only build of the lock's torch and torchvision, from
# PyTorch's index, without the CUDA packages (nvidia-*, cuda-*, triton) of PyPI's Linux wheel;
# CPU_TORCH=0: PyPI's build (on Linux the CUDA one). Unset: the CPU-only build on Linux without
# an NVIDIA GPU (no nvidia-smi, no /proc/driver/nvidia), falling back to PyPI's, with a warning,
# where PyTorch's index cannot be reached; PyPI's elsewhere (on macOS and Windows it is the
# build for the machine).
LOCK := requirements-lock.txt
CPU_INDEX := https://download.pytorch.org/whl/cpu
CUDA_ONLY := ^(torch|torchvision|triton|nvidia-[a-z0-9-]+|cuda-[a-z-]+)==
NVIDIA_GPU := $(shell command -v nvidia-smi >/dev/null || [ -e /proc/driver/nvidia ] && echo yes)
ifeq ($(origin CPU_TORCH),undefined)
  ifeq ($(shell uname -s)$(NVIDIA_GPU),Linux)
    TORCH_BUILD := cpu-else-pypi
    TORCH_WHY := the CPU-only build, as this is Linux without an NVIDIA GPU (CPU_TORCH=0: PyPI's CUDA build)
  else
    TORCH_BUILD := pypi
    TORCH_WHY := PyPI's build, as this machine has an NVIDIA GPU or is not Linux (CPU_TORCH=1: the CPU-only build)
  endif
else ifeq ($(CPU_TORCH),1)
  TORCH_BUILD := cpu
  TORCH_WHY := the CPU-only build (CPU_TORCH=1)
else
  TORCH_BUILD := pypi
  TORCH_WHY := PyPI's build (CPU_TORCH=$(CPU_TORCH); on Linux the CUDA one)
endif
define install_locked
	$(PYTHON) -m venv $(VENV)
	@echo "torch: $(TORCH_WHY)"
	if [ "$(TORCH_BUILD)" != pypi ] && $(PY) -m pip install --quiet --retries 1 --timeout 30 \
	    --index-url $(CPU_INDEX) \
	    $$(grep -E '^torch(vision)?==' $(LOCK) | sed -E 's/ *;.*//; s/$$/+cpu/'); then \
	  grep -vE '$(CUDA_ONLY)' $(LOCK) > $(VENV)/lock-cpu.txt \
	  && $(PY) -m pip install --quiet -r $(VENV)/lock-cpu.txt; \
	elif [ "$(TORCH_BUILD)" = cpu ]; then \
	  echo "error: PyTorch's index $(CPU_INDEX) could not be reached (CPU_TORCH=1)" >&2; \
	  exit 1; \
	else \
	  if [ "$(TORCH_BUILD)" != pypi ]; then echo "warning: PyTorch's index $(CPU_INDEX)" \
	    "could not be reached: installing PyPI's torch instead, the CUDA build (3 GB more)" >&2; fi; \
	  $(PY) -m pip install --quiet -r $(LOCK); \
	fi
	$(PY) -m pip install --quiet --no-deps --editable . --editable book_tools
endef

$(VENV)/.installed-test: pyproject.toml $(LOCK)
	$(install_locked)
	touch $@

# Quarto: the one on PATH if there is one, else the `quarto-cli` package of the version the
# book is tested with (pyproject.toml's extra `quarto`, the one place that names it). Another
# minor version on PATH is used, with a warning: Quarto 1.8 changed the PDF engine's default.
QUARTO_VERSION := $(shell sed -nE 's/.*"quarto-cli==([0-9.]+)".*/\1/p' pyproject.toml)
QUARTO := $(shell command -v quarto || echo $(VENV)/bin/quarto)

$(VENV)/.installed-book: $(VENV)/.installed-test
	command -v quarto >/dev/null || $(PY) -m pip install --quiet --editable ".[quarto]"
	touch $@

quarto-version: $(VENV)/.installed-book
	@found=$$($(QUARTO) --version); case "$$found" in \
	  $(basename $(QUARTO_VERSION)).*) ;; \
	  *) echo "warning: the book is tested with Quarto $(QUARTO_VERSION); $(QUARTO) is" \
	       "Quarto $$found (install $(QUARTO_VERSION), or remove that one from PATH and" \
	       "make book installs it)" >&2 ;; esac

# The editions $(1) rendered (isldl_book.render), then their notebooks put beside them.
define render_editions
	rm -f chapters/*.quarto_ipynb
	PATH="$(dir $(QUARTO)):$$PATH" $(PY) -m isldl_book.render --editions $(1)
	$(PY) -m isldl_book.notebooks downloads --editions $(1)
endef

## Install, then render the book (HTML, PDF, EPUB) with Quarto into _book/; the log goes to
## build/render.log. Each page is executed once for every format, two at a time, through an
## execution cache that lives for this render alone (no freezing: see CONTRIBUTING.md); then
## the three formats are rendered at once from it (isldl_book.render).
## Then each chapter's executed notebook (the one Quarto ran for its page, kept by keep-ipynb)
## and its practice notebook go into _book/notebooks/, for the links under each chapter's title.
book: $(VENV)/.installed-book quarto-version tex pins
	$(call render_editions,instructor)

## The student edition alone (every exercise, no worked solution: _quarto-student.yml) into
## _book-student/, with its notebooks; `make release` renders both editions from one execution.
student: $(VENV)/.installed-book quarto-version tex pins
	$(call render_editions,student)

## A release for a course (build/release/isldl-<version>.zip, see isldl_book.release): both
## editions rendered from one execution of each page, their notebooks, their handouts, and
## each edition's website made to read offline; `make check-release` then checks it.
## RELEASE_ARGS=--book-results-only (the release workflow) refuses stand-in or fast pages.
release: $(VENV)/.installed-book quarto-version tex browser pins
	$(call render_editions,instructor student)
	$(PY) -m isldl_book.handouts
	$(PY) -m isldl_book.release $(RELEASE_ARGS)

check-release: $(VENV)/.installed-test
	$(PY) -m pytest book_checks -m release

# Install the Debian/Ubuntu packages $(1) where there is apt-get (through sudo unless root);
# elsewhere print $(2), what to install instead, and carry on.
apt_or_say = if command -v apt-get >/dev/null; then \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends $(1); \
	else echo $(2); fi

## What the browser checks and the release need: Debian's Chromium (driven by Playwright, from
## PyPI in the test extra) and epubcheck, installed as `make tex` installs TeX; MathJax and
## axe-core from npm at the versions, and with the integrity hashes, of
## book_checks/npm/package-lock.json (`npm ci` refuses a package whose hash differs).
BROWSER_MISSING = $(strip $(if $(or $(ISLDL_CHROMIUM),$(shell command -v chromium)),,chromium) \
	$(if $(shell command -v epubcheck),,epubcheck))
BROWSER_ELSEWHERE = "make browser: no apt-get here: install $(BROWSER_MISSING) (macOS: brew" \
	"install --cask chromium; brew install epubcheck) and set ISLDL_CHROMIUM to Chromium's" \
	"executable"
browser:
	@if [ -z "$(BROWSER_MISSING)" ]; then :; else $(call apt_or_say,$(BROWSER_MISSING),$(BROWSER_ELSEWHERE)); fi
	cd book_checks/npm && npm ci --no-audit --no-fund --silent

## Train once each pin that is missing because its data could not be had where the pins were
## made (results/<fit>/missing.json), where that data can be had now: the fit, why and about how
## long are announced, with a progress bar. Commit the new results/<fit>/ afterwards.
pins: $(VENV)/.installed-test
	$(PY) -m isldl_book.train_missing

## Check the rendered book (after `make book`): numbering, references, pages, the log.
check-book: $(VENV)/.installed-test browser
	$(PY) -m pytest book_checks -m "not release"

## Install, then run the tests (chapters run in fast mode; pinned results loaded; handouts),
## after training the pins whose data can be had now (`pins`), as the render would load them;
## ruff first (pyproject.toml says which rules).
LINTED := code book_tools tests book_checks benchmarks
test: $(VENV)/.installed-test tex pins
	$(PY) -m ruff check $(LINTED)
	$(PY) -m pytest

## The quick loop: the tests that run no chapter, notebook or fresh environment (under a
## minute); `make test` runs them all.
test-quick: $(VENV)/.installed-test
	$(PY) -m ruff check $(LINTED)
	$(PY) -m pytest -m "not slow" -q

## The tests that load the pinned fits again as other processors compute: under each CPU
## capability that this processor can simulate (ATEN_CPU_CAPABILITY, with oneDNN's
## instruction set to match), with one thread and with two (see isldl.machine).
test-simulated: $(VENV)/.installed-test pins
	$(PY) -m isldl_book.simulated -- $(PY) -m pytest -m pinned -q -p no:cacheprovider

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
## packages (fontawesome5 for Quarto's callouts is in texlive-fonts-extra). Where there is no
## apt-get (macOS, another Linux), it says what to install instead and carries on: `make test`
## then skips the tests marked `tex`, and says so.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended texlive-fonts-extra texlive-plain-generic lmodern pandoc poppler-utils \
	librsvg2-bin
TEX_ELSEWHERE = "make tex: no apt-get here, so the PDF's tools are not installed. Install" \
	"XeLaTeX with the LaTeX packages of Quarto's template (macOS: brew install --cask mactex," \
	"or quarto install tinytex), pandoc, poppler's pdftotext and librsvg's rsvg-convert" \
	"(brew install pandoc poppler librsvg). Until then make test skips the tests marked" \
	"tex, and make book cannot render the PDF."
tex:
	@if command -v xelatex >/dev/null && command -v pandoc >/dev/null \
	    && command -v pdftotext >/dev/null && command -v rsvg-convert >/dev/null \
	    && kpsewhich fontawesome5.sty >/dev/null; then :; \
	else $(call apt_or_say,$(TEX_PACKAGES),$(TEX_ELSEWHERE)); fi

## One PDF per chapter of each edition in handouts/<edition>/: the chapter's pages of the
## edition's PDF (after `make book` and `make student`, or `make release`), its solutions' pages
## (in the instructor's) and the references.
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
	UV_PYTHON_DOWNLOADS=never $(VENV)/bin/uv pip compile pyproject.toml --extra test --extra book --universal \
	  --python-version 3.10 --custom-compile-command "make lock" $(UV_ARGS) -o $(LOCK)

## Train every pinned result again at the source's budgets and save it under results/,
## timing each chapter; a chapter whose data cannot be had is reported as skipped (exit 0).
retrain: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --mode retrain --save benchmarks/chapter_times_retrained.md

## Train again only the pinned results that are missing, stale or damaged (after a change to
## the code that trains them), loading the others.
update: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --mode update

## After a change to what a pin's key covers, not to what a fit computes (a helper moved, the
## key's definition changed): write today's key into each pin whose key differs in its code
## part alone, and train the pins that are missing (delete those whose computation changed).
rekey: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --mode rekey

## Run every chapter with its pinned results, two at a time (a core each), timing each and the
## whole book (see benchmarks/README.md).
run-all: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --repeats 3 --jobs 2 --save benchmarks/chapter_times_pinned.md

clean:
	rm -rf _book _book-student build .quarto handouts practice
