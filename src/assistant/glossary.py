"""A question's words across languages: a small English-French glossary of news vocabulary.

The lexical search stems a question the way of each index language. An English question over
French articles then shares only names and numbers with them: "Who is the CEO of OpenAI?" has no
word in common with "Sam Altman, PDG d'OpenAI", and the e5 model bridges the two languages only
roughly (that passage came 7th of 24). So when a question is asked of articles in the other
language, its news words (roles, institutions, money, agreements and what is done with them) are
also asked in that language: "CEO" adds "PDG", "signed the contract" adds "signer" and "contrat".

Only across languages: a question in the articles' own language is stemmed as before, so the
one-language benchmarks do not move. Entries are matched on stems ("signed", "signing" and
"sign" are one entry), a multi-word entry when all its stems are in the question.
"""

from __future__ import annotations

from functools import lru_cache

from .text import _stemmer, content_words, detect_language, lexical_tokens

# (English, French): either side may hold several words; one pair per sense, both ways. Words
# spelt alike in both ("police", "budget") need no entry: the question keeps them.
PAIRS: tuple[tuple[str, str], ...] = (
    # people and roles
    ("CEO", "PDG"), ("chief executive", "directeur général"), ("boss", "patron"), ("head", "patron"),
    ("head", "chef"), ("head", "dirigeant"), ("leader", "dirigeant"), ("leader", "chef"), ("founder", "fondateur"),
    ("chairman", "président"), ("president", "président"), ("minister", "ministre"), ("secretary", "secrétaire"),
    ("spokesperson", "porte-parole"), ("spokesman", "porte-parole"), ("director", "directeur"),
    ("employee", "salarié"), ("employee", "employé"), ("worker", "travailleur"), ("official", "responsable"),
    ("civil servant", "fonctionnaire"), ("lawmaker", "parlementaire"), ("senator", "sénateur"), ("judge", "juge"),
    ("lawyer", "avocat"), ("journalist", "journaliste"), ("researcher", "chercheur"), ("engineer", "ingénieur"),
    ("soldier", "soldat"), ("customer", "client"), ("user", "utilisateur"), ("shareholder", "actionnaire"),
    ("investor", "investisseur"), ("commissioner", "commissaire"), ("member", "membre"),
    # institutions and places
    ("government", "gouvernement"), ("state", "État"), ("federal", "fédéral"), ("agency", "agence"),
    ("department", "département"), ("department", "ministère"), ("ministry", "ministère"), ("army", "armée"),
    ("military", "militaire"), ("defense", "défense"), ("defence", "défense"), ("Pentagon", "Pentagone"),
    ("White House", "Maison Blanche"), ("Congress", "Congrès"), ("Senate", "Sénat"), ("parliament", "parlement"),
    ("court", "tribunal"), ("court", "cour"), ("company", "entreprise"), ("company", "société"),
    ("firm", "entreprise"), ("startup", "start-up"), ("bank", "banque"), ("union", "syndicat"),
    ("United States", "États-Unis"), ("American", "américain"), ("America", "Amérique"), ("European", "européen"),
    ("country", "pays"), ("city", "ville"), ("world", "monde"), ("public sector", "secteur public"),
    ("NATO", "OTAN"), ("EU", "UE"), ("ally", "allié"), ("navy", "marine"), ("weapon", "arme"),
    # money and business
    ("contract", "contrat"), ("agreement", "accord"), ("deal", "accord"), ("deal", "contrat"),
    ("partnership", "partenariat"), ("offer", "offre"), ("price", "prix"), ("cost", "coût"), ("fee", "frais"),
    ("subscription", "abonnement"), ("revenue", "chiffre d'affaires"), ("revenue", "revenus"), ("profit", "bénéfice"),
    ("loss", "perte"), ("billion", "milliard"), ("market", "marché"), ("share", "action"), ("investment", "investissement"),
    ("fund", "fonds"), ("funding", "financement"), ("tax", "impôt"), ("tax", "taxe"), ("debt", "dette"),
    ("rate", "taux"), ("growth", "croissance"), ("job", "emploi"), ("unemployment", "chômage"), ("strike", "grève"),
    ("free", "gratuit"), ("annual", "annuel"), ("yearly", "annuel"), ("symbolic", "symbolique"),
    # what is done
    ("sign", "signer"), ("sign", "signature"), ("announce", "annoncer"), ("announcement", "annonce"), ("launch", "lancer"),
    ("buy", "acheter"), ("acquire", "racheter"), ("acquisition", "rachat"), ("sell", "vendre"), ("pay", "payer"),
    ("win", "remporter"), ("award", "attribuer"), ("provide", "fournir"), ("offer", "proposer"), ("decide", "décider"),
    ("decision", "décision"), ("vote", "voter"), ("ban", "interdire"), ("fine", "amende"), ("law", "loi"),
    ("bill", "projet de loi"), ("trial", "procès"), ("election", "élection"), ("war", "guerre"), ("peace", "paix"),
    ("attack", "attaque"), ("security", "sécurité"), ("report", "rapport"), ("study", "étude"), ("survey", "sondage"),
    ("poll", "sondage"), ("strategy", "stratégie"), ("program", "programme"), ("access", "accès"),
    ("tool", "outil"), ("data", "données"), ("management", "gestion"), ("function", "fonction"), ("rewrite", "réécrire"),
    ("regulation", "réglementation"), ("regulation", "régulation"), ("duration", "durée"), ("update", "mise à jour"),
    ("training", "formation"), ("deploy", "déployer"), ("deployment", "déploiement"), ("model", "modèle"), ("artificial intelligence", "intelligence artificielle"),
    ("AI", "IA"), ("health", "santé"), ("hospital", "hôpital"), ("school", "école"), ("university", "université"),
    ("student", "étudiant"), ("teacher", "enseignant"), ("climate", "climat"), ("energy", "énergie"), ("oil", "pétrole"),
    ("gas", "gaz"), ("year", "année"), ("month", "mois"), ("week", "semaine"), ("day", "jour"),
)


