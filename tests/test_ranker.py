"""The passage ranker: its features, its file, and the retriever's use of it (behaviour, not fitted numbers)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.ranker import (
    RANKER_FEATURES, CandidateInfo, PassageRanker, QuestionInfo, feature_rows, hand_mix, load_ranker, proximity,
    question_info, ranker_from_dict, ranking_language,
)


def column(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, RANKER_FEATURES.index(name)]


def info(q: str, lang: str = "fr") -> QuestionInfo:
    return question_info(q, lang, [lang], lambda _lang, stems: {s: 1.0 for s in stems})


def candidate(text: str, sentences: tuple[str, ...] = (), lang: str = "fr", article: str = "a", **kw: object) -> CandidateInfo:
    values: dict[str, object] = dict(
        article_id=article, lang=lang, title="", text=text, fused=1 / 60, dense_rank=0, lexical_rank=None,
        lexical_score=0.0, cos=0.8, sentences=sentences or (text,), sentence_cos=np.full(len(sentences or (text,)), 0.8),
    )
    values.update(kw)
    return CandidateInfo(**values)  # type: ignore[arg-type]


def test_proximity_prefers_terms_close_together() -> None:
    terms = {"a", "b"}
    assert proximity(terms, ["a", "b", "x", "x", "x"]) == 1.0
    assert proximity(terms, ["a", "x", "x", "x", "b"]) == pytest.approx(2 / 5)
    assert proximity(terms, ["a", "x", "x", "x", "b", "a"]) == 1.0  # the shortest stretch counts
    assert proximity(terms, ["a", "x"]) == 0.0  # one term alone says nothing of closeness


def test_feature_rows_read_the_coverage_of_the_closest_sentence() -> None:
    q = info("Combien d'éoliennes flottantes compte le parc de Lorient ?")
    sentences = ("Le parc de Lorient compte 62 éoliennes flottantes.", "Il fait beau à Lorient.")
    close = candidate(" ".join(sentences), sentences, sentence_cos=np.array([0.9, 0.7]))
    far = candidate(" ".join(sentences), sentences, sentence_cos=np.array([0.7, 0.9]))
    rows = feature_rows(q, [close, far])
    assert column(rows, "closest_sentence_coverage")[0] > column(rows, "closest_sentence_coverage")[1]
    assert column(rows, "coverage")[0] == column(rows, "coverage")[1]  # the same passage text
    assert list(column(rows, "second_sentence_cos")) == [0.7, 0.7]


def test_a_passage_without_stored_sentences_stands_for_its_sentence() -> None:
    q = info("parc éolien de Lorient")
    c = candidate("Le parc éolien de Lorient.", (), cos=0.83, sentence_cos=np.zeros(0))
    rows = feature_rows(q, [c])
    assert column(rows, "sentence_cos")[0] == column(rows, "second_sentence_cos")[0] == 0.83
    assert column(rows, "closest_sentence_coverage")[0] == column(rows, "coverage")[0] == 1.0


def test_the_ranking_language_is_that_of_most_candidates() -> None:
    cands = [candidate("a", lang="fr"), candidate("b", lang="fr"), candidate("c", lang="en")]
    assert ranking_language(cands, "en") == "fr"
    assert ranking_language([], "en") == "en"


def test_hand_mix_is_the_earlier_formula() -> None:
    q = info("parc éolien")
    c = candidate("Le parc éolien.", ("Le parc éolien.", "Un autre mot."), fused=0.02, cos=0.81,
                  sentence_cos=np.array([0.85, 0.7]))
    rows = feature_rows(q, [c])
    expected = 30 * 0.02 + 4 * 0.81 + 1.0 * 1.0 + 6 * 0.85
    assert hand_mix().scores(rows, "fr")[0] == pytest.approx(expected)


def test_ranker_file_round_trip_and_language_weights(tmp_path: Path) -> None:
    n = len(RANKER_FEATURES)
    en = np.zeros(n)
    en[RANKER_FEATURES.index("cos")] = 1.0
    ranker = PassageRanker(RANKER_FEATURES, np.zeros(n), np.ones(n), {"*": -en, "en": 2 * en}, {"seed": 13})
    path = tmp_path / "ranker.json"
    ranker.save(path)
    back = load_ranker(path)
    rows = np.zeros((2, n))
    rows[:, RANKER_FEATURES.index("cos")] = (0.5, 0.9)
    assert list(back.scores(rows, "en")) == pytest.approx([1.0, 1.8])
    assert list(back.scores(rows, "de")) == pytest.approx([-0.5, -0.9])  # any other language: "*"


def test_a_ranker_file_of_other_features_is_refused_with_a_fix(tmp_path: Path) -> None:
    data = hand_mix().to_dict()
    data["features"] = data["features"][:-1]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="train_ranker"):
        load_ranker(path)
    with pytest.raises(ValueError):
        ranker_from_dict({**hand_mix().to_dict(), "coef": {"fr": [0.0] * len(RANKER_FEATURES)}})
    assert load_ranker(None).coef["*"][RANKER_FEATURES.index("sentence_cos")] == 6.0


def test_the_retriever_orders_passages_by_its_ranker(tmp_path: Path) -> None:
    from assistant.api import Assistant
    from assistant.config import Config
    from assistant.retrieval import Retriever

    sources = tmp_path / "sources"
    sources.mkdir()
    texts = {
        "miel.txt": "Les abeilles\n\nLes ruches de Paris ont produit une tonne de miel.\n",
        "velo.txt": "Vélos\n\nLyon compte 12 000 vélos.\n",
        "ecole.txt": "Écoles\n\nLa mairie de Lyon a voté le budget des écoles.\n",
    }
    for name, text in texts.items():
        (sources / name).write_text(text, encoding="utf-8")
    config = Config(sources_dir=sources, index_dir=tmp_path / "index", embedding_model="standin:64")
    Assistant(config).index()
    retriever = Retriever(config)
    n = len(RANKER_FEATURES)
    lexical_only = np.zeros(n)
    lexical_only[RANKER_FEATURES.index("coverage")] = 1.0
    retriever.ranker = PassageRanker(RANKER_FEATURES, np.zeros(n), np.ones(n), {"*": lexical_only})
    found = retriever.candidates("tonne de miel des ruches")
    assert found is not None and len(found.passages) == len(found.rows)
    passages = retriever.search("tonne de miel des ruches", 3)
    assert passages[0].source == "miel.txt"
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert passages[0].score == pytest.approx(1.0)  # it holds every term of the question
