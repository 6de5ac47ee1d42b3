"""Cited question answering over a folder of news articles."""

from .api import Assistant, clean_question
from .config import Config
from .errors import AssistantError
from .models import Answer, ArticleInfo, Citation, IndexReport, IndexStatus, Passage

__all__ = [
    "Answer",
    "ArticleInfo",
    "Assistant",
    "AssistantError",
    "Citation",
    "Config",
    "IndexReport",
    "IndexStatus",
    "Passage",
    "clean_question",
]
