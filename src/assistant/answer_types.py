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
    return pattern is not None and _beyond_question(pattern, sentence, question)


def _beyond_question(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    """True if ``pattern`` matches in ``sentence`` something other than words of the question."""
    asked = {w.lower() for w in _WORD.findall(question)}
    for match in pattern.finditer(sentence):
        words = [w.lower() for w in _WORD.findall(match.group())]
        if not words or not all(w in asked for w in words):  # a bare "$" or "€" has no word: it counts
            return True
    return False


# --- measures: what a how-much, how-many or what-year question cannot be answered without ---
#
# A price asked for and no amount quoted, a count asked for and no number, a year asked for and
# no date: the sentence may be on topic ("Stargate, a huge data infrastructure") but it is not an
# answer. These patterns are narrower than the kinds above (they drive a refusal, not a feature):
# "combien" alone may ask for a share or a duration, "quand" a circumstance ("quand on a la peau
# claire"), so only the unambiguous phrasings count.
MONEY, COUNT = "money", "count"
# The gaps between "how much" and "cost"/"pay" are bounded: an unbounded ``.*`` made the search
# quadratic in the question's length.
_ASKED_MEASURES = (
    (MONEY, re.compile(
        r"\b(quels? (?:est le |était le )?prix(?! (?:obtient|obtenu|a obtenu|remport\w*|a remporté|re[çc]oit|a re[çc]u|gagne|a gagné|lui))|quel (?:est le |était le )?montant|quelle somme|combien co[uû]t\w*|"
        r"quel (?:est|était|sera) le co[uû]t|combien d['’]argent|à combien s['’]él[eè]v\w*|what price|what is the price|what was the price|"
        r"how much (?:money|does|did|do|will|would|is|was|are|were)\b.{0,80}\bcosts?\b|how much money|"
        r"what (?:is|was) the cost|what amount|how much did .{1,80} pay|how much (?:does|will) .{1,80} pay)", re.I)),
    (DATE, re.compile(
        r"\b(en quelle année|quelle année|à quelle date|quelle date|quelle est la date|date de naissance|"
        r"en quel siècle|what year|which year|in what year|what date|on what date|what century|in which century|"
        r"when (?:was|were|did|does|do|is|will|had|has|have)\b)", re.I)),
    (COUNT, re.compile(r"\b(combien de|combien d['’]|how many)\b", re.I)),
)
_STATES = {
    MONEY: re.compile(
        r"[$€£¥]|\b(dollars?|euros?|usd|eur|gbp|livres? sterling|pounds?|francs?|cents?|centimes?|yuans?|yens?|"
        r"gratuit\w*|free of charge|for free|free)\b", re.I),
    DATE: re.compile(
        rf"\b\d{{3,4}}s?\b|\b\d{{1,2}}(?:st|nd|rd|th|e|ème|er)\s+(?:century|centuries|siècles?)\b|"
        rf"\b[IVXL]+(?:e|ème|er)\s+siècle|\bsiècles?\b|\bcentur(?:y|ies)\b|\b({_MONTHS})\b|"
        r"\b(années|decades?|décennies?|antiquité|moyen[ -]âge|middle ages|aujourd['’]hui|today|hier|yesterday)\b", re.I),
    COUNT: re.compile(
        r"\d|\b(deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|treize|quinze|seize|vingt|trente|quarante|"
        r"cinquante|soixante|cent|mille|millions?|milliards?|dizaines?|centaines?|milliers?|douzaines?|plusieurs|seule?s?|"
        r"aucune?|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|"
        r"hundreds?|thousands?|millions?|billions?|dozens?|several|single|once|twice|both|none)\b|"
        # "un", "une", "one" are articles or pronouns far more often than counts: only with "seul".
        r"\b(?:un|une) seule?\b|\bonly one\b", re.I),
}


def asked_measure(question: str) -> str | None:
    """MONEY, DATE or COUNT when the question plainly asks for one; None otherwise."""
    for measure, pattern in _ASKED_MEASURES:
        if pattern.search(question):
            return measure
    return None


def states(measure: str, sentence: str, question: str) -> bool:
    """True if ``sentence`` states a ``measure`` beyond the words the question already uses."""
    return _beyond_question(_STATES[measure], sentence, question)
