# The two commands of the README.
#   make run   - set up, index sources/, start the web chat
#   make test  - set up (with Chromium), run every test
.PHONY: run test bench
HOST ?= 127.0.0.1
PORT ?= 7860

run:
	./scripts/setup.sh
	.venv/bin/assistant index
	.venv/bin/assistant serve --host $(HOST) --port $(PORT)

test:
	./scripts/setup.sh --with-browser
	.venv/bin/python -m pytest -q

bench:
	./scripts/setup.sh
	.venv/bin/python scripts/bench.py
