"""Text utilities: normalisation, sentence spans, language guess, BM25 tokens.

Everything here is pure and deterministic; offsets are character offsets into
the string that was passed in.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WS = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_text(raw: str) -> str:
    """NFKC, no control characters, spaces folded, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFKC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = [_WS.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def fold(text: str) -> str:
    """Comparison form: NFKC, case-folded, whitespace collapsed (for matching evidence/answers)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


# --- sentences -------------------------------------------------------------

# Words after which a period does not end a sentence.
_ABBREVIATIONS = {
    "m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "mr", "mrs", "ms", "prof", "sr", "jr",
    "etc", "cf", "p", "pp", "vol", "no", "n°", "art", "av", "bd", "env", "ex", "fig", "inc", "ltd",
    "co", "corp", "vs", "e.g", "i.e", "u.s", "u.k", "j.-c", "jan", "feb", "fév", "févr", "apr",
    "avr", "aug", "sept", "oct", "nov", "dec", "déc", "gen", "gén", "col", "lt", "sgt", "gov",
}
# Western ends need a following space; CJK full stops (。！？) end a sentence as they stand.
_SENTENCE_END = re.compile(r"[.!?…]+[\"»”’')\]]*(?=\s+|$)|[。！？]+[」』”’）]*|\n+")


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text[start:end]``, whitespace trimmed.

    Paragraph breaks always end a sentence; a period after a known abbreviation,
    an initial ("J. Smith") or inside a number does not.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_END.finditer(text, start, end):
        stop = match.end() if match.group().strip() else match.start()
        if match.group()[0] == "." and not _really_ends(text, match.start(), stop, end):
            continue
        _append_trimmed(text, cursor, stop, spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def _really_ends(text: str, dot: int, after: int, end: int) -> bool:
    word = re.search(r"([\w.°-]+)$", text[max(0, dot - 20) : dot])
    token = word.group(1).lower() if word else ""
    if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha() and token.isupper() is False and text[dot - 1].isupper()):
        return False
    if len(token) == 1 and text[dot - 1].isupper():  # initial: "J. Smith"
        return False
    nxt = re.match(r"\s*(\S)", text[after:end])
    # Next sentence should start with an upper-case letter, a digit or an opening quote.
    return nxt is None or not nxt.group(1).islower()


def _append_trimmed(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append((a, b))


# --- text that is not prose -----------------------------------------------

# Scripts written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar, Tibetan):
# a long run of them is prose, and each of their characters is a place a word may end.
SPACELESS_SCRIPTS = (
    "\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u31ff"
    "\u3200-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f"
    "\uff00-\uffef\U00020000-\U0003134f"
)
# Longer than any word of prose (German compounds, chemical names) and than nearly every
# URL; shorter than what encoded data makes (base64, hex dumps, minified JSON or code).
MAX_WORD_CHARS = 256
# A "word" of more than MAX_WORD_CHARS, from its start (the look-behind keeps the scan linear).
_UNREADABLE = re.compile(rf"(?<![^\s{SPACELESS_SCRIPTS}])[^\s{SPACELESS_SCRIPTS}]{{{MAX_WORD_CHARS + 1},}}")


def unreadable_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of the runs without a word boundary longer than :data:`MAX_WORD_CHARS`.

    No question retrieves a passage of base64 or hex, and embedding one costs as much
    as prose (a 2 MB blob made 7,000 chunks, about 20 minutes of e5): such runs are
    left out of what is chunked and embedded, and kept in the article's text.
    """
    return [m.span() for m in _UNREADABLE.finditer(text)]


def readable_sentence_spans(text: str) -> list[tuple[int, int]]:
    """:func:`sentence_spans` of ``text`` with its :func:`unreadable_runs` cut out (a run ends a sentence)."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for start, end in [*unreadable_runs(text), (len(text), len(text))]:
        spans.extend(sentence_spans(text, cursor, start))
        cursor = end
    return spans


def unreadable_note(text: str) -> str | None:
    """What :func:`unreadable_runs` leaves out of an indexed ``text``, for the index report; None when nothing is."""
    what = describe_unreadable(text)
    return f"skipped {what}; not searchable, the rest is indexed" if what else None


def describe_unreadable(text: str) -> str | None:
    """"2.0 MB without spaces (encoded data?)": the size of :func:`unreadable_runs`, or None."""
    runs = unreadable_runs(text)
    if not runs:
        return None
    size = sum(len(text[a:b].encode("utf-8", "surrogatepass")) for a, b in runs)
    count = f" in {len(runs)} runs" if len(runs) > 1 else ""
    return f"{_bytes(size)} without spaces{count} (encoded data?)"


def _bytes(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    return f"{size / 1e3:.1f} KB" if size >= 1000 else f"{size} bytes"


# --- language --------------------------------------------------------------

_LANG_MARKERS = {
    "fr": set("le la les des du un une est et en que qui dans pour pas sur au aux avec ce cette sont ont été il elle ne se son sa ses par plus comme mais ou où quel quelle combien quand pourquoi".split()),
    "en": set("the of and to in is was for that on with as by at from it are be this which were an has have had not or but who what when where how much many did does".split()),
    "de": set("der die das und ist nicht mit ein eine zu den von dem sich auf für wie wer wann".split()),
    "es": set("el los las y es en que por con una para del se como más pero quién cuándo cuánto".split()),
}
_WORD = re.compile(r"\w+", re.UNICODE)


def detect_language(text: str, default: str = "fr") -> str:
    """Cheap stop-word vote; good enough to pick a stemmer and a reply language."""
    best, best_hits = default, 0
    for lang, hits in language_votes(text).items():
        if hits > best_hits:
            best, best_hits = lang, hits
    return best


def language_votes(text: str) -> dict[str, int]:
    """How many of each language's marker words ``text`` holds (its first 5,000 characters)."""
    words = _WORD.findall(text[:5000].lower())
    return {lang: sum(1 for w in words if w in markers) for lang, markers in _LANG_MARKERS.items()}


# --- BM25 tokens -----------------------------------------------------------

_STEMMER_NAMES = {"fr": "french", "en": "english", "de": "german", "es": "spanish"}
_TOKEN = re.compile(r"\w+", re.UNICODE)


@lru_cache(maxsize=8)
def _stemmer(lang: str):  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer(_STEMMER_NAMES.get(lang, "english"))


@lru_cache(maxsize=8)
def _stopwords(lang: str) -> frozenset[str]:
    from . import stopword_lists as lists

    table = {"fr": lists.FRENCH, "en": lists.ENGLISH, "de": lists.GERMAN, "es": lists.SPANISH}
    words = set(table.get(lang, lists.ENGLISH))
    if lang == "fr":  # elided forms and question words carry no topic
        words |= {"qu", "quel", "quelle", "quels", "quelles", "combien", "quand", "comment", "pourquoi", "est", "ce", "ça"}
    if lang == "en":
        words |= {"what", "which", "who", "whom", "when", "where", "why", "how", "much", "many", "did", "does"}
    return frozenset(words)


def lexical_tokens(text: str, lang: str) -> list[str]:
    """Lower-cased, stop-word-free, stemmed word tokens (single letters dropped)."""
    return list(_stemmed(text, lang))


# Every ask stems its candidate passages and sentences again; the same passages come back
# often (follow-ups, a topic in the news). Bounded: at most this many texts are kept.
@lru_cache(maxsize=8192)
def _stemmed(text: str, lang: str) -> tuple[str, ...]:
    return tuple(_stemmer(lang).stemWords(content_words(text, lang)))


def content_words(text: str, lang: str) -> list[str]:
    """Lower-cased words less ``lang``'s stop words (single letters dropped), not stemmed."""
    stop = _stopwords(lang)
    return [w for w in _TOKEN.findall(text.lower()) if (len(w) > 1 or w.isdigit()) and w not in stop]
