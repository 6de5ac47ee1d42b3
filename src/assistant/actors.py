"""Answers name the actor: "Cette offre intervient après…" does not say who.

When the chosen sentence opens with an anaphor ("L'entreprise", "Cette offre",
"Il", "It", "The company"), or a who/which question gets a sentence without a
new name, the answer also quotes the nearest preceding sentence of the same
article that names someone (verbatim, cited), or uses another good candidate
that names the actor itself.
"""

from __future__ import annotations

import re

from .answer_types import PERSON, holds
from .sentence_features import ANAPHOR_START, ENGLISH_NOUN_ANAPHORS, NOUN_ANAPHORS
from .text import fold, lexical_tokens, sentence_spans

MAX_SENTENCES_BACK = 3
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*\w|\b[A-Z]{2,}\b")
_TITLE_QUESTION = re.compile(r"\b(titre|intitulé|title|headline|called|appelle|nom du programme)\b", re.I)


def names_someone(sentence: str, lang: str, question: str = "") -> bool:
    """True if the sentence holds a proper name that the question does not already use.

    A capitalised word counts, even at the start of the sentence, unless it is a
    common word there ("Cette", "Selon", "The") or an anaphor.
    """
    asked = fold(question)
    if ANAPHOR_START.match(sentence):
        first_name_ok = False
    else:
        first_name_ok = True
    for i, match in enumerate(_CAPITALISED.finditer(sentence)):
        word = match.group()
        if fold(word) in asked:
            continue
        at_start = not sentence[: match.start()].strip(" «“\"'(")
        if at_start:
            if not first_name_ok:
                continue
            # A sentence-initial common word is capitalised too: a name is not a stop word
            # and keeps its form when stemmed away ("OpenAI", "GSA", "Anthropic").
            if not lexical_tokens(word, lang) or (word[1:].islower() and _is_common(word, lang)):
                continue
        return True
    return False


def needs_actor(question_kind: str, question: str, sentence: str, lang: str, named_noun_stands: bool = True) -> bool:
    """``named_noun_stands``: whether "L’accord d’Anthropic…" (a noun anaphor named at once) stands on its
    own; a further sentence of an answer is held to more (it mostly goes on about the best one's subject)."""
    if ANAPHOR_START.match(sentence) and not _opening_names(sentence, named_noun_stands):
        return True
    return question_kind == PERSON and not holds(PERSON, sentence, question) and not names_someone(sentence, lang, question)


_DEMONSTRATIVE = re.compile(r"^\W*(?:cette|cet|ces|ce|this|these|that|those)\s+(?!derni)", re.IGNORECASE)
# One of ``ANAPHOR_START``'s nouns with its article, named at once: "L’accord d’Anthropic…",
# "la société OpenAI…", "the company OpenAI…" (not "L’entreprise va offrir ChatGPT…": a name
# further on belongs to what the sentence says, not to who).
_NAMED_NOUN = re.compile(
    rf"^\W*(?i:{NOUN_ANAPHORS}|{ENGLISH_NOUN_ANAPHORS})"
    r"\s*(?i:d['’]|de\s+(?:la\s+|l['’])?|du\s+|des\s+|of\s+(?:the\s+)?)?[A-Z]"
)
OPENING_WORDS = 5


def _opening_names(sentence: str, named_noun_stands: bool = True) -> bool:
    """True for a noun-phrase anaphor whose own words name the actor: "Cette manœuvre stratégique
    d’Anthropic intervient…" and "L’accord d’Anthropic avec la GSA fournira…" say who; "Cette offre
    intervient…", "L’entreprise va offrir…" and "Il a signé avec OpenAI" do not."""
    if named_noun_stands and _NAMED_NOUN.match(sentence):
        return True
    if not _DEMONSTRATIVE.match(sentence):
        return False
    opening = " ".join(sentence.split()[1 : 1 + OPENING_WORDS])
    return bool(_CAPITALISED.search(opening))


def antecedent_span(text: str, start: int, lang: str, question: str) -> tuple[int, int] | None:
    """The nearest sentence before ``start`` (at most a few back, within its section) that names
    someone: an anaphor's own words may ("Ce contrat avec le DoD…"); a heading is not a sentence
    that names, and the section it opens is where the actor must be named."""
    window_start = max(0, start - 1500)
    spans = [s for s in sentence_spans(text, window_start, start) if s[1] <= start]
    if spans and window_start > 0:
        spans = spans[1:]  # the first span of the window may be a cut sentence
    for s, e in reversed(spans[-MAX_SENTENCES_BACK:]):
        sentence = text[s:e]
        if is_heading(sentence):
            return None
        if names_someone(sentence, lang, question) and (not ANAPHOR_START.match(sentence) or _opening_names(sentence)):
            return s, e
    return None


# The end of a sentence: its punctuation, then closing quotes, brackets or markdown ("…modèles”."
# ends one; a closing bracket ends one too, as a footnote or an aside; "Course aux “frontier
# models”" does not).
_ENDS_SENTENCE = re.compile(r"(?:[.!?…:;][\"'»”’)\]*_\s]*|[)\]][*_\s]*)$")
HEADING_WORDS = 14


def is_heading(sentence: str) -> bool:
    """A line that is not a sentence: a heading or a title ("Signal aux alliés")."""
    return not _ENDS_SENTENCE.search(sentence) and len(sentence.split()) <= HEADING_WORDS


def asks_for_title(question: str) -> bool:
    return bool(_TITLE_QUESTION.search(question))


_COMMON = {
    "fr": {"selon", "pour", "dans", "mais", "avec", "depuis", "après", "avant", "lors", "enfin", "ainsi", "pourtant",
           "alors", "déjà", "aujourd", "hier", "concrètement", "désormais", "outre", "parmi", "face", "chez", "sur"},
    "en": {"according", "after", "before", "since", "however", "meanwhile", "today", "yesterday", "under", "with",
           "for", "in", "on", "as", "while", "although", "but"},
}


def _is_common(word: str, lang: str) -> bool:
    return word.lower() in _COMMON.get(lang, set()) | _COMMON["en"] or not lexical_tokens(word.lower(), lang)
