"""Lead-ins: "Un dollar. C’est ce que coûteront les modèles d’OpenAI à l’administration…"

News writing opens a paragraph with a fragment of a few words, then goes on with a
sentence that points back to it. Quoted alone, neither half answers: the fragment does
not say what it is about, the sentence does not say what "c’est" is. The answerer
quotes the two together, in the article's order, whichever of them it chose.

Both functions take the article text and article offsets; a pair never crosses a line
break (a heading, another paragraph).
"""

from __future__ import annotations

import re

from .sentence_features import ANAPHOR_START
from .text import sentence_spans

LEAD_IN_WORDS = 3  # "Un dollar.", "Et pourtant.", "Peut-être les trois."
REACH = 1500  # characters looked at on either side for the other half
# The second half opens with a word pointing back: an anaphor ("Il", "Cette offre"), or a
# presentative ("C’est ce que…", "That is what…").
_PRESENTATIVE = re.compile(r"^\W*(?:c['’]est|ce sont|voilà|voici|it['’]s|it is|that['’]s|that is|this is)\b", re.IGNORECASE)


def points_back(sentence: str) -> bool:
    return bool(ANAPHOR_START.match(sentence) or _PRESENTATIVE.match(sentence))


def is_lead_in(sentence: str) -> bool:
    return len(sentence.split()) <= LEAD_IN_WORDS


def lead_in_before(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The lead-in just before the sentence ``text[start:end]``, when that sentence points back to it."""
    if start <= 0 or not points_back(text[start:end]):
        return None
    window = max(0, start - REACH)
    spans = sentence_spans(text, window, start)
    if not spans or (len(spans) == 1 and window > 0):
        return None  # nothing before it, or only a sentence the window may have cut
    s, e = spans[-1]
    if not is_lead_in(text[s:e]) or "\n" in text[e:start]:
        return None
    return s, e


def sentence_after(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The sentence that goes on from the lead-in ``text[start:end]``, when it points back to it."""
    if not is_lead_in(text[start:end]):
        return None
    reach = min(len(text), end + REACH)
    following = next(((s, e) for s, e in sentence_spans(text, end, reach) if s >= end), None)
    if following is None or (following[1] >= reach and reach < len(text)) or "\n" in text[end:following[0]]:
        return None  # none, cut by the reach, or on another line
    s, e = following
    return following if points_back(text[s:e]) else None
