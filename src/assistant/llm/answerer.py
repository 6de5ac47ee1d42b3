"""The LLM answerer: the model's streamed answer through citation verification, with fallbacks."""

from __future__ import annotations

import re
import time
from collections.abc import Generator
from typing import Any

from ..answer import refusal_text
from ..config import Config
from ..errors import LLMError
from ..followup import standalone_question
from ..models import Answer, Passage
from ..text import detect_language
from ..verify import CitationVerifier, SupportFinder, strip_markers
from .backends import (
    MAX_ANSWER_TOKENS,
    LLMSpec,
    build_chat_model,
    check_server,
    first_line,
    parse_spec,
)
from .prompt import LANGUAGE_NAMES, answer_messages, condense_messages

# ``timeout_s`` bounds the wait for each piece of the reply (the HTTP read timeout);
# the whole streamed answer may take this many times longer before it is cut off.
ANSWER_DEADLINE_FACTOR = 3
MIN_WORDS_FOR_LANGUAGE = 6  # shorter answers are too short to tell their language
# A server that ignores max_tokens could stream without end (a 228 KB reply was seen):
# past this many characters, about ten times the longest answer asked for, it falls back.
def max_reply_chars(max_tokens: int) -> int:
    """The reply length past which the model is taken to ignore its token cap."""
    return 12 * max_tokens * 4


MAX_REPLY_CHARS = max_reply_chars(MAX_ANSWER_TOKENS)


