# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SAMPLE ?= ../shared/data/videos/car-detection.mp4

.PHONY: demo test lint typecheck unit bench clean model-data sysdeps

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -U pip setuptools wheel
	$(PY) -m pip install -q --disable-pip-version-check -e '.[all,dev]'
	touch $(STAMP)

demo: $(STAMP)
	@mkdir -p out/demo
	$(VENV)/bin/xiuhua detect $(SAMPLE) --annotate out/demo/annotated --output out/demo/detections.jsonl
	@echo "demo: $$(wc -l < out/demo/detections.jsonl) detections in out/demo/detections.jsonl," \
	  "annotated frames in out/demo/annotated/"

# Debian's chromium (the review pages' browser test) and a CJK font (Chinese captions on evidence and pages).
SYSPKGS := chromium fonts-wqy-zenhei
sysdeps:
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi 'wqy\|cjk'; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get install -y -q $(SYSPKGS) >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q $(SYSPKGS) >/dev/null; } \
	  || echo "sysdeps: could not install $(SYSPKGS); the browser test will skip"; \
	else echo "sysdeps: install $(SYSPKGS) (as root) for the browser test and Chinese captions"; fi

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP) sysdeps
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(PY) benchmarks/detector.py
	$(PY) benchmarks/compare.py

# The generated training data of datasets/xiuhua-mix.yaml (never committed).
model-data: $(STAMP)
	$(VENV)/bin/xiuhua data facade
	$(VENV)/bin/xiuhua synth scenes --seed 1 --count 2400 --size 960x540 --out datasets/generated/synth_s1 --workers 2

clean:
	rm -rf $(VENV) out .mypy_cache .ruff_cache .pytest_cache
