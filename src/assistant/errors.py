"""Errors raised by the assistant's library code: one tree, one base class.

Every message says what went wrong *and* what to do about it; the CLI and the
web page print ``str(error)`` as one line and never show a traceback. Catch
:class:`AssistantError` to catch them all, or a branch for one kind of problem::

    AssistantError
    ├── ConfigError               a bad setting (flag or ASSISTANT_* variable), a missing
    │                             optional package, a bad --llm spec or unreachable server
    ├── SourceError               one article file cannot be read (empty, binary, too big, ...)
    ├── UploadError               an upload or pasted article was refused (type, size, content)
    ├── IndexError_               the index directory
    │   ├── IndexMissingError        no index yet, or --index names a folder without one
    │   ├── IndexMismatchError       built with another embedding model / chunking
    │   ├── IndexCorruptError        damaged, or a folder that is not an index
    │   ├── IndexLockedError         another `assistant index` is running
    │   └── StoreUnavailableError    the Chroma server cannot be reached
    ├── QuestionError             an unusable question, history or k
    ├── LLMError                  the language model failed (timeout, HTTP, empty or huge reply)
    └── EvalError                 a test set, results or thresholds file that cannot be used

Anything else that escapes is a bug: the CLI prints one line asking for a report
(the traceback with ``--debug``).
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


class UploadError(AssistantError):
    """An upload was refused; ``str(err)`` names the file and the fix."""


class IndexError_(AssistantError):  # trailing underscore: do not shadow the builtin
    pass


class IndexMissingError(IndexError_):
    pass


class IndexMismatchError(IndexError_):
    pass


class IndexCorruptError(IndexError_):
    pass


class IndexLockedError(IndexError_):
    pass


class StoreUnavailableError(IndexError_):
    pass


class QuestionError(AssistantError):
    pass


class LLMError(AssistantError):
    pass


class EvalError(AssistantError):
    """A test set, results file or thresholds file that cannot be used."""


def rebuild_hint(index_dir: object) -> str:
    return f"rebuild it with: assistant index --rebuild --index {index_dir}"


def build_hint(sources_dir: object, index_dir: object) -> str:
    return f"build it with: assistant index --sources {sources_dir} --index {index_dir}"
