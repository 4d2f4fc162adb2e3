# The two set-up commands of the README. Each installs what it needs first.
PY := .venv/bin/python
DEMO_DB := demo/demo.sqlite

.PHONY: run test setup lint bench bundle

setup:
	bash scripts/setup.sh

run: setup
	@mkdir -p demo
	@[ -f $(DEMO_DB) ] || $(PY) main.py demo --db $(DEMO_DB)
	$(PY) main.py app --db $(DEMO_DB)

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
	.venv/bin/ruff check .
	.venv/bin/lint-imports

bench: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m benchmarks

lint:
	.venv/bin/ruff check .
	.venv/bin/lint-imports

bundle: setup
	bash packaging/build_linux.sh
	bash packaging/smoke_test.sh