@lru_cache(maxsize=1)
def _entries() -> dict[tuple[str, str], tuple[tuple[frozenset[str], tuple[str, ...]], ...]]:
    """(from language, to language) -> (the entry's stems in the first, its stems in the second)."""
    out: dict[tuple[str, str], list[tuple[frozenset[str], tuple[str, ...]]]] = {}
    for en, fr in PAIRS:
        for (src, a), (dst, b) in (((("en", en), ("fr", fr))), ((("fr", fr), ("en", en)))):
            key, value = frozenset(lexical_tokens(a, src)), tuple(lexical_tokens(b, dst))
            if key and value:
                out.setdefault((src, dst), []).append((key, value))
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=4096)
def question_tokens(question: str, lang: str, question_lang: str | None = None) -> tuple[str, ...]:
    """The question's stems for an index in ``lang``: :func:`lexical_tokens`, or, when the question is
    in the other language, its words less that language's stop words (an English "who", "the" or
    "of" stemmed the French way would count as rare words the articles lack), each news word that
    the glossary holds replaced by the glossary's words for it, stemmed the way of ``lang``."""
    source = question_lang or detect_language(question, default="en")
    if source == lang or (source, lang) not in _entries():
        return tuple(lexical_tokens(question, lang))
    words = content_words(question, source)
    stems = _stemmer(source).stemWords(words)
    matched = [(key, value) for key, value in _entries()[(source, lang)] if key <= set(stems)]
    translated = set().union(*(key for key, _ in matched))
    kept = " ".join(w for w, s in zip(words, stems) if s not in translated)
    return tuple(dict.fromkeys([*lexical_tokens(kept, lang), *(t for _, value in matched for t in value)]))
