# quaywatch — the two commands of the README:
#   make demo   run the meters flow on the embedded default (simulated discharge → Bytewax → chDB)
#   make test   lint (ruff), type-check (mypy) and run the tests (pytest)
# Each creates .venv with everything it needs on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench bench-gate clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 12) else "quaywatch needs Python 3.11 or 3.12 (bytewax 0.21.1 wheels)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/quaywatch demo

lint: $(STAMP)
	$(BIN)/ruff check flows operators connectors dashboards tests bench
	$(BIN)/mypy

# pytest exits 5 when a selection matches no test: reported, not treated as a failure of the selection.
test: lint
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected for this selection"; rc=0; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python bench/bench_corrections.py
	$(BIN)/python bench/bench_meters_flow.py
	$(BIN)/python bench/bench_vgm.py
	$(BIN)/python bench/bench_gate_ocr.py
	$(BIN)/python bench/bench_gate_shift.py

# Gate OCR bench with EasyOCR (the optional extra pulls torch CPU, ~1 GB) beside RapidOCR.
bench-gate: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,easyocr]'
	$(BIN)/python bench/bench_gate_ocr.py

clean:
	rm -rf $(VENV) .quaywatch .pytest_cache .mypy_cache .ruff_cache
