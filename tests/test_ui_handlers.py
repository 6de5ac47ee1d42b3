"""ui/handlers.py as plain functions over a real index (no browser, no server)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.watch import Indexer
from ui import handlers
from ui.handlers import Turn

MB = 1_000_000
PRICE_Q = "Combien coûte ChatGPT Enterprise aux agences fédérales ?"
CEO_Q = "Qui est le PDG d'Anthropic ?"
OFF_TOPIC_Q = "Quelle est la recette de la tarte tatin ?"
MADE_UP = (
    "date: 2026-04-02\n"
    "Le phare de Kerlouan repeint en violet\n\n"
    "Le phare de Kerlouan a été repeint en violet par l'association Lumières du Léon au printemps 2026.\n"
    "La peinture violette a coûté 48 300 euros, financés par une souscription de 912 habitants.\n"
)


@pytest.fixture(scope="module")
def config(seed_index: Config, tmp_path_factory: pytest.TempPathFactory) -> Config:
    """A private copy of the seed index (sources + index), shared by this module's tests."""
    root = tmp_path_factory.mktemp("ui-handlers")
    sources = root / "sources"
    shutil.copytree(seed_index.sources_dir, sources)
    shutil.copytree(seed_index.index_dir, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return Config(sources_dir=sources, index_dir=root / "index")


@pytest.fixture(scope="module")
def bot(config: Config) -> Assistant:
    return Assistant(config)


@pytest.fixture(scope="module")
def indexer(bot: Assistant) -> Indexer:
    return Indexer(bot)


def ask(bot: Assistant, question: str, turns: list[Turn] | None = None) -> list[handlers.ChatUpdate]:
    return list(handlers.respond(bot, question, turns or [], delay=0))


def test_answer_streams_in_then_shows_clickable_citations_and_their_sources(bot: Assistant) -> None:
    updates = ask(bot, CEO_Q)
    first, final = updates[0], updates[-1]
    assert first.chat[0]["role"] == "user" and "PDG d&#x27;Anthropic" in first.chat[0]["content"]
    assert "streaming" in first.chat[1]["content"] and first.sources is None
    partials = [u.chat[-1]["content"] for u in updates[1:-1]]
    assert len(partials) >= 2, "the answer should arrive in several pieces"
    assert all("streaming" in p for p in partials)
    assert len(partials[0]) < len(partials[-1])

    answer = final.turns[0].answer
    assert answer is not None and not answer.refused and answer.citations
    bubble = final.chat[-1]["content"]
    assert 'class="answer done"' in bubble
    for c in answer.citations:
        assert f'href="#cite-0-{c.id}"' in bubble
    assert final.sources is not None
    cited = answer.citations[0]
    assert f'id="cite-0-{cited.id}"' in final.sources and cited.source in final.sources
    assert "Dario Amodei" in final.sources.split("<mark>")[1].split("</mark>")[0]


def test_clicking_a_marker_and_opening_the_article_show_the_quoted_sentence(bot: Assistant) -> None:
    turns = ask(bot, CEO_Q)[-1].turns
    c = turns[0].answer.citations[0]  # type: ignore[union-attr]
    sources, article = handlers.show_target(bot, f"cite-0-{c.id}|1716", turns)
    assert article is None and sources is not None
    assert f'class="card active scroll-target" id="cite-0-{c.id}"' in sources
    sources, article = handlers.show_target(bot, f"open-0-{c.id}|1717", turns)
    assert sources is None and article is not None
    text = bot.article_text(c.source)
    assert text[c.start : c.end] == c.quote
    highlighted = article.split('scroll-target">')[1].split("</mark>")[0]
    assert highlighted == c.quote.replace("'", "&#x27;").replace('"', "&quot;")
    assert len(article) > len(c.quote) * 3  # the whole article, not just the passage


@pytest.mark.parametrize("target", ["cite-5-1", "open-0-42", "passage-0-9", "garbage", "javascript:alert(1)", "", "cite-0-1x"])
def test_unknown_targets_change_nothing(bot: Assistant, target: str) -> None:
    turns = ask(bot, CEO_Q)[-1].turns
    assert handlers.show_target(bot, target, turns) == (None, None)


def test_follow_up_is_rewritten_from_the_conversation_and_shown(bot: Assistant) -> None:
    turns = ask(bot, PRICE_Q)[-1].turns
    final = ask(bot, "Et Anthropic ?", turns)[-1]
    answer = final.turns[1].answer
    assert answer is not None and answer.standalone_question
    assert "Anthropic" in answer.standalone_question and "agences fédérales" in answer.standalone_question
    assert "Question comprise comme" in final.chat[-1]["content"]
    assert any("Anthropic" in c.title or "Anthropic" in c.quote for c in answer.citations)
    assert len(final.chat) == 4 and 'href="#cite-1-' in final.chat[-1]["content"]


def test_history_uses_the_rewritten_question_of_earlier_follow_ups(bot: Assistant) -> None:
    turns = ask(bot, PRICE_Q)[-1].turns
    turns = ask(bot, "Et Anthropic ?", turns)[-1].turns
    history = handlers.history_of(turns)
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[2]["content"] == turns[1].answer.standalone_question  # type: ignore[union-attr]


def test_refusal_offers_the_closest_passages_which_open_in_their_article(bot: Assistant) -> None:
    final = ask(bot, OFF_TOPIC_Q)[-1]
    answer = final.turns[0].answer
    assert answer is not None and answer.refused and answer.retrieved
    assert 'class="answer refused done"' in final.chat[-1]["content"]
    assert final.sources is not None and 'href="#passage-0-1"' in final.sources
    _, article = handlers.show_target(bot, "passage-0-1", final.turns)
    p = answer.retrieved[0]
    assert article is not None and 'class="hl passage scroll-target"' in article
    assert p.title.split()[0] in article


def test_selecting_an_older_answer_shows_its_sources(bot: Assistant) -> None:
    turns = ask(bot, CEO_Q)[-1].turns
    turns = ask(bot, OFF_TOPIC_Q, turns)[-1].turns
    first = handlers.select_turn(turns, 1)  # the assistant message of turn 0
    second = handlers.select_turn(turns, 2)  # the user message of turn 1
    assert first is not None and 'data-turn="0"' in first and "cite-0-" in first
    assert second is not None and 'data-turn="1"' in second and "passage-1-" in second
    assert handlers.select_turn(turns, 99) is None


def test_empty_question_does_nothing_and_a_bad_one_gets_a_message(bot: Assistant) -> None:
    assert ask(bot, "   ") == []
    final = ask(bot, "pourquoi " * 400)[-1]
    assert final.turns[0].error and "2,000" in final.turns[0].error
    assert 'class="answer error"' in final.chat[-1]["content"] and "Traceback" not in final.chat[-1]["content"]
    # the failed turn stays in the chat when the next question comes
    again = ask(bot, CEO_Q, final.turns)[-1]
    assert len(again.chat) == 4 and 'class="answer error"' in again.chat[1]["content"]


def test_uploaded_file_is_saved_indexed_and_answerable(bot: Assistant, indexer: Indexer, tmp_path: Path) -> None:
    upload_dir = tmp_path / "gradio-upload"
    upload_dir.mkdir()
    good = upload_dir / "Phare de Kerlouan.txt"
    good.write_text(MADE_UP, encoding="utf-8")
    binary = upload_dir / "photo.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" * 20)
    program = upload_dir / "tool.exe"
    program.write_bytes(b"MZ")
    fractions: list[float] = []

    up = handlers.add_files(indexer, [str(good), str(binary), str(program)], 10 * MB, lambda f, _: fractions.append(f))
    assert not up.ok
    assert "Added Phare-de-Kerlouan.txt" in up.message
    assert "photo.txt" in up.message and "binary" in up.message
    assert "tool.exe" in up.message and "not accepted" in up.message
    assert "Phare-de-Kerlouan.txt" in up.articles and "Le phare de Kerlouan repeint en violet" in up.articles
    assert fractions and fractions[-1] == pytest.approx(1.0)
    assert (Path(bot.config.sources_dir) / "Phare-de-Kerlouan.txt").is_file()
    assert not (Path(bot.config.sources_dir) / "tool.exe").exists()

    final = ask(bot, "Combien a coûté la peinture du phare de Kerlouan ?")[-1]
    answer = final.turns[0].answer
    assert answer is not None and not answer.refused
    assert answer.citations[0].source == "Phare-de-Kerlouan.txt"
    assert "48 300" in answer.answer


