"""Citation verification (verify.py) on the real seed index and the real e5 model.

Answers are written here by hand, the way a model would write them; the
passage numbers are looked up in the retrieved passages, never assumed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.index import IndexStore
from assistant.models import Passage
from assistant.verify import CitationVerifier, SupportFinder, is_refusal, strip_markers, verify_answer

PRICE_Q = "Combien les agences fédérales américaines paieront-elles par an pour accéder à ChatGPT Enterprise ?"
DOD_Q = "Quel est le montant du contrat signé par OpenAI avec le Pentagone (Département de la Défense) ?"
SOURCES = Path(__file__).resolve().parents[1] / "sources"


def _own_index(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("verify")
    config = Config(sources_dir=SOURCES, index_dir=root / "index")
    IndexStore(config).update()
    return config


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The five seed articles, indexed once (the session's shared index when conftest has one)."""
    try:
        config = request.getfixturevalue("seed_index")
    except pytest.FixtureLookupError:
        config = _own_index(tmp_path_factory)
    return Assistant(config)


@pytest.fixture(scope="module")
def finder(bot: Assistant) -> SupportFinder:
    return SupportFinder.for_assistant(bot)


@pytest.fixture(scope="module")
def price(bot: Assistant) -> tuple[list[Passage], int]:
    """Passages for the price question and the number of the one that states the price."""
    passages = bot.search(PRICE_Q)
    n = next(i for i, p in enumerate(passages, 1) if "1 dollar par an" in p.text)
    return passages, n


def _assert_verbatim(bot: Assistant, verification: object) -> None:
    for c in verification.citations:  # type: ignore[attr-defined]
        assert bot.article_text(c.source)[c.start : c.end] == c.quote
        assert c.passage_start <= c.start < c.end <= c.passage_end


def test_supported_claim_gets_a_verbatim_quote_from_the_article(bot, finder, price) -> None:
    passages, n = price
    v = verify_answer(f"Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise [{n}].", passages, finder, "fr")
    assert v.support == 1.0 and v.unsupported == [] and not v.refused
    assert [c.id for c in v.citations] == [1]
    assert v.answer.endswith("[1].")
    assert "1 dollar par an" in v.citations[0].quote
    _assert_verbatim(bot, v)


def test_quote_comes_from_the_article_not_from_the_model(bot, finder, price) -> None:
    passages, n = price
    claim = "OpenAI offrira ChatGPT Enterprise aux agences fédérales américaines pour 1 dollar par an"
    v = verify_answer(f"{claim} [{n}].", passages, finder, "fr")
    assert len(v.citations) == 1
    quote = v.citations[0].quote
    assert quote != claim and claim not in quote
    _assert_verbatim(bot, v)


def test_a_translation_of_the_source_is_supported(bot, finder, price) -> None:
    passages, n = price
    v = verify_answer(f"Federal agencies will pay $1 a year to use ChatGPT Enterprise [{n}].", passages, finder, "en")
    assert v.support == 1.0, v.rejected
    _assert_verbatim(bot, v)


@pytest.mark.parametrize(
    "claim",
    [
        "Les agences fédérales paieront 2 dollars par an pour ChatGPT Enterprise",  # wrong number
        "Les données des employés serviront à entraîner les modèles d'OpenAI",  # negation flipped
        "OpenAI a racheté Twitter pour 44 milliards de dollars",  # not in the passage
        "The weather in Paris was sunny yesterday",  # unrelated
    ],
)
def test_a_claim_its_passage_does_not_support_is_caught(finder, bot, claim: str) -> None:
    passages = bot.search(claim)
    v = verify_answer(f"{claim} [1].", passages, finder, "fr")
    assert v.citations == []
    assert v.support == 0.0
    assert v.unsupported == [claim + "."]
    assert v.rejected and v.rejected[0][1] == 1


