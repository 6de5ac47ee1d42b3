"""Cited question answering over a folder of news articles.

The public names below are imported on first use (PEP 562), so that importing a part
of the package (``assistant.cli``, ``assistant.startup``) does not first load the
whole answering stack: the command line can then guard its own start-up (Ctrl-C while
it loads gives one line, not a traceback; see ``startup.py``).
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of the guarded start-up
if TYPE_CHECKING:
    from typing import Any

    from .api import Assistant, clean_question
    from .config import Config
    from .errors import AssistantError
    from .models import Answer, ArticleInfo, Citation, IndexReport, IndexStatus, Passage

_HOME = {  # public name: the module that defines it
    "Assistant": ".api",
    "clean_question": ".api",
    "Config": ".config",
    "AssistantError": ".errors",
    "Answer": ".models",
    "ArticleInfo": ".models",
    "Citation": ".models",
    "IndexReport": ".models",
    "IndexStatus": ".models",
    "Passage": ".models",
}

__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOME[name], __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