def test_pasted_article_is_indexed_and_bad_fields_are_named(bot: Assistant, indexer: Indexer) -> None:
    bad = handlers.add_text(indexer, "", "du texte", None, MB)
    assert not bad.ok and "title is empty" in bad.message
    up = handlers.add_text(indexer, "La fête du cidre de Plougastel",
                           "La fête du cidre de Plougastel a réuni 7 450 visiteurs le dimanche 12 avril 2026.",
                           "2026-04-13", MB)
    assert up.ok, up.message
    assert "La-fete-du-cidre-de-Plougastel.txt" in up.articles
    answer = bot.ask("Combien de visiteurs a réuni la fête du cidre de Plougastel ?")
    assert not answer.refused and answer.citations[0].source == "La-fete-du-cidre-de-Plougastel.txt"


def test_an_article_removed_after_the_answer_says_so_when_opened(bot: Assistant, indexer: Indexer) -> None:
    handlers.add_text(indexer, "Le marché de Landerneau", "Le marché de Landerneau ouvrira désormais le jeudi à 6 h 30.", None, MB)
    turns = ask(bot, "Quel jour ouvrira le marché de Landerneau ?")[-1].turns
    c = turns[0].answer.citations[0]  # type: ignore[union-attr]
    (Path(bot.config.sources_dir) / c.source).unlink()
    indexer.update("test")
    _, article = handlers.show_target(bot, f"open-0-{c.id}", turns)
    assert article is not None and "no longer in the index" in article


