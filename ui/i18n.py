"""The page's words in French and English, and how the page picks its language.

The page's own language comes from the browser (``Accept-Language``) until the
reader flips the FR/EN switch, which the browser remembers. The words around an
answer (headers, hints, notices) follow the language of the question instead.
"""

from __future__ import annotations

import re

LANGS = ("fr", "en")
DEFAULT_LANG = "en"

_WORDS: dict[str, tuple[str, str]] = {  # key: (French, English)
    # chat
    "title": ("Assistant d'actualité", "News assistant"),
    "tagline": ("Des réponses tirées de vos articles, chaque phrase citée.",
                "Answers from your news articles, every sentence cited."),
    "placeholder": ("Posez une question sur vos articles…", "Ask about your articles…"),
    "chat_hint": ("Posez une question, puis une relance comme « Et Anthropic ? ». Chaque phrase de la réponse "
                  "est citée ; cliquez sur [1] pour voir sa source.",
                  "Ask a question, then a follow-up such as “And Anthropic?”. Every sentence of the answer is "
                  "cited; click [1] to see its source."),
    "ask": ("Demander", "Ask"),
    "new_chat": ("Nouvelle conversation", "New conversation"),
    "export": ("Exporter la conversation", "Export conversation"),
    "examples": ("Exemples", "Examples"),
    "sources_tab": ("Sources", "Sources"),
    "articles_tab": ("Articles", "Articles"),
    "show_sources": ("Sources", "Sources"),
    "close": ("Fermer", "Close"),
    "understood": ("Question comprise comme", "Understood as"),
    "refusal_hint": ("Les passages les plus proches sont dans le panneau Sources.",
                     "The closest passages are in the Sources panel."),
    "unsupported": ("En gris : phrases qu'aucune source citée ne confirme.",
                    "Greyed out: sentences that no cited source supports."),
    "copy": ("Copier la réponse et ses sources", "Copy answer with sources"),
    "copied": ("Copié", "Copied"),
    "confidence": ("confiance", "confidence"),
    "answering": ("Recherche dans les articles…", "Searching the articles…"),
    "error": ("Erreur", "Error"),
    "internal": ("erreur interne ({}) ; voir le journal du serveur", "internal error ({}); see the server log"),
    # sources panel
    "open": ("Ouvrir l'article", "Open the article"),
    "closest": ("Pas de réponse dans les articles. Passages les plus proches :",
                "No answer in the articles. Closest passages:"),
    "sources_of": ("Sources de la réponse", "Sources of answer"),
    "undated": ("sans date", "undated"),
    "also": ("Aussi rapporté par", "Also reported by"),
    "differ": ("Les articles donnent des chiffres différents :", "The articles give different figures:"),
    "empty_sources": ("Posez une question : les passages d'où vient chaque réponse s'affichent ici, la phrase "
                      "citée surlignée. Cliquez sur un renvoi comme [1] pour aller à sa source.",
                      "Ask a question: the passages each answer comes from show up here, the quoted sentence "
                      "highlighted. Click a marker like [1] in an answer to jump to its source."),
    "empty_article": ("« Ouvrir l'article » sur une carte affiche ici l'article entier.",
                      "“Open the article” on a source card shows the whole article here."),
    "gone": ("{} n'est plus dans l'index (retiré depuis cette réponse) ; reposez la question.",
             "{} is no longer in the index (removed since this answer); ask again."),
    "changed": ("{} a changé depuis cette réponse et ne contient plus le passage cité ; reposez la question.",
                "{} changed since this answer and no longer holds the quoted text; ask again."),
    # articles
    "upload": ("Ajouter des articles ({}; jusqu'à {:g} Mo chacun) : indexés aussitôt",
               "Add articles ({}; up to {:g} MB each): indexed at once"),
    "paste": ("…ou coller un texte", "…or paste a text"),
    "paste_title": ("Titre", "Title"),
    "paste_date": ("Date (AAAA-MM-JJ, facultative)", "Date (YYYY-MM-DD, optional)"),
    "paste_text": ("Texte", "Text"),
    "paste_add": ("Ajouter aux articles", "Add to the articles"),
    "reindex": ("Réindexer", "Re-index"),
    "filter": ("Filtrer les articles…", "Filter the articles…"),
    "col_title": ("Titre", "Title"),
    "col_date": ("Date", "Date"),
    "col_lang": ("Langue", "Language"),
    "col_file": ("Fichier", "File"),
    "col_size": ("Taille", "Size"),
    "delete": ("Supprimer", "Delete"),
    "confirm_delete": ("Supprimer « {} » des sources et de l'index ?", "Delete “{}” from the sources and the index?"),
    "deleted": ("{} supprimé des sources et de l'index.", "{} deleted from the sources and the index."),
    "duplicate_of": ("doublon de {}", "duplicate of {}"),
    "no_match": ("Aucun article ne contient « {} ».", "No article holds “{}”."),
    "page_of": ("{} premiers articles sur {} (par nom de fichier) : tapez des mots dans le filtre pour trouver les autres.",
                "The first {} of {} articles (by file name): type words in the filter to find the others."),
    "too_many_files": ("{} fichiers à la fois : envoyez-en au plus {} par envoi.",
                       "{} files at once: send at most {} per upload."),
    "no_articles": ("Aucun article indexé : ajoutez-en un ci-dessus ou collez un texte.",
                    "No article indexed yet: upload one above or paste a text."),
    "choose_files": ("Choisissez d'abord un ou plusieurs fichiers.", "Choose one or more files first."),
    "added": ("{} ajouté : « {} » (indexé en {:.1f} s). Posez votre question.",
              "Added {}: “{}” (indexed in {:.1f} s). Ask about it now."),
    "same_text": ("{} : enregistré, mais même texte que {}, déjà indexé : il figure dans la liste comme doublon "
                  "(supprimez-le s'il est de trop).",
                  "{}: saved, but it is the same text as {}, already indexed: it is listed as a duplicate "
                  "(delete it if you do not need it)."),
    "unchanged": ("{} : déjà dans les sources, inchangé.", "{}: already in the sources, unchanged."),
    "not_indexed": ("{} : non indexé : {}", "{}: not indexed: {}"),
    "indexed_in_part": ("{} : indexé en partie : {}", "{}: indexed in part: {}"),
    "index_failed": ("{} enregistré mais l'indexation a échoué : {}", "saved {} but indexing failed: {}"),
    "reindexed": ("Index à jour : {}", "Index up to date: {}"),
    # status
    "articles_n": ("{} articles", "{} articles"),
    "article_1": ("1 article", "1 article"),
    "updated": ("mis à jour {}", "updated {}"),
    "never": ("jamais indexé", "never indexed"),
    "not_built": ("index pas encore construit", "index not built yet"),
    "indexing": ("indexation…", "indexing…"),
}


def t(key: str, lang: str, *args: object) -> str:
    """The word or sentence ``key`` in ``lang`` (English when unknown), formatted with ``args``."""
    fr, en = _WORDS[key]
    text = fr if lang == "fr" else en
    return text.format(*args) if args else text


_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def pick_language(accept_language: str | None, chosen: str | None = None) -> str:
    """The page's language: the reader's switch if set, else the browser's first FR/EN preference."""
    if chosen in LANGS:
        return chosen  # type: ignore[return-value]
    best, best_q = DEFAULT_LANG, -1.0
    for part in (accept_language or "")[:500].split(",")[:20]:  # a header is short; ignore the rest
        m = _RANGE.match(part)
        if not m:
            continue
        try:
            q = float(m.group(2)) if m.group(2) else 1.0
        except ValueError:
            continue
        lang = m.group(1).lower()
        if lang in LANGS and q > best_q:
            best, best_q = lang, q
    return best
