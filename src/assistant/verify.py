"""Check every citation of a generated answer against the passage it names.

A language model writes ``sentence [n]``; nothing it writes is trusted. For each
``[n]`` this module looks in passage ``n`` for the sentence (or two adjacent
sentences) that support the claim before the marker, scored by

* lexical coverage: IDF-weighted share of the claim's stems found in the candidate;
* e5 similarity between the claim (as a query) and the candidate (as a passage),
  which also works when the answer and the article are in different languages;
* numbers: every number in the claim must appear in the candidate ("2 dollars"
  is not supported by "1 dollar", however similar the two sentences look).

A supported marker becomes a citation whose ``quote``, ``start`` and ``end`` are
taken from the article text (``article_text[start:end] == quote``), never from
the model's words. Numbers that were not offered are dropped; a marker whose
passage does not support its claim is dropped too, and a sentence left without
a marker is reported as unsupported.

:class:`CitationVerifier` works incrementally: ``feed`` the model's tokens as
they arrive and it returns text that is safe to show at once, with markers
held back until they close and renumbered to the final citation ids; so the
streamed text and the final answer agree. ``verify_answer`` is the one-shot form.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .markers import LEADING_MARKERS, MARKER, MODEL_MARKER, MODEL_MARKER_PREFIX, strip_markers, tidy  # noqa: F401 (re-exported)
from .models import Citation, Passage
from .text import detect_language, fold, lexical_tokens, sentence_spans

# e5 cosine similarity: unrelated sentences of the same topic sit near 0.80-0.85,
# a sentence and its paraphrase or translation near 0.88-0.95.
DENSE_FLOOR, DENSE_CEIL = 0.80, 0.93
W_LEXICAL_SAME_LANGUAGE = 0.5  # the rest of the score is the dense signal
W_LEXICAL_CROSS_LANGUAGE = 0.3  # across languages: the share of the claim's names and numbers
SUPPORT_THRESHOLD = 0.5
PAIR_MARGIN = 0.05  # a two-sentence quote must beat the best single sentence by this much
MAX_MARKER_CHARS = 24
CACHE_PASSAGES = 256

_WORDY = re.compile(r"\w{2,}")
_WORD = re.compile(r"\w+")
# "ne ... que" (only) is not a negation; "pas", "jamais", "aucun" are.
_NEGATION = re.compile(r"\b(?:pas|jamais|aucun|aucune|nullement|not|never|cannot|no longer)\b|\w+n['’]t\b", re.I)
_ANCHOR = re.compile(r"(?<![.!?:]\s)(?<!^)\b(?:[A-Z][\w-]*|\w*\d[\w-]*)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUMBER_WORDS = {
    "un": "1", "une": "1", "one": "1", "deux": "2", "two": "2", "trois": "3", "three": "3",
    "quatre": "4", "four": "4", "cinq": "5", "five": "5", "six": "6", "sept": "7", "seven": "7",
    "huit": "8", "eight": "8", "neuf": "9", "nine": "9", "dix": "10", "ten": "10",
    "douze": "12", "twelve": "12", "cent": "100", "hundred": "100",
}
_REFUSAL = re.compile(
    r"\b(?:articles?|passages?|sources?|textes?|documents?)\b.{0,60}?\b(?:"
    r"ne\s+(?:le\s+|l['’]\s*|en\s+|y\s+)?(?:disent|dit|précisent|précise|mentionnent|mentionne|indiquent|indique|"
    r"contiennent|contient|parlent|parle|donnent|donne|répondent|répond)|"
    r"do(?:es)?\s+not\s+(?:say|mention|state|specify|indicate|contain|answer|provide|give)|"
    r"don['’]t\s+(?:say|mention|state|specify|contain)|"
    r"(?:say|mention|state)s?\s+nothing)"
    r"|\b(?:aucune information|aucun passage|no information|no passage|not mentioned|pas mentionné)",
    re.I,
)


@dataclass(frozen=True)
class Evidence:
    """Where in an article a claim is supported."""

    passage: Passage
    start: int  # offsets into the article text
    end: int
    quote: str  # == article_text[start:end]
    score: float
    lexical: float
    dense: float


@dataclass
class Verification:
    answer: str  # the text with verified, renumbered markers
    citations: list[Citation]
    unsupported: list[str]  # sentences with no verified citation
    supported: int  # sentences that carry at least one verified citation
    claims: int  # sentences that state something (refusals and empty lines excluded)
    refused: bool  # the answer only says that the articles do not say
    dropped: list[int] = field(default_factory=list)  # cited numbers that were not offered
    rejected: list[tuple[str, int]] = field(default_factory=list)  # (claim, n) that passage n does not support

    @property
    def support(self) -> float | None:
        """Share of claim sentences backed by a verified quote; None when there are no claims."""
        return None if self.claims == 0 else self.supported / self.claims


def is_refusal(sentence: str) -> bool:
    """True for "the articles do not say ..." in French or English."""
    return bool(_REFUSAL.search(fold(sentence)))


class SupportFinder:
    """Finds the sentence(s) of a passage that support a claim.

    ``article_text(source)`` returns the cleaned text that passage offsets refer to;
    ``idf(lang, stems)`` weighs stems (rare words count more); ``embedder`` has
    ``query_vector`` and ``passage_vectors`` (the index's e5 model).
    """

    def __init__(
        self,
        embedder: object,
        article_text: Callable[[str], str],
        idf: Callable[[str, list[str]], dict[str, float]] | None = None,
    ) -> None:
        self.embedder = embedder
        self.article_text = article_text
        self.idf = idf
        self._sentences: OrderedDict[tuple[str, int, int], _Candidates] = OrderedDict()
        self._claims: dict[str, np.ndarray] = {}

    @classmethod
    def for_assistant(cls, assistant: object) -> "SupportFinder":
        retriever = assistant.retriever  # type: ignore[attr-defined]
        return cls(
            retriever.embedder,
            assistant.article_text,  # type: ignore[attr-defined]
            lambda lang, stems: retriever.snapshot().lexical.idf(lang, stems),
        )

    def find(self, claim: str, passage: Passage) -> Evidence | None:
        """The best supporting span of ``passage`` for ``claim``, or None when none is good enough."""
        claim = strip_markers(claim)
        if not _WORDY.search(claim):
            return None
        candidates = self._candidates(passage)
        if not candidates.spans:
            return None
        numbers = _numbers(claim)
        negated = _negated(claim)
        claim_lang = detect_language(claim, default=passage.lang)
        if claim_lang == passage.lang:
            w_lex = W_LEXICAL_SAME_LANGUAGE
            stems = sorted(set(lexical_tokens(claim, passage.lang)))
            weights = self.idf(passage.lang, stems) if self.idf else {s: 1.0 for s in stems}
            bags = candidates.stems
        else:
            # Across languages only names, acronyms and numbers are shared words.
            w_lex = W_LEXICAL_CROSS_LANGUAGE
            weights = {a: 1.0 for a in _anchors(claim)}
            bags = candidates.words
        total = sum(weights.values())
        dense = candidates.vectors @ self._claim_vector(claim)
        best: Evidence | None = None
        best_single = 0.0
        for i, (start, end) in enumerate(candidates.spans):
            if not numbers <= candidates.numbers[i] or negated != candidates.negated[i]:
                continue
            lexical = sum(w for s, w in weights.items() if s in bags[i]) / total if total else 0.0
            d = float(dense[i])
            score = w_lex * lexical + (1 - w_lex) * _dense_norm(d)
            if candidates.pair[i] and score < best_single + PAIR_MARGIN:
                continue
            if not candidates.pair[i]:
                best_single = max(best_single, score)
            if best is None or score > best.score:
                text = candidates.text
                best = Evidence(passage, start, end, text[start:end], score, lexical, d)
        if best is None or best.score < SUPPORT_THRESHOLD:
            return None
        return best

    def _claim_vector(self, claim: str) -> np.ndarray:
        vec = self._claims.get(claim)
        if vec is None:
            vec = np.asarray(self.embedder.query_vector(claim), dtype=np.float32)  # type: ignore[attr-defined]
            if len(self._claims) > CACHE_PASSAGES:
                self._claims.clear()
            self._claims[claim] = vec
        return vec

    def _candidates(self, passage: Passage) -> "_Candidates":
        key = (passage.source, passage.start, passage.end)
        cached = self._sentences.get(key)
        if cached is not None:
            self._sentences.move_to_end(key)
            return cached
        text = self.article_text(passage.source)
        singles = [(a, b) for a, b in sentence_spans(text, passage.start, passage.end) if _WORDY.search(text[a:b])]
        # Two adjacent sentences too: a claim may join what the article says in two.
        spans = singles + [(a, d) for (a, _), (_, d) in zip(singles, singles[1:])]
        pair = [i >= len(singles) for i in range(len(spans))]
        if singles:
            single_vectors = np.asarray(
                self.embedder.passage_vectors([text[a:b] for a, b in singles]), dtype=np.float32  # type: ignore[attr-defined]
            )
            pair_vectors = [_normalise(single_vectors[i] + single_vectors[i + 1]) for i in range(len(singles) - 1)]
            vectors = np.vstack([single_vectors, *pair_vectors]) if pair_vectors else single_vectors
        else:
            vectors = np.zeros((0, 1), dtype=np.float32)
        cands = _Candidates(
            text=text,
            spans=spans,
            pair=pair,
            vectors=vectors,
            stems=[frozenset(lexical_tokens(text[a:b], passage.lang)) for a, b in spans],
            numbers=[_numbers(text[a:b], source=True) for a, b in spans],
            words=[frozenset(w.casefold() for w in _WORD.findall(text[a:b])) for a, b in spans],
            negated=[_negated(text[a:b]) for a, b in spans],
        )
        self._sentences[key] = cands
        if len(self._sentences) > CACHE_PASSAGES:
            self._sentences.popitem(last=False)
        return cands


@dataclass
class _Candidates:
    text: str
    spans: list[tuple[int, int]]
    pair: list[bool]  # two adjacent sentences (after all the single ones)
    vectors: np.ndarray
    stems: list[frozenset[str]]
    numbers: list[frozenset[str]]
    words: list[frozenset[str]]  # case-folded words, for names across languages
    negated: list[bool]


class CitationVerifier:
    """Rewrites a streamed answer's markers into verified citations, piece by piece."""

    def __init__(self, passages: list[Passage], finder: SupportFinder, lang: str = "en") -> None:
        self.passages = passages
        self.finder = finder
        self.lang = lang
        self._raw = ""
        self._pos = 0  # raw text before this is handled
        self._claim_start = 0  # raw offset where the current claim begins
        self._last_claim = ""
        self._out: list[str] = []
        self._citations: list[Citation] = []
        self._ids: dict[tuple[str, int, int], int] = {}
        self._dropped: list[int] = []
        self._rejected: list[tuple[str, int]] = []

    def feed(self, piece: str) -> str:
        """Add model text; return the text that can be shown now."""
        self._raw += piece
        return self._advance(final=False)

    def flush(self) -> str:
        """The text still held back (an unclosed "[..."), once the model has finished."""
        return self._advance(final=True)

    def finish(self) -> Verification:
        self.flush()
        answer = tidy("".join(self._out))
        supported, claims, unsupported, refusals = 0, 0, [], 0
        for sentence in _answer_sentences(answer):
            plain = strip_markers(sentence)
            if not _WORDY.search(plain):
                continue
            if MARKER.search(sentence):
                supported += 1
                claims += 1
            elif is_refusal(plain):
                refusals += 1
            elif lexical_tokens(plain, self.lang):
                claims += 1
                unsupported.append(plain)
        return Verification(
            answer=answer,
            citations=list(self._citations),
            unsupported=unsupported,
            supported=supported,
            claims=claims,
            refused=claims == 0 and refusals > 0,
            dropped=list(self._dropped),
            rejected=list(self._rejected),
        )

    def _advance(self, final: bool) -> str:
        raw, out = self._raw, []
        while self._pos < len(raw):
            i = raw.find("[", self._pos)
            if i < 0:
                out.append(raw[self._pos :])
                self._pos = len(raw)
                break
            out.append(raw[self._pos : i])
            self._pos = i
            match = MODEL_MARKER.match(raw, i)
            if match:
                out.append(self._marker(i, [int(n) for n in re.split(r"[,;]", match.group(1))]))
                self._pos = match.end()
                self._claim_start = match.end()
                continue
            rest = raw[i:]
            if not final and len(rest) <= MAX_MARKER_CHARS and MODEL_MARKER_PREFIX.match(rest):
                break  # maybe a marker still arriving: hold it back
            out.append("[")
            self._pos = i + 1
        text = "".join(out)
        self._out.append(text)
        return text

    def _marker(self, at: int, numbers: list[int]) -> str:
        segment = self._raw[self._claim_start : at]
        claim = self._last_claim
        for a, b in reversed(sentence_spans(segment)):
            if _WORDY.search(strip_markers(segment[a:b])):
                claim = segment[a:b]
                break
        self._last_claim = claim
        shown: list[int] = []
        if is_refusal(strip_markers(claim)):
            return ""  # "the articles do not say [2]": nothing to verify
        for n in numbers:
            if not 1 <= n <= len(self.passages):
                self._dropped.append(n)
                continue
            evidence = self.finder.find(claim, self.passages[n - 1]) if claim else None
            if evidence is None:
                self._rejected.append((strip_markers(claim), n))
                continue
            cid = self._cite(evidence)
            if cid not in shown:
                shown.append(cid)
        return "".join(f"[{c}]" for c in shown)

    def _cite(self, ev: Evidence) -> int:
        key = (ev.passage.source, ev.start, ev.end)
        cid = self._ids.get(key)
        if cid is None:
            cid = len(self._citations) + 1
            self._ids[key] = cid
            self._citations.append(Citation.of(cid, ev.passage, ev.quote, ev.start, ev.end, ev.score))
        return cid


def verify_answer(text: str, passages: list[Passage], finder: SupportFinder, lang: str = "en") -> Verification:
    """Verify a complete answer (the one-shot form of :class:`CitationVerifier`)."""
    verifier = CitationVerifier(passages, finder, lang)
    verifier.feed(text)
    return verifier.finish()


def _answer_sentences(answer: str) -> list[str]:
    """Sentences of the answer; markers written after a full stop belong to the sentence before."""
    sentences: list[str] = []
    for a, b in sentence_spans(answer):
        sentence = answer[a:b]
        lead = LEADING_MARKERS.match(sentence)
        if lead and sentences:
            sentences[-1] += " " + lead.group().strip()
            sentence = sentence[lead.end() :]
        if sentence.strip():
            sentences.append(sentence)
    return sentences


def _numbers(text: str, source: bool = False) -> frozenset[str]:
    """Numbers in ``text``: "1,5" and "1.5" alike, "08" as "8", "1,000" as "1000".

    For a ``source`` text, also the parts of a number ("2025-08-07" holds 2025, 8
    and 7) and number words ("un dollar" holds 1), so a claim may write either.
    """
    found = set()
    for raw in _NUMBER.findall(text):
        if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw):
            raw = raw.replace(",", "")
        value = raw.replace(",", ".").lstrip("0") or "0"
        if value.startswith("."):
            value = "0" + value
        found.add(value)
        if source:
            found.update(part.lstrip("0") or "0" for part in re.split(r"[.,]", raw))
    if source:
        for word in re.findall(r"\w+", text.lower()):
            if word in _NUMBER_WORDS:
                found.add(_NUMBER_WORDS[word])
    return frozenset(found)


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


def _anchors(claim: str) -> set[str]:
    """Names, acronyms and numbers of a claim (capitalised words not opening a sentence, digits)."""
    out = set()
    for match in _ANCHOR.finditer(claim.strip()):
        out.update(w.casefold() for w in _WORD.findall(match.group()))
    return out


def _dense_norm(cosine: float) -> float:
    return min(1.0, max(0.0, (cosine - DENSE_FLOOR) / (DENSE_CEIL - DENSE_FLOOR)))


def _normalise(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n else v