def test_index_view_counts_what_the_index_holds(bot: Assistant) -> None:
    status, table = handlers.index_view(bot)
    articles = bot.articles()
    assert f"<b>{len(articles)}</b> articles" in status
    assert table.count("<tr>") == len(articles) + 1


def test_a_damaged_index_shows_its_message_instead_of_the_status(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "catalog.json").write_text("{not json", encoding="utf-8")
    broken = Assistant(Config(sources_dir=tmp_path / "sources", index_dir=tmp_path / "index"))
    status, table = handlers.index_view(broken)
    assert 'class="status error"' in status and "rebuild" in status
    assert "No article indexed yet" in table


def test_api_ask_returns_the_answer_as_json_and_accepts_a_history(bot: Assistant) -> None:
    first = handlers.api_ask(bot, PRICE_Q)
    assert first["citations"] and first["question"] == PRICE_Q
    follow = handlers.api_ask(bot, "Et Anthropic ?", [{"role": "user", "content": PRICE_Q},
                                                       {"role": "assistant", "content": first["answer"]}])
    assert follow["standalone_question"] and "Anthropic" in follow["standalone_question"]
    assert handlers.api_ask(bot, "Et Anthropic ?", "not a list")["standalone_question"] is None


def test_questions_while_indexing_see_a_whole_index(bot: Assistant, indexer: Indexer) -> None:
    """Answers keep coming, complete and cited, while another thread re-indexes."""
    sources = Path(bot.config.sources_dir)
    done = threading.Event()
    errors: list[BaseException] = []

    def write_and_index() -> None:
        try:
            for i in range(3):
                (sources / f"concurrent-{i}.txt").write_text(
                    f"Article parallèle {i}\n\nLa régate numéro {i} de Morlaix a compté {30 + i} voiliers.\n",
                    encoding="utf-8")
                indexer.update(f"concurrent {i}")
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=write_and_index)
    thread.start()
    answers = []
    while not done.is_set() or len(answers) < 2:
        final = ask(bot, CEO_Q)[-1]
        assert final.turns[0].error is None, final.turns[0].error
        answers.append(final.turns[0].answer)
    thread.join()
    assert not errors, errors
    for answer in answers:
        assert answer is not None and answer.citations
        for c in answer.citations:
            assert bot.article_text(c.source)[c.start : c.end] == c.quote
    assert ask(bot, "Combien de voiliers a compté la régate numéro 2 de Morlaix ?")[-1].turns[0].answer.citations  # type: ignore[union-attr]


def test_word_groups_keep_every_character() -> None:
    text = "Le PDG  d’Anthropic,\nDario Amodei, a déclaré [1]"
    pieces = handlers.word_groups(text, 2)
    assert "".join(pieces) == text and len(pieces) == 4


@pytest.fixture(autouse=True)
def _no_stream_delay(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(handlers, "STREAM_DELAY_S", 0.0)
    yield
