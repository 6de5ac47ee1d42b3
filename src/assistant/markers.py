"""Citation markers: the one definition of how ``[n]`` looks, and how to take it out.

A model writes markers loosely (``[3]``, ``[1, 2]``, ``[1;2]``, ``[Passage 3]``);
the verifier rewrites each one it accepts as ``[n]``, the only form that an
:class:`~assistant.models.Answer` holds and that the page and the evaluation read.
"""

from __future__ import annotations

import re

# [n] in a verified answer (1 to 3 digits: an answer cites at most a few dozen passages).
MARKER = re.compile(r"\[(\d{1,3})\]")
# Markers at the start of a sentence (they belong to the sentence before).
LEADING_MARKERS = re.compile(r"^(?:\[\d{1,3}\]\s*)+")
# What a model may write: [3]  [1, 2]  [1;2]  [Passage 3]  [source 2]
MODEL_MARKER = re.compile(r"\[\s*(?:(?:passage|source|article|doc)\s*)?(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\s*\]", re.I)
# The start of a model marker cut by the stream ("... 2025 [Pass"): wait for the rest.
MODEL_MARKER_PREFIX = re.compile(r"\[\s*(?:[A-Za-z]{0,8}\s*)?[\d\s,;]*$")


def strip_markers(text: str) -> str:
    """The text without citation markers (either form), spaces tidied."""
    return tidy(MODEL_MARKER.sub("", text))


def tidy(text: str) -> str:
    """One marker where a model repeated it, no space before . , ) and no double spaces."""
    text = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", text)
    text = re.sub(r"[ \t]+([.,)])", r"\1", text)  # not before ":;!?", French spaces them
    text = re.sub(r"[ \t]{2,}", " ", text)
    return text.strip()