def test_numbers_that_were_not_offered_are_dropped(finder, price) -> None:
    passages, n = price
    text = f"Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise [{n}][{len(passages) + 4}]. OpenAI a signé avec la GSA [0]."
    v = verify_answer(text, passages, finder, "fr")
    assert sorted(v.dropped) == [0, len(passages) + 4]
    assert "[0]" not in v.answer and f"[{len(passages) + 4}]" not in v.answer
    assert v.support == 0.5
    assert v.unsupported == ["OpenAI a signé avec la GSA."]


def test_a_wrong_but_offered_number_is_removed(bot, finder) -> None:
    passages = bot.search(DOD_Q)
    right = next(i for i, p in enumerate(passages, 1) if "200 millions" in p.text)
    wrong = next(i for i, p in enumerate(passages, 1) if "200" not in p.text and "Défense" not in p.text)
    claim = "OpenAI a signé un contrat de 200 millions de dollars avec le Département de la Défense"
    v = verify_answer(f"{claim} [{wrong}][{right}].", passages, finder, "fr")
    assert [c.source for c in v.citations] == [passages[right - 1].source]
    assert (claim, wrong) in v.rejected
    assert v.answer == claim + " [1]."


def test_same_quote_cited_twice_keeps_one_id(finder, price) -> None:
    passages, n = price
    claim = "Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise"
    v = verify_answer(f"{claim} [{n}]. Oui, {claim.lower()} [{n}].", passages, finder, "fr")
    assert v.support == 1.0
    assert len(v.citations) == 1
    assert v.answer.count("[1]") == 2


def test_marker_styles_and_placement(finder, price) -> None:
    passages, n = price
    styles = [f"[{n}]", f"[Passage {n}]", f"[{n}, {n}]"]
    for style in styles:
        v = verify_answer(f"Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise {style}.", passages, finder, "fr")
        assert v.support == 1.0 and v.answer.endswith("[1]."), style
    after = verify_answer(f"Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise. [{n}]", passages, finder, "fr")
    assert after.support == 1.0 and after.unsupported == []


def test_streaming_piece_by_piece_gives_the_same_answer(finder, price) -> None:
    passages, n = price
    text = (
        f"Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise [{n}]. "
        f"OpenAI a racheté Twitter [{n}]. Voir [sic] aussi [{len(passages) + 1}]"
    )
    whole = verify_answer(text, passages, finder, "fr")
    verifier = CitationVerifier(passages, finder, "fr")
    shown = [verifier.feed(ch) for ch in text]
    shown.append(verifier.flush())
    stepwise = verifier.finish()
    assert stepwise.answer == whole.answer
    assert [(c.id, c.start, c.end) for c in stepwise.citations] == [(c.id, c.start, c.end) for c in whole.citations]
    # what was shown while streaming is the final answer (up to spacing), markers already renumbered
    assert " ".join("".join(shown).split()).replace(" .", ".") == whole.answer
    assert "[sic]" in whole.answer
    # a marker is never shown half-written
    assert not any(piece.startswith("[") and "]" not in piece and piece != "[" for piece in shown)


def test_refusals(finder, price) -> None:
    passages, n = price
    for text in (
        "Les articles ne disent pas cela : je n'ai trouvé aucun passage qui réponde à la question.",
        "The articles do not say who will pay.",
        f"Les passages ne précisent pas le nom du ministre [{n}].",
    ):
        v = verify_answer(text, passages, finder, "fr")
        assert v.refused, text
        assert v.citations == [] and v.support is None
    assert is_refusal("Les articles ne le disent pas.")
    assert not is_refusal("Les agences fédérales paieront 1 dollar par an.")
    mixed = verify_answer(
        f"The articles do not say when. Les agences fédérales paieront 1 dollar par an pour ChatGPT Enterprise [{n}].",
        passages,
        finder,
        "fr",
    )
    assert not mixed.refused and mixed.support == 1.0


def test_strip_markers() -> None:
    assert strip_markers("Un dollar [1][2]. Deux [Passage 3] ans.") == "Un dollar. Deux ans."
