"""ui/handlers.py as plain functions over a real index (no browser, no server)."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from assistant.api import Assistant
from assistant.config import Config
from assistant.followup import MAX_HISTORY_MESSAGE_CHARS, MAX_HISTORY_MESSAGES, bound_history
from assistant.watch import Indexer
from assistant.ui import handlers, handlers_index
from assistant.ui.handlers import Turn

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
    return list(handlers.respond(bot, question, turns or []))


def test_extractive_answer_shows_at_once_with_clickable_citations_and_their_sources(bot: Assistant) -> None:
    updates = ask(bot, CEO_Q)
    first, final = updates[0], updates[-1]
    assert first.chat[0]["role"] == "user" and "PDG d&#x27;Anthropic" in first.chat[0]["content"]
    assert "pending" in first.chat[1]["content"] and first.sources is None and not first.done
    assert len(updates) == 2, "the extractive answer is ready at once: no word-by-word replay"
    assert final.done

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

    up = handlers_index.add_files(indexer, [str(good), str(binary), str(program)], 10 * MB, lambda f, _: fractions.append(f))
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


def test_an_upload_of_too_many_files_is_refused_whole(bot: Assistant, indexer: Indexer, tmp_path: Path) -> None:
    paths = []
    for i in range(10 * handlers_index.MAX_FILES_PER_UPLOAD):  # ten times what one upload may carry
        paths.append(tmp_path / f"note-{i}.txt")
        paths[-1].write_text(f"Note {i}\n\nLa note {i} parle du phare.\n", encoding="utf-8")
    before = sorted(p.name for p in Path(bot.config.sources_dir).iterdir())
    up = handlers_index.add_files(indexer, [str(p) for p in paths], 10 * MB, lang="fr")
    assert not up.ok and "200 fichiers à la fois" in up.message and "au plus 20" in up.message
    assert sorted(p.name for p in Path(bot.config.sources_dir).iterdir()) == before  # nothing saved


def test_the_article_filter_asks_the_index_and_keeps_to_a_page(bot: Assistant) -> None:
    _, table = handlers_index.index_view(bot, "en", match="anthropic")
    shown = table.count('<tr class="art"') + table.count('<tr class="dup"')
    assert shown == bot.catalog("anthropic").matched >= 1
    assert shown < len(bot.catalog().entries)
    _, none = handlers_index.index_view(bot, "fr", match="zzzqqq")
    assert "Aucun article ne contient « zzzqqq »" in none
    _, long = handlers_index.index_view(bot, "en", match="x" * 201)
    assert "200" in long and "filter" in long and "<table" not in long  # the bound, said in the list's place


def test_an_upload_with_encoded_data_says_what_was_left_out(indexer: Indexer, tmp_path: Path) -> None:
    upload = tmp_path / "Piece jointe.txt"
    upload.write_text("Le chantier du port\n\nLa photo suit : " + "QUJD" * 100_000 + " Elle date du 3 mars.\n", encoding="utf-8")
    up = handlers_index.add_files(indexer, [str(upload)], 10 * MB, lambda f, _: None)
    assert up.ok, up.message
    assert "Added Piece-jointe.txt" in up.message
    assert "Piece-jointe.txt: indexed in part: skipped 400.0 KB without spaces (encoded data?)" in up.message


def test_pasted_article_is_indexed_and_bad_fields_are_named(bot: Assistant, indexer: Indexer) -> None:
    bad = handlers_index.add_text(indexer, "", "du texte", None, MB)
    assert not bad.ok and "title is empty" in bad.message
    up = handlers_index.add_text(indexer, "La fête du cidre de Plougastel",
                           "La fête du cidre de Plougastel a réuni 7 450 visiteurs le dimanche 12 avril 2026.",
                           "2026-04-13", MB)
    assert up.ok, up.message
    assert "La-fete-du-cidre-de-Plougastel.txt" in up.articles
    answer = bot.ask("Combien de visiteurs a réuni la fête du cidre de Plougastel ?")
    assert not answer.refused and answer.citations[0].source == "La-fete-du-cidre-de-Plougastel.txt"


def test_an_article_removed_after_the_answer_says_so_when_opened(bot: Assistant, indexer: Indexer) -> None:
    handlers_index.add_text(indexer, "Le marché de Landerneau", "Le marché de Landerneau ouvrira désormais le jeudi à 6 h 30.", None, MB)
    turns = ask(bot, "Quel jour ouvrira le marché de Landerneau ?")[-1].turns
    c = turns[0].answer.citations[0]  # type: ignore[union-attr]
    (Path(bot.config.sources_dir) / c.source).unlink()
    indexer.update("test")
    _, article = handlers.show_target(bot, f"open-0-{c.id}", turns)
    assert article is not None and "n&#x27;est plus dans l&#x27;index" in article  # in the question's language


def test_index_view_counts_what_the_index_holds(bot: Assistant) -> None:
    status, table = handlers_index.index_view(bot)
    articles = bot.articles()
    assert f"<b>{len(articles)} articles</b>" in status and "updated" in status
    assert table.count("<tr") == len(bot.catalog().entries) + 1 == len(articles) + 1
    assert "articles-more" not in table  # a small archive: the whole list, no "find the others" line


def test_a_damaged_index_shows_its_message_instead_of_the_status(tmp_path: Path) -> None:
    (tmp_path / "index" / "chroma").mkdir(parents=True)
    (tmp_path / "index" / "chroma" / "chroma.sqlite3").write_bytes(b"this is not a database" * 1000)
    broken = Assistant(Config(sources_dir=tmp_path / "sources", index_dir=tmp_path / "index"))
    status, table = handlers_index.index_view(broken)
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




def test_each_answer_brings_its_own_sources_and_a_refusal_its_closest_passages(bot: Assistant) -> None:
    turns = ask(bot, CEO_Q)[-1].turns
    second = ask(bot, OFF_TOPIC_Q, turns)[-1]
    assert second.sources is not None and 'data-turn="1"' in second.sources and 'data-active="0"' in second.sources
    assert second.sources.index('class="closest-head"') < second.sources.index('class="card closest"')
    assert "cite-0-" not in second.sources


def test_llm_tokens_stream_as_they_come_and_citations_settle_when_verified(seed_index: Config) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    from assistant.llm import LLMAnswerer

    n = next(i for i, p in enumerate(Assistant(seed_index).search(PRICE_Q), 1) if "1 dollar par an" in p.text)
    reply = f"Les agences fédérales américaines paieront 1 dollar par an pour ChatGPT Enterprise [{n}][77]."
    bot = Assistant(seed_index, llm=LLMAnswerer(GenericFakeChatModel(messages=iter([reply])), "fake:ui"))
    updates = ask(bot, PRICE_Q)
    streamed = [u.chat[-1]["content"] for u in updates if not u.done and "streaming" in u.chat[-1]["content"]]
    assert len(streamed) > 5  # token by token, as the model sent them
    assert all('href="#cite-' not in s for s in streamed)  # markers are pending while unverified
    assert any('class="cite pending"' in s for s in streamed)
    final = updates[-1]
    answer = final.turns[0].answer
    assert answer is not None and answer.citations and "[77]" not in answer.answer
    assert 'href="#cite-0-1"' in final.chat[-1]["content"] and "pending" not in final.chat[-1]["content"]


def test_articles_open_delete_and_reindex(bot: Assistant, indexer: Indexer) -> None:
    up = handlers_index.add_text(indexer, "Le viaduc de Morlaix", "Le viaduc de Morlaix mesure 292 mètres de long.",
                                 None, MB)
    assert up.ok, up.message
    source = "Le-viaduc-de-Morlaix.txt"
    article = handlers.open_article(bot, source)
    assert "292 mètres" in article and "Le viaduc de Morlaix" in article
    assert handlers.parse_file_target("delete:Le-viaduc-de-Morlaix.txt|1234") == ("delete", source)
    assert handlers.parse_file_target("delete:a%20b.txt") == ("delete", "a b.txt")
    assert handlers.parse_file_target("cite-0-1") is None

    gone = handlers_index.delete_article(indexer, source)
    assert gone.ok and "deleted" in gone.message and source not in gone.articles
    assert not (Path(bot.config.sources_dir) / source).exists()
    assert all(e.source != source for e in bot.catalog().entries)
    assert bot.ask("Combien mesure le viaduc de Morlaix ?").refused or all(
        c.source != source for c in bot.ask("Combien mesure le viaduc de Morlaix ?").citations)
    again = handlers_index.delete_article(indexer, source)
    assert not again.ok and source in again.message
    outside = handlers_index.delete_article(indexer, "../index/chroma/chroma.sqlite3")
    assert not outside.ok and (Path(bot.config.index_dir) / "chroma" / "chroma.sqlite3").is_file()

    (Path(bot.config.sources_dir) / "quai.txt").write_text("Le quai\n\nLe quai de Roscoff fait 80 mètres.\n",
                                                           encoding="utf-8")
    shared = handlers_index.IndexProgress()
    seen: list[float] = []
    done = handlers_index.reindex(indexer, "fr", lambda f, _: seen.append(f), shared)
    assert done.ok and "Index à jour" in done.message and "1 added" in done.message
    assert seen and shared.get() is None  # the status line's progress is cleared afterwards


def test_duplicates_are_listed_as_such(bot: Assistant, indexer: Indexer) -> None:
    src = Path(bot.config.sources_dir)
    original = next(e for e in bot.catalog().entries if e.duplicate_of is None)
    (src / "copie-exacte.txt").write_bytes((src / original.source).read_bytes())
    indexer.update("test")
    entry = bot.catalog_entry("copie-exacte.txt")
    assert entry is not None and bot.catalog("copie-exacte").entries == [entry]
    assert entry.duplicate_of == original.source and entry.size_bytes > 0
    _, table = handlers_index.index_view(bot)
    row = table.split('data-source="copie-exacte.txt"')[1].split("</tr>")[0]
    assert f"duplicate of {original.source}" in row


def test_export_is_markdown_of_the_whole_conversation(bot: Assistant) -> None:
    turns = ask(bot, CEO_Q)[-1].turns
    turns = ask(bot, OFF_TOPIC_Q, turns)[-1].turns
    md = handlers.export_markdown(turns)
    assert md.startswith("## 1. Qui est le PDG d'Anthropic ?") and "## 2. Quelle est la recette" in md
    assert "[^1.1]: " in md and "Dario Amodei" in md
    assert handlers.export_markdown([]) == ""


def test_api_history_drops_junk_and_takes_the_cores_bound() -> None:
    long = [{"role": "user", "content": "x" * MAX_HISTORY_MESSAGE_CHARS * 10}] * (MAX_HISTORY_MESSAGES * 10)
    junk = [{"role": "system", "content": "ignore"}, "junk", {"role": "user", "content": 3}]
    cleaned = handlers.clean_history([*long, *junk])
    assert cleaned == bound_history(long[-(MAX_HISTORY_MESSAGES - len(junk)):])
    assert handlers.clean_history(long) == bound_history(long)
    assert handlers.clean_history("not a list") == [] and handlers.clean_history(None) == []


def _reaching_the_core(bot: Assistant, monkeypatch: pytest.MonkeyPatch, method: str) -> list[object]:
    """The histories the UI handlers pass to the core (the real method still answers)."""
    seen: list[object] = []
    real = getattr(bot, method)

    def spy(question: str, history: object = None, *args: object, **kw: object) -> object:
        seen.append(history)
        return real(question, history, *args, **kw)

    monkeypatch.setattr(bot, method, spy)
    return seen


def test_a_tenfold_history_from_the_api_handler_is_cut_to_the_cores_bound(
        bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    turn = [{"role": "user", "content": PRICE_Q + " " + "x" * MAX_HISTORY_MESSAGE_CHARS * 10},
            {"role": "assistant", "content": "y" * MAX_HISTORY_MESSAGE_CHARS * 10}]
    history = turn * (MAX_HISTORY_MESSAGES * 10 // 2)
    seen = _reaching_the_core(bot, monkeypatch, "ask")
    assert handlers.api_ask(bot, "Et Anthropic ?", history)["question"] == "Et Anthropic ?"
    assert seen == [bound_history(history)]
    assert len(seen[0]) == MAX_HISTORY_MESSAGES  # type: ignore[arg-type]
    assert all(len(m["content"]) == MAX_HISTORY_MESSAGE_CHARS for m in seen[0])  # type: ignore[attr-defined, union-attr]


def test_a_tenfold_conversation_on_the_page_is_cut_to_the_cores_bound(
        bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.models import Answer

    long_answer = "a" * MAX_HISTORY_MESSAGE_CHARS * 10
    turns = [Turn(f"q{i}", Answer(f"q{i}", f"{i} {long_answer}", False, [], []))
             for i in range(MAX_HISTORY_MESSAGES * 10 // 2)]
    history = handlers.history_of(turns)
    assert history == bound_history(history) and len(history) == MAX_HISTORY_MESSAGES
    assert history[-1]["content"] == f"{len(turns) - 1} {long_answer}"[:MAX_HISTORY_MESSAGE_CHARS]
    seen = _reaching_the_core(bot, monkeypatch, "ask_stream")
    assert ask(bot, CEO_Q, turns)[-1].done
    assert seen == [history]


def test_an_uploaded_duplicate_is_said_to_be_kept_as_one(bot: Assistant, indexer: Indexer, tmp_path: Path) -> None:
    src = Path(bot.config.sources_dir)
    original = next(e for e in bot.catalog().entries if e.duplicate_of is None)
    copy = tmp_path / "la-meme.txt"
    copy.write_bytes((src / original.source).read_bytes())
    up = handlers_index.add_files(indexer, [str(copy)], 10 * MB)
    assert f"la-meme.txt: saved, but it is the same text as {original.source}" in up.message
    assert "listed as a duplicate" in up.message and (src / "la-meme.txt").is_file()  # what it says is so
    entry = bot.catalog_entry("la-meme.txt")
    assert entry is not None and entry.duplicate_of == original.source


def test_the_article_list_reads_the_readers_view_not_every_head_from_the_store(bot: Assistant, monkeypatch) -> None:
    # Listing every head from Chroma takes a minute at 100,000 articles: the list, an article's
    # entry and a delete read the view the reader keeps in step (0.05 s a page at 100k).
    bot.search("OpenAI GSA", 1)  # the reader's view is open
    monkeypatch.setattr(bot.store.store, "heads", lambda: pytest.fail("listed every head from the store"))
    first = bot.catalog().entries[0]
    assert bot.catalog_entry(first.source) == first
    assert bot.catalog(first.title).matched >= 1
