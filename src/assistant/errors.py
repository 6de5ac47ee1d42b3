"""Errors raised by the assistant's library code.

Every message says what went wrong *and* how to fix it; the CLI and the UI print
``str(error)`` as one line and never show a traceback.

    AssistantError
    ├── ConfigError            bad setting, missing optional dependency, bad LLM spec
    ├── SourceError            one article file cannot be read (empty, binary, ...)
    ├── IndexError_            base for problems with the index directory
    │   ├── IndexMismatchError    built with another embedding model / chunking
    │   ├── IndexCorruptError     damaged or foreign index directory
    │   └── IndexLockedError      another `assistant index` is running
    ├── QuestionError          empty or unusable question
    └── LLMError               the language model failed (timeout, HTTP, empty reply)
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing one-line message."""


class ConfigError(AssistantError):
    pass


class SourceError(AssistantError):
    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class IndexError_(AssistantError):  # trailing underscore: do not shadow the builtin
    pass


class IndexMismatchError(IndexError_):
    pass


class IndexCorruptError(IndexError_):
    pass


class IndexLockedError(IndexError_):
    pass


class QuestionError(AssistantError):
    pass


class LLMError(AssistantError):
    pass


def rebuild_hint(index_dir: object) -> str:
    return f"rebuild it with: assistant index --rebuild --index {index_dir}"