class LLMAnswerer:
    """Streams a language model's answer through citation verification; falls back on faults."""

    def __init__(self, chat_model: Any, name: str, spec: LLMSpec | None = None, timeout_s: float = 60.0) -> None:
        self.chat_model = chat_model
        self.name = name
        self.spec = spec
        self.timeout_s = timeout_s
        self._finder: SupportFinder | None = None
        self._finder_owner: object | None = None

    def check(self) -> str:
        """One cheap request to the server; raises ConfigError with what to set."""
        return check_server(self.spec) if self.spec is not None else "scripted model"

    def condense(self, question: str, history: list[dict[str, str]]) -> str | None:
        """A standalone form of a follow-up question (None when it already stands alone)."""
        if not any(str(m.get("content", "")).strip() for m in history):
            return None
        try:
            reply = _text(self.chat_model.invoke(condense_messages(question, history)))
        except Exception:  # the rule-based rewrite is a fine fallback for a follow-up
            return standalone_question(question, history)
        line = next((ln.strip() for ln in reply.splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question|question|rewritten question|question reformulée)\s*:\s*", "", line, flags=re.I)
        line = line.strip(" \"'«»“”")
        if not re.search(r"\w", line) or len(line) > 3 * len(question) + 300:
            return standalone_question(question, history)
        if line.casefold().rstrip(" ?") == question.casefold().rstrip(" ?"):
            return None
        return line

    def stream(
        self, question: str, lang: str, passages: list[Passage], assistant: Any
    ) -> Generator[str, None, Answer]:
        """Yield answer text as it comes; return the verified :class:`Answer`."""
        if not passages:
            text = refusal_text(lang)
            yield text
            return Answer(question, text, True, [], passages, answerer=self.name)
        verifier = CitationVerifier(passages, self._finder_for(assistant), lang)
        shown = False
        raw: list[str] = []
        deadline = time.monotonic() + self.timeout_s * ANSWER_DEADLINE_FACTOR
        chunks = None
        try:
            chunks = self.chat_model.stream(answer_messages(question, lang, passages))
            finished = self.spec is None  # a scripted model says nothing about how its reply ended
            received, longest = 0, max_reply_chars(self.spec.max_tokens if self.spec else MAX_ANSWER_TOKENS)
            for chunk in chunks:
                piece = _text(chunk)
                finished = finished or _says_finished(chunk)
                received += len(piece)
                if received > longest:
                    raise LLMError(f"reply over {longest:,} characters, cut off (the server ignores max_tokens)")
                raw.append(piece)
                out = verifier.feed(piece)
                if out:
                    shown = True
                    yield out
                if time.monotonic() > deadline:
                    raise LLMError(f"timed out: no complete answer after {self.timeout_s * ANSWER_DEADLINE_FACTOR:g} s")
            if not finished:  # the stream ended without the server's last word: a dropped connection
                raise LLMError("the connection closed before the answer was complete")
            body = strip_markers("".join(raw))
            if not body:
                raise LLMError("empty reply" if not "".join(raw).strip() else "reply without any text")
            if not re.search(r"\w", body):
                raise LLMError(f"malformed reply {body[:40]!r}")
        except GeneratorExit:
            raise
        except Exception as exc:  # any fault of the model or the connection: the question is not lost
            answer = yield from self._fallback(question, lang, passages, assistant, _describe(exc), shown)
            return answer
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        tail = verifier.flush()
        if tail:
            yield tail
        result = verifier.finish()
        notice = None
        if result.dropped:
            numbers = ", ".join(f"[{n}]" for n in sorted(set(result.dropped)))
            notice = f"The language model cited passages that it was not given ({numbers}); those citations were removed."
        answered = detect_language(strip_markers(result.answer), default=lang)
        if answered != lang and len(result.answer.split()) >= MIN_WORDS_FOR_LANGUAGE:
            said = LANGUAGE_NAMES.get(answered, answered)
            notice = _join(notice, f"The language model answered in {said}, not in {LANGUAGE_NAMES.get(lang, lang)}.")
        if result.support == 0.0:
            notice = _join(notice, "No sentence of this answer is backed by a passage it cites: treat it as unverified.")
        return Answer(
            question=question,
            answer=result.answer,
            refused=result.refused,
            citations=result.citations if not result.refused else [],
            retrieved=_shown(passages, assistant),
            unsupported=result.unsupported,
            support=None if result.refused else result.support,
            notice=notice,
            answerer=self.name,
        )

    def _fallback(
        self, question: str, lang: str, passages: list[Passage], assistant: Any, reason: str, shown: bool
    ) -> Generator[str, None, Answer]:
        # the same extractive answer as without a model (it ranks sentences with the question's vector)
        result = assistant.extractive(assistant.retriever.embedder.query_vector(question)).answer(question, lang, passages)
        if shown:
            yield "\n\n"
        yield result.answer
        return Answer(
            question=question,
            answer=result.answer,
            refused=result.refused,
            citations=result.citations,
            retrieved=_shown(passages, assistant),
            support=None if result.refused else 1.0,
            notice=f"The language model ({self.name}) failed: {reason}. Showing the extractive answer instead.",
            answerer="extractive",
        )

    def _finder_for(self, assistant: Any) -> SupportFinder:
        if self._finder is None or self._finder_owner is not assistant:
            self._finder = SupportFinder.for_assistant(assistant)
            self._finder_owner = assistant
        return self._finder


def _shown(passages: list[Passage], assistant: Any) -> list[Passage]:
    """The passages reported as retrieved: the top k, as for the extractive answer (the model saw them all)."""
    return passages[: assistant.config.k]


def _text(message: Any) -> str:
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, (str, dict)))
    raise LLMError(f"malformed reply of type {type(content).__name__}")


def _says_finished(chunk: Any) -> bool:
    """True for the last chunk of a complete reply (OpenAI's finish_reason, Ollama's done)."""
    meta = getattr(chunk, "response_metadata", None) or {}
    return bool(meta.get("finish_reason") or meta.get("done_reason") or meta.get("done"))


def _describe(exc: BaseException) -> str:
    """A short reason for the notice: 'timed out after 60 s', 'HTTP 500', ..."""
    if isinstance(exc, LLMError):
        return str(exc)
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return f"HTTP {status}"
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return "timed out"
    if "Connection" in name or isinstance(exc, ConnectionError):
        return f"connection failed ({first_line(exc)})"
    return f"{name}: {first_line(exc)}" if str(exc) else name




def _join(a: str | None, b: str) -> str:
    return b if not a else f"{a} {b}"


def build_answerer(config: Config, check: bool = True) -> "LLMAnswerer":
    """The answerer for ``config.llm``; with ``check``, fails now (ConfigError) if the server is unusable."""
    spec = parse_spec(config)
    model = build_chat_model(spec)
    answerer = LLMAnswerer(model, spec.name, spec=spec, timeout_s=spec.timeout_s)
    if check:
        answerer.check()
    return answerer

