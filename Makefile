# The two set-up commands of the README: `make book` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: book test retrain run-all handouts practice tex clean
# Root installs system packages directly; anyone else through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --editable ".[test]"
	touch $@

$(VENV)/.installed-book: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --editable ".[book]"
	touch $@

## Install, then render the book (HTML and PDF) with Quarto into _book/.
book: $(VENV)/.installed-book
	QUARTO_PYTHON=$(PY) $(VENV)/bin/quarto render

## Install, then run the tests (chapters run in fast mode; pinned results loaded; handouts).
test: $(VENV)/.installed-test tex
	$(PY) -m pytest

## The LaTeX engine, pandoc and the PDF tools that the handouts need (Debian/Ubuntu packages).
tex:
	@command -v xelatex >/dev/null && command -v pandoc >/dev/null && command -v pdftotext >/dev/null \
	|| ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq --no-install-recommends \
		texlive-xetex texlive-fonts-recommended texlive-plain-generic pandoc poppler-utils)

## One PDF per chapter in handouts/, from the chapter executed with its pinned results.
handouts: $(VENV)/.installed-test tex
	$(PY) -m isldl.handouts pdf

## One practice notebook per chapter in practice/: prose kept, exercises in place of code.
practice: $(VENV)/.installed-test
	$(PY) -m isldl.handouts practice

## Train every pinned result again at the source's budgets and save it under results/,
## timing each chapter; a chapter whose data cannot be had is reported and skipped.
retrain: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --retrain --save benchmarks/chapter_times_retrained.md

## Run every chapter with its pinned results, timing each (see benchmarks/README.md).
run-all: $(VENV)/.installed-test
	$(PY) benchmarks/chapter_times.py --repeats 3 --save benchmarks/chapter_times_pinned.md

clean:
	rm -rf _book _handouts build .quarto handouts practice
