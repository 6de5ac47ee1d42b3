"""Answers written by a language model (LangChain chat models), every citation verified.

    --llm openai:gpt-4o-mini                      OPENAI_API_KEY
    --llm openai-compatible:MODEL --llm-base-url http://127.0.0.1:8080/v1   (vLLM, llama.cpp, ...)
    --llm ollama:llama3.1 [--llm-base-url http://127.0.0.1:11434]

The passages go to the model as numbered data between delimiters that are new
for every request, with the rules in the system message; whatever an article
says stays data. The model's tokens are streamed through
:class:`~assistant.verify.CitationVerifier`, which checks each ``[n]`` against
passage ``n`` and takes every quote from the article text. A timeout, an HTTP
error, an empty or malformed reply falls back to the extractive answer with a
notice; nothing raises to the caller.

``langchain-openai`` / ``langchain-ollama`` are optional: they are imported only
here, with an install hint when missing.

    backends   the chat model for ``--llm`` built and its server checked (LLMSpec)
    prompt     the messages: answering and follow-up condensing
    answerer   LLMAnswerer: streaming, verification, fallbacks; build_answerer
"""

from .answerer import (
    ANSWER_DEADLINE_FACTOR,
    MAX_REPLY_CHARS,
    LLMAnswerer,
    build_answerer,
)
from .backends import (
    CHECK_TIMEOUT_S,
    DEFAULT_OLLAMA_URL,
    INSTALL_HINT,
    MAX_ANSWER_TOKENS,
    PROVIDERS,
    LLMSpec,
    build_chat_model,
    check_server,
    parse_spec,
)
from .prompt import SYSTEM_RULES, answer_messages, condense_messages, delimiters

__all__ = [
    "ANSWER_DEADLINE_FACTOR", "CHECK_TIMEOUT_S", "DEFAULT_OLLAMA_URL", "INSTALL_HINT", "MAX_ANSWER_TOKENS",
    "MAX_REPLY_CHARS", "PROVIDERS", "SYSTEM_RULES", "LLMAnswerer", "LLMSpec", "answer_messages",
    "build_answerer", "build_chat_model", "check_server", "condense_messages", "delimiters", "parse_spec",
]
