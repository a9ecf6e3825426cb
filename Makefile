# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SAMPLE ?= ../shared/data/videos/car-detection.mp4

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(PY) -m pip install -q --disable-pip-version-check -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/xiuhua detect $(SAMPLE) --annotate out/demo/annotated > out-demo.jsonl || true
	@echo "detections: $$(wc -l < out-demo.jsonl) lines in out-demo.jsonl; annotated frames in out/demo/annotated"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) benchmarks/detector.py

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
