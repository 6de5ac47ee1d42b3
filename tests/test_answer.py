"""The extractive answerer on the seed articles: right sources, verbatim quotes, refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant import Assistant, Config
from assistant.errors import QuestionError
from assistant.text import fold

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [json.loads(line) for line in (ROOT / "tests/eval/seeds.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def bot(seed_index: Config) -> Assistant:
    return Assistant(seed_index)


@pytest.fixture(scope="module")
def answers(bot: Assistant) -> dict[str, object]:
    return {q["id"]: bot.ask(q["question"]) for q in SEEDS}


def test_every_quote_is_verbatim_at_its_offsets(bot: Assistant, answers: dict) -> None:
    checked = 0
    for answer in answers.values():
        for c in answer.citations:
            assert bot.article_text(c.source)[c.start : c.end] == c.quote
            assert c.quote in c.passage
            checked += 1
    assert checked >= 20


def test_every_answer_sentence_ends_with_a_citation(answers: dict) -> None:
    for answer in answers.values():
        if answer.refused:
            continue
        markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)]
        assert sorted(markers) == [c.id for c in answer.citations]
        assert re.search(r"\]\s*$", answer.answer)


OFF_TOPIC = {"Quel temps fera-t-il à Paris demain ?", "Who won the 2024 Tour de France?",
             "Quelle équipe a remporté la Coupe du monde de football 2022 ?", "In what year was Anthropic founded?"}


def test_off_topic_questions_are_refused_with_closest_passages(answers: dict) -> None:
    by_question = {q["question"]: answers[q["id"]] for q in SEEDS}
    assert OFF_TOPIC <= set(by_question)
    for question in OFF_TOPIC:
        answer = by_question[question]
        assert answer.refused, question
        assert answer.citations == [] and answer.retrieved


def test_refusal_speaks_the_question_language(bot: Assistant) -> None:
    assert "articles ne disent pas" in bot.ask("Quel temps fera-t-il demain à Lyon ?").answer
    assert "articles do not say" in bot.ask("Who won the 2022 football World Cup?").answer


def test_how_much_question_gets_the_number(bot: Assistant) -> None:
    answer = bot.ask("Quel est le montant du contrat entre OpenAI et le Pentagone ?")
    assert "200 millions" in fold(answer.answer)


def test_cross_language_question_finds_french_passage(bot: Assistant) -> None:
    answer = bot.ask("Who is the CEO of Anthropic?")
    assert not answer.refused
    assert "amodei" in fold(answer.answer)


def test_follow_up_is_rewritten_from_history(bot: Assistant) -> None:
    history = [
        {"role": "user", "content": "Quel prix OpenAI demande-t-il au gouvernement américain ?"},
        {"role": "assistant", "content": "1 dollar par an."},
    ]
    answer = bot.ask("Et Anthropic ?", history=history)
    assert answer.standalone_question and "Anthropic" in answer.standalone_question
    assert any(c.source.startswith("003_") for c in answer.citations)


@pytest.mark.parametrize(
    "question, message",
    [("", "empty"), ("   \n\t", "empty"), ("x" * 20_000, "characters long"), ("\x00\x01\x02", "empty"), ("?!…", "no words")],
)
def test_unusable_questions_raise_a_clear_error(bot: Assistant, question: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        bot.ask(question)


def test_a_question_in_another_script_is_answered_from_the_french_articles(bot: Assistant) -> None:
    # Arabic, "What is the price of ChatGPT for the US government?": e5 is multilingual, the
    # articles say it (a dollar), and the quote is verbatim French.
    answer = bot.ask("ما هو سعر ChatGPT للحكومة الأمريكية؟")
    assert not answer.refused and answer.retrieved
    assert "dollar" in fold(answer.answer), answer.answer
    for c in answer.citations:
        assert bot.article_text(c.source)[c.start : c.end] == c.quote


def test_control_characters_are_cleaned(bot: Assistant) -> None:
    answer = bot.ask("Qui est le PDG\x07 d’Anthropic\u200b ?")
    assert answer.question == "Qui est le PDG d’Anthropic ?"


# --- the learned answerer: actors, headings, nonsense, confidence -------------------


# Seed-set rates (accuracy, source precision, refusal recall) are held by the eval gate
# (tests/test_eval_gate.py, floors measured by scripts/set_thresholds.py), not per question here.


@pytest.mark.parametrize("question", [
    "Qui a signé un contrat de 200 millions de dollars avec le Pentagone ?",
    "Quelle entreprise a signé un contrat avec le Pentagone en juin ?",
])
def test_who_did_it_names_the_actor(bot: Assistant, question: str) -> None:
    answer = bot.ask(question)
    assert not answer.refused, question
    assert "openai" in fold(answer.answer), answer.answer
    for c in answer.citations:
        assert bot.article_text(c.source)[c.start : c.end] == c.quote


def test_an_anaphoric_quote_comes_with_the_sentence_naming_its_subject(bot: Assistant) -> None:
    from assistant.actors import needs_actor
    from assistant.answer_types import OTHER

    leaning = 0
    for q in SEEDS:
        answer = bot.ask(q["question"])
        if answer.refused or not answer.citations:
            continue
        # "Cette offre…" leans on what came before; "L’accord d’Anthropic…" names its subject itself.
        # The sentence the answer rests on may be any quote: the one naming the actor comes first.
        leans = [c.quote for c in answer.citations if needs_actor(OTHER, q["question"], c.quote, q.get("lang", "fr"))]
        leaning += bool(leans)
        first = answer.citations[0].quote
        assert not needs_actor(OTHER, q["question"], first, q.get("lang", "fr")) or len({c.quote for c in answer.citations}) > 1, (
            q["question"], first)
    assert leaning, "no seed answer quotes a sentence that leans on an earlier one: the test checked nothing"


@pytest.mark.parametrize("question", [
    "Combien coûtent les modèles d’OpenAI pour l’administration ?",
    "How much will OpenAI's models cost the administration?",
])
def test_a_lead_in_is_quoted_with_the_sentence_that_goes_on_from_it(bot: Assistant, question: str) -> None:
    # "Un dollar. C’est ce que coûteront les modèles d’intelligence artificielle d’OpenAI…" (article 002):
    # the amount is in the lead-in, what it is the price of in the next sentence.
    answer = bot.ask(question)
    assert not answer.refused, answer.answer
    quotes = [c.quote for c in answer.citations]
    assert "Un dollar." in quotes, quotes
    following = quotes[quotes.index("Un dollar.") + 1]
    assert following.startswith("C’est ce que coûteront"), quotes
    for c in answer.citations:
        assert bot.article_text(c.source)[c.start : c.end] == c.quote


def test_a_sentence_whose_subject_names_the_actor_is_quoted_alone(bot: Assistant) -> None:
    # "L’accord d’Anthropic avec la GSA fournira … pour une durée maximale d’un an." opens like an
    # anaphor ("L’accord") but names who: no earlier sentence is quoted before it.
    answer = bot.ask("Quelle est la durée de l’offre d’Anthropic ?")
    assert not answer.refused, answer.answer
    assert answer.citations[0].quote.startswith("L’accord d’Anthropic avec la GSA"), answer.answer


def test_a_heading_is_not_an_answer(bot: Assistant) -> None:
    answer = bot.ask("What is OpenAI for Government?")
    assert not answer.refused
    titles = {bot.article_text(c.source).split("\n", 1)[0].strip() for c in answer.citations}
    assert all(c.quote.strip() not in titles for c in answer.citations)
    assert all(c.quote.rstrip()[-1] in ".!?»”\")" for c in answer.citations)


@pytest.mark.parametrize("question", [
    "zzzz qqqq xxxx", "lorem ipsum dolor sit amet", "asdfgh jkl qwerty ?", "Xyzzy plugh frobozz quux ?",
])
def test_nonsense_is_refused(bot: Assistant, question: str) -> None:
    answer = bot.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.confidence is not None and answer.confidence < 0.5


def test_confidence_is_higher_for_answerable_questions(answers: dict) -> None:
    answerable = sorted(answers[q["id"]].confidence for q in SEEDS if q["answerable"])
    unanswerable = sorted(answers[q["id"]].confidence for q in SEEDS if not q["answerable"])
    assert all(0.0 <= c <= 1.0 for c in answerable + unanswerable)
    assert answerable[len(answerable) // 2] > unanswerable[len(unanswerable) // 2]


def test_ask_json_carries_confidence(bot: Assistant) -> None:
    data = bot.ask("Qui est le PDG d'Anthropic ?").to_dict()
    assert isinstance(data["confidence"], float) and 0.0 <= data["confidence"] <= 1.0


@pytest.mark.parametrize("question", [
    "Quel est le coût du projet Stargate ?",  # Stargate is named, its cost is not
    "How much money does the Stargate project cost?",
    "What price did Google offer for Gemini?",  # Gemini is in the GSA catalogue; no price is given
])
def test_a_price_question_without_an_amount_in_the_articles_is_refused(bot: Assistant, question: str) -> None:
    answer = bot.ask(question)
    assert answer.refused and answer.citations == []
    assert answer.confidence == 0.0
    assert answer.retrieved  # the closest passages are still shown
    assert re.search(r"montant demandé|amount asked for", answer.answer)  # the refusal says what is missing


@pytest.mark.parametrize(("question", "missing"), [
    # The closest sentence names Donald Trump and a month ("En mai dernier"), not his birth.
    ("Où est né Donald Trump ?", r"naissance"),
    # The closest sentence gives the Pentagon's 2026 budget in dollars: a year and an amount, not a count.
    ("Combien de soldats le Pentagone compte-t-il ?", r"nombre demandé"),
])
def test_a_birth_or_a_count_the_articles_do_not_give_is_refused(bot: Assistant, question: str, missing: str) -> None:
    answer = bot.ask(question)
    assert answer.refused and answer.citations == [] and answer.confidence == 0.0
    assert answer.retrieved
    assert re.search(missing, answer.answer)


def test_a_count_the_articles_give_is_answered(bot: Assistant) -> None:
    answer = bot.ask("Combien de modèles la GSA intègre-t-elle à son catalogue ?")
    assert not answer.refused
    assert re.search(r"trois modèles", answer.citations[0].quote)


def test_a_price_question_with_an_amount_is_answered_with_it(bot: Assistant) -> None:
    answer = bot.ask("Quel prix Anthropic demande-t-il aux agences pour Claude ?")
    assert not answer.refused
    assert re.search(r"1 ?\$|un dollar|1 dollar", answer.citations[0].quote)


@pytest.mark.parametrize(("question", "positive"), [
    ("Qui ne paiera pas pour ChatGPT Enterprise ?", "Qui paiera pour ChatGPT Enterprise ?"),
    ("Who did not offer its model for one dollar?", "Who offered its model to federal agencies for one dollar?"),
])
def test_a_question_about_what_did_not_happen_is_refused_when_no_passage_says_so(
    bot: Assistant, question: str, positive: str
) -> None:
    # The seeds say who offered or pays; none says who did not. Quoting the offer would answer
    # the opposite question (SQuAD 2.0 builds many unanswerable questions this way).
    answer = bot.ask(question)
    assert answer.refused and answer.citations == [] and answer.confidence == 0.0
    assert answer.retrieved
    assert re.search(r"n'a pas eu lieu|did not happen", answer.answer)
    assert not bot.ask(positive).refused  # the same question without the negation is answered


def test_an_article_of_one_sentence_is_quoted_not_taken_for_its_title(seed_copy: Config) -> None:
    # A file of one line that ends with a full stop: its title is made from that sentence
    # (documents.layout), and the sentence is still the article's text, the one to quote.
    (seed_copy.sources_dir / "lyon.txt").write_text(
        "La ville de Lyon a élu Sophie Marchal comme présidente du conseil métropolitain.\n", encoding="utf-8")
    bot = Assistant(seed_copy)
    assert bot.index().added == ["lyon.txt"]
    answer = bot.ask("Qui préside le conseil métropolitain de Lyon ?")
    assert not answer.refused and "Sophie Marchal" in answer.answer, answer.answer
    assert answer.citations[0].source == "lyon.txt"
    assert bot.article_text("lyon.txt")[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].quote


@pytest.mark.parametrize("question", ["Wer ist der Geschäftsführer von OpenAI?", "¿Quién es el director de OpenAI?"])
def test_a_question_in_a_language_no_article_is_in_is_refused_saying_which_to_use(bot: Assistant, question: str) -> None:
    # German and Spanish over French articles: e5 finds passages, but the answer quoted was a wrong
    # sentence with confidence 0.6. The answerer is fitted and checked in French and English.
    answer = bot.ask(question)
    assert answer.refused and answer.citations == [] and answer.confidence == 0.0
    assert "Please ask in French or English" in answer.answer
    assert answer.retrieved  # the closest passages are still listed
