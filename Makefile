# The commands of the README.
#   make run    - install what running needs, index sources/, start the web chat
#   make test   - install everything the tests need (llama.cpp server, Chromium), run every test
#   make bench  - install the benchmark's extras, run scripts/bench.py on ../shared/bench
.PHONY: run test bench
HOST ?= 127.0.0.1
PORT ?= 7860
# pytest in two worker processes (pytest-xdist). Tests are spread one by one, except that a
# module's tests stay together when they share a module-scoped fixture (a server, a private
# index: tests/conftest.py groups them), and the seed index is built once per run.
PYTEST_WORKERS ?= 2
# scripts/setup.sh installs with uv, which leaves bytecode to be compiled on first import:
# let Python write it into .venv and __pycache__/ once, even where the shell says not to.
unexport PYTHONDONTWRITEBYTECODE
PYTEST_ARGS ?=
BENCH_ARGS ?=

run:
	./scripts/setup.sh run
	.venv/bin/assistant index
	@echo "The assistant command is .venv/bin/assistant (or run '. .venv/bin/activate' first)."
	.venv/bin/assistant serve --host $(HOST) --port $(PORT)

test:
	./scripts/setup.sh test
	./scripts/timed.sh pytest .venv/bin/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup -rfEs $(PYTEST_ARGS)

bench:
	./scripts/setup.sh bench
	.venv/bin/python scripts/bench.py $(BENCH_ARGS)
