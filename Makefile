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

# The main job on the embedded defaults: scan a patrol drive (generated, with its GPS track) and a real street video
# with the shipped model into SQLite under out/demo/data, then open the review service with the filled queue.
DEMO := out/demo
DEMO_ENV := XIUHUA_DATA=$(DEMO)/data
PORT ?= 8000
demo: $(STAMP)
	@mkdir -p $(DEMO)
	@test -f $(DEMO)/patrol/truth.json || $(VENV)/bin/xiuhua synth patrol --out $(DEMO)/patrol --seed 4040 --passes 2 --fps 5
	$(DEMO_ENV) $(VENV)/bin/xiuhua scan $(DEMO)/patrol $(SAMPLE) --report $(DEMO)/report
	@$(DEMO_ENV) $(VENV)/bin/xiuhua users list 2>/dev/null | grep -qw demo || \
	  echo demo-review | $(DEMO_ENV) $(VENV)/bin/xiuhua users add demo --role admin --password-stdin
	@echo "demo: report in $(DEMO)/report/index.html; review queue at http://127.0.0.1:$(PORT)/ (user demo, password demo-review)"
	$(DEMO_ENV) $(VENV)/bin/xiuhua serve --port $(PORT)

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
