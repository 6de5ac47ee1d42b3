"""What kind of thing a question asks for, and whether a sentence holds one.

"combien / how much" wants a number, "quand / when" a date, "qui / who" a name,
"où / where" a place. A sentence that holds the asked-for kind of thing (and
not only the one already named in the question) is a better answer.
"""

from __future__ import annotations

import re

NUMBER, DATE, PERSON, PLACE, OTHER = "number", "date", "person", "place", "other"

_PATTERNS = [
    (DATE, r"\b(quand|en quelle année|quelle année|à quelle date|quelle date|depuis quand|jusqu'à quand|"
           r"when|what year|which year|what date|since when)\b"),
    (NUMBER, r"\b(combien|quel montant|quel prix|quelle somme|quel est le prix|quel est le montant|"
             r"quel pourcentage|quelle part|how much|how many|what price|what amount|what percentage|"
             r"how long|how old|what is the price|what is the cost|cost)\b"),
    (PERSON, r"\b(qui|quelle personne|quel dirigeant|quel pdg|who|whom|whose|which person|what company|"
             r"quelle entreprise|quelle société|quelle agence|quel organisme|which company|which agency)\b"),
    (PLACE, r"\b(où|dans quel pays|dans quelle ville|quel pays|quelle ville|where|which country|which city|what country)\b"),
]

_MONTHS = (
    r"janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|"
    r"january|february|march|april|may|june|july|august|september|october|november|december"
)
_HAS = {
    # "un", "une" and "one" are articles or pronouns far more often than numbers: left out.
    NUMBER: re.compile(r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|vingt|trente|cent|mille|million|milliard|"
                       r"two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|million|billion)s?\b|"
                       r"\b(un|une|one)\s+(dollars?|euros?|millions?|milliards?|billions?|an|année|year|mois|month|"
                       r"jour|day|semaine|week|heure|hour|pour ?cent|percent)\b", re.I),
    DATE: re.compile(rf"\b(1[5-9]\d\d|20\d\d)\b|\b({_MONTHS})\b|\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
                     r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|hier|yesterday|aujourd'hui|today)\b", re.I),
    PERSON: re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*"),
    PLACE: re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+"),
}
_WORD = re.compile(r"[\w'’-]+")


def question_type(question: str) -> str:
    q = question.lower()
    for kind, pattern in _PATTERNS:
        if re.search(pattern, q):
            return kind
    return OTHER


def holds(kind: str, sentence: str, question: str) -> bool:
    """True if ``sentence`` holds a ``kind`` value that the question does not already name."""
    pattern = _HAS.get(kind)
    if pattern is None:
        return False
    asked = {w.lower() for w in _WORD.findall(question)}
    for match in pattern.finditer(sentence):
        words = [w.lower() for w in _WORD.findall(match.group())]
        if words and not all(w in asked for w in words):
            return True
    return False

