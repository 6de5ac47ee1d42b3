"""Loading articles: decoding, cleaning, titles, dates, and the HTML / Markdown / PDF readers."""

from __future__ import annotations

import codecs
import io
import os
import unicodedata
from pathlib import Path

import pytest

from assistant.documents import list_sources, load_article, parse_article
from assistant.errors import SourceError
from assistant.text import sentence_spans

from conftest import SEEDS_DIR, seed_files

ARTICLE = (
    "Le vélo électrique gagne du terrain à Lyon\n\n"
    "La métropole de Lyon a compté 12 000 vélos électriques de plus en 2025. "
    "Les ventes ont progressé de 18 % sur un an, selon la chambre de commerce.\n\n"
    "Le maire veut doubler le nombre de pistes cyclables d’ici 2030.\n"
)


def seed(prefix: str) -> Path:
    return next(p for p in seed_files() if p.name.startswith(prefix))


def load(path: Path):  # noqa: ANN201 - an Article
    return load_article(path, path.name, 10_000_000)


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


# --- the seeds ---------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["000", "001"])
def test_seed_date_marker_becomes_the_date_and_leaves_the_text(prefix: str) -> None:
    raw = seed(prefix).read_text(encoding="utf-8")
    assert raw.lstrip().startswith("date 2025-08-07")
    article = load(seed(prefix))
    assert article.date == "2025-08-07"
    assert "date 2025" not in article.text
    assert article.text.startswith("OpenAI ")
    first = sentences(article.text)[0]  # no heading line: the title is the first sentence
    assert article.title == first or (article.title.endswith("…") and first.startswith(article.title[:-1]))


def test_seed_002_furniture_removed_and_every_article_sentence_kept() -> None:
    path = seed("002")
    raw = path.read_text(encoding="utf-8")
    article = load(path)
    text = article.text
    for furniture in ("A LIRE AUSSI", "Lovable, la licorne la plus rapide", "Publiez un commentaire", "Soutenez-nous"):
        assert furniture in raw
        assert furniture not in text
    furniture_lines = {
        "A LIRE AUSSI",
        "IA : Lovable, la licorne la plus rapide d’Europe",
        "Publiez un commentaire",
        "L'Essentiel de l'Éco est un média indépendant. Soutenez-nous en nous ajoutant à vos favoris Google Actualités :",
    }
    prose = [line.strip() for line in raw.splitlines() if line.strip() and line.strip() not in furniture_lines]
    assert len(prose) > 10
    for line in prose:  # NFKC turns "…" into "..." and narrow no-break spaces into spaces
        assert " ".join(unicodedata.normalize("NFKC", line).split()) in text, line
    assert article.title == "OpenAI offre son IA à l’État américain pour... un dollar"
    assert article.date is None  # 002 states no date
    assert article.lang == "fr"


def test_seed_004_headline_printed_twice_is_kept_once() -> None:
    path = seed("004")
    raw = path.read_text(encoding="utf-8")
    article = load(path)
    assert raw.count(article.title) == 2
    assert article.text.count(article.title) == 1
    assert article.text.startswith(article.title)


def test_seeds_are_nfkc_with_folded_whitespace() -> None:
    narrow = "\u202f"
    assert any(narrow in p.read_text(encoding="utf-8") for p in seed_files())
    for path in seed_files():
        text = load(path).text
        assert narrow not in text and "\u00a0" not in text
        assert "  " not in text and "\n\n\n" not in text
        assert text == text.strip()


def test_article_id_depends_on_content_not_on_the_file_name(tmp_path: Path) -> None:
    a = tmp_path / "a.txt"
    b = tmp_path / "renamed copy.txt"
    a.write_text(ARTICLE, encoding="utf-8")
    b.write_text(ARTICLE.replace("\n", "\r\n") + "\n\n", encoding="utf-8")  # other line ends, same article
    first, second = load(a), load(b)
    assert first.id == second.id
    assert first.content_hash != second.content_hash  # raw bytes differ
    (tmp_path / "c.txt").write_text(ARTICLE.replace("18 %", "19 %"), encoding="utf-8")
    assert load(tmp_path / "c.txt").id != first.id


def test_list_sources_is_recursive_sorted_and_skips_hidden_and_other_types(tmp_path: Path) -> None:
    for name in ("b.txt", "a.md", "sub/c.html", "d.pdf", ".hidden.txt", ".git/x.txt", "notes.docx", "e.TXT"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    names = [p.relative_to(tmp_path).as_posix() for p in list_sources(tmp_path)]
    assert names == ["a.md", "b.txt", "d.pdf", "e.TXT", "sub/c.html"]
    assert list_sources(tmp_path / "missing") == []


@pytest.mark.parametrize(
    "name", ["a.txt", "e.TXT", "a.md", "a.markdown", "b.html", "b.htm", "c.pdf", "a.tar.txt", "a..txt", "a.txt.bak",
             "a.txt ", "a.", "a", "txt", ".txt", "notes.docx"],
)
def test_article_suffix_is_judged_as_splitext_judges_it(name: str) -> None:
    from assistant.config import SUPPORTED_SUFFIXES
    from assistant.documents import is_article_name

    assert is_article_name(name) == (os.path.splitext(name)[1].lower() in SUPPORTED_SUFFIXES)


# --- decoding ------------------------------------------------------------------


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(codecs.BOM_UTF8 + ARTICLE.encode("utf-8"))
    article = load(path)
    assert article.title == "Le vélo électrique gagne du terrain à Lyon"
    assert "\ufeff" not in article.text


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom_is_decoded(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "utf16.txt"
    data = ARTICLE.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path.write_bytes(data)
    article = load(path)
    assert article.title == "Le vélo électrique gagne du terrain à Lyon"
    assert "pistes cyclables d’ici 2030" in article.text


def test_cp1252_text_is_decoded_with_its_accents(tmp_path: Path) -> None:
    path = tmp_path / "windows.txt"
    text = ARTICLE.replace("’", "'") + "Coût : 3 € par trajet – « abordable » selon l’élu.\n".replace("’", "'")
    path.write_bytes(text.encode("cp1252"))
    article = load(path)
    assert "électriques" in article.text
    assert "Coût : 3 € par trajet – « abordable »" in article.text


def test_broken_utf8_is_refused_with_the_position_not_read_as_mojibake(tmp_path: Path) -> None:
    path = tmp_path / "broken.txt"
    data = ARTICLE.encode("utf-8")
    cut = data.index("cyclables".encode()) + 3
    path.write_bytes(data[:cut] + b"\xff\xfe\xfd" + data[cut:])
    with pytest.raises(SourceError) as info:
        load(path)
    assert info.value.source == "broken.txt"
    assert f"byte {cut}" in info.value.reason and "line 5" in info.value.reason
    assert "UTF-8" in info.value.reason


def test_a_file_mixing_utf8_and_cp1252_is_refused_not_read_as_mojibake(tmp_path: Path) -> None:
    # A UTF-8 title pasted above a cp1252 body: more bad bytes than UTF-8 accents, but both are there.
    path = tmp_path / "mixed.txt"
    title = "Réforme adoptée à l'Assemblée\n\n".encode()
    body = ("Le député Hervé Lefèvre a présenté un texte très détaillé ; "
            "les élèves et les élus l'ont étudié à l'école dès l'été.\n").encode("cp1252")
    path.write_bytes(title + body)
    with pytest.raises(SourceError) as info:
        load(path)
    assert "mixes UTF-8 with another encoding" in info.value.reason
    first_bad = len(title) + body.index("é".encode("cp1252"))
    assert f"byte {first_bad}" in info.value.reason and "line 3" in info.value.reason
    assert "re-save the whole file as UTF-8" in info.value.reason


def test_undecodable_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(1, 9)) * 200 + bytes(range(0x80, 0x100)) * 10)
    with pytest.raises(SourceError) as info:
        load(path)
    assert "cannot decode" in info.value.reason and "re-save it as UTF-8" in info.value.reason


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_named_as_such(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "sans-bom.txt"
    path.write_bytes(ARTICLE.encode(codec))
    with pytest.raises(SourceError) as info:
        load(path)
    assert info.value.reason == "looks like UTF-16 text without a byte-order mark; re-save it as UTF-8"


def test_filler_of_one_repeated_word_is_refused_a_long_real_article_is_not(tmp_path: Path) -> None:
    filler = tmp_path / "oneline.txt"
    filler.write_text("Titre\n\n" + "mot " * 25_000 + "La capitale de Syldavie est Klow.\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load(filler)
    assert "holds no prose: “mot” is 25,000 of its 25,007 words" in info.value.reason
    # the five seed articles as one long text (about 3,000 words): prose
    seeds = sorted((Path(__file__).resolve().parents[1] / "sources").glob("*.txt"))
    long_article = tmp_path / "long.txt"
    long_article.write_text("\n\n".join(p.read_text(encoding="utf-8") for p in seeds), encoding="utf-8")
    assert len(load(long_article).text.split()) > 2_000


def test_binary_file_with_a_text_extension(tmp_path: Path) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    with pytest.raises(SourceError) as info:
        load(path)
    assert info.value.source == "photo.txt"
    assert "binary" in info.value.reason


@pytest.mark.parametrize("content", [b"", b"   \n\t\r\n  \n", "\u202f\u00a0\n".encode()])
def test_empty_or_whitespace_only(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        load(path)
    assert "empty" in info.value.reason or "no article text" in info.value.reason


def test_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"x" * 2_000_001)
    with pytest.raises(SourceError) as info:
        load_article(path, "huge.txt", 2_000_000)
    assert "2.0 MB, over the 2 MB limit" in info.value.reason and "--max-file-mb" in info.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        load_article(tmp_path / "gone.txt", "gone.txt", 1000)
    assert "disappeared" in info.value.reason


# --- cleaning ------------------------------------------------------------------


def test_support_plea_is_dropped_but_a_sentence_quoting_it_is_kept() -> None:
    raw = (
        "Grève à la raffinerie de Donges\n\n"
        "Les grévistes ont scandé « Soutenez-nous ! » devant les grilles pendant trois heures mardi matin.\n\n"
        "La direction propose une hausse de 4 % des salaires.\n\n"
        "Notre rédaction est indépendante. Soutenez-nous en vous abonnant à la newsletter.\n\n"
        "À lire aussi\n"
        "Les raffineries françaises tournent au ralenti\n\n"
        "Publiez un commentaire\n"
    )
    article = parse_article(raw.encode(), "greve.txt")
    assert "Les grévistes ont scandé « Soutenez-nous ! » devant les grilles" in article.text
    assert "La direction propose une hausse de 4 % des salaires." in article.text
    assert "abonnant" not in article.text
    assert "ralenti" not in article.text and "lire aussi" not in article.text.lower()
    assert "Publiez" not in article.text


def test_published_date_in_the_text() -> None:
    raw = "Les vendanges commencent\n\nPublié le 1er septembre 2025 à 8h. Les vendanges ont commencé en Champagne."
    assert parse_article(raw.encode(), "v.txt").date == "2025-09-01"
    impossible = "Titre\n\nPublié le 31 février 2025. Texte de l'article."
    assert parse_article(impossible.encode(), "w.txt").date is None


def test_date_marker_with_colon_on_its_own_line() -> None:
    article = parse_article(b"date: 2025-03-14\nPi day in Paris\n\nThe museum opened a new room on Friday.", "p.txt")
    assert article.date == "2025-03-14"
    assert article.title == "Pi day in Paris"
    assert article.text.startswith("Pi day in Paris")
    assert article.lang == "en"


# --- formats -------------------------------------------------------------------

HTML = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>La Poste ferme 40 bureaux en Bretagne | Le Journal</title>
<meta property="og:title" content="La Poste ferme 40 bureaux en Bretagne">
<meta property="article:published_time" content="2025-08-05T09:30:00+02:00">
<script>var tracking = "SCRIPT_SECRET";</script>
<style>.menu { color: red } /* STYLE_RULE */</style>
</head><body>
<header><nav><a href="/">Accueil</a> <a href="/eco">Économie NAVLINK</a> <a href="/sport">Sport</a></nav></header>
<main><article>
<h1>La Poste ferme 40 bureaux en Bretagne</h1>
<p>La Poste a annoncé mardi la fermeture de quarante bureaux en Bretagne d'ici la fin de l'année 2026.
Les syndicats dénoncent une décision prise sans concertation avec les élus locaux.</p>
<p>Selon la direction régionale, la fréquentation de ces bureaux a baissé de 35&nbsp;% en cinq ans.
Des points de contact seront ouverts chez des commerçants partenaires.</p>
<p>Le maire de Carhaix a demandé un moratoire et une réunion avec le préfet avant le 15 septembre.</p>
</article></main>
<footer>© Le Journal 2025 — Mentions légales FOOTER_TEXT</footer>
<script>console.log("SCRIPT_TWO")</script>
</body></html>"""


def test_html_article_title_date_and_main_text_only() -> None:
    article = parse_article(HTML.encode("utf-8"), "poste.html")
    assert article.title == "La Poste ferme 40 bureaux en Bretagne"
    assert article.date == "2025-08-05"
    assert "quarante bureaux en Bretagne d'ici la fin de l'année 2026" in article.text
    assert "a baissé de 35 % en cinq ans" in article.text
    assert "avant le 15 septembre" in article.text
    for noise in ("SCRIPT_SECRET", "SCRIPT_TWO", "STYLE_RULE", "NAVLINK", "Accueil", "FOOTER_TEXT", "<p>", "&nbsp;"):
        assert noise not in article.text
    assert article.lang == "fr"


def test_html_page_without_an_article() -> None:
    with pytest.raises(SourceError) as info:
        parse_article(b"<html><head><title>x</title><script>var a = 1;</script></head><body><div></div></body></html>", "empty.html")
    assert "no article text" in info.value.reason


def test_markdown_article() -> None:
    raw = (
        "---\ntitle: \"Les abeilles reviennent à Paris\"\ndate: 2025-06-02\nauthor: A. Martin\n---\n\n"
        "# Les abeilles reviennent à Paris\n\n"
        "Les **ruches urbaines** ont produit 1,2 tonne de miel en 2024, selon la [mairie](https://paris.fr/miel).\n\n"
        "> « C'est une *très* bonne année », dit l'apicultrice.\n\n"
        "![Une ruche](ruche.jpg)\n\n---\n\n"
        "Le programme sera étendu à `12` nouveaux toits.\n"
    )
    article = parse_article(raw.encode(), "abeilles.md")
    assert article.title == "Les abeilles reviennent à Paris"
    assert article.date == "2025-06-02"
    assert "Les ruches urbaines ont produit 1,2 tonne de miel en 2024, selon la mairie." in article.text
    assert "« C'est une très bonne année », dit l'apicultrice." in article.text
    assert "Le programme sera étendu à 12 nouveaux toits." in article.text
    for markup in ("**", "](", "# ", "> ", "`", "---", "author:", "https://"):
        assert markup not in article.text, markup
    assert article.text.count("Les abeilles reviennent à Paris") == 1


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with real text (Helvetica, WinAnsi), written with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    ops = ["BT", "/F1 11 Tf", "14 TL", "50 800 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({escaped}) Tj T*")
    ops.append("ET")
    content = DecodedStreamObject()
    content.set_data("\n".join(ops).encode("cp1252"))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_article() -> None:
    raw = make_pdf(
        [
            "Le vélo électrique gagne du terrain à Lyon",
            "La métropole de Lyon a compté 12 000 vélos électriques de plus en 2025.",
            "Les ventes ont progressé de 18 % sur un an.",
        ]
    )
    article = parse_article(raw, "velo.pdf")
    assert article.title == "Le vélo électrique gagne du terrain à Lyon"
    assert "12 000 vélos électriques de plus en 2025." in article.text
    assert "Les ventes ont progressé de 18 % sur un an." in article.text


def test_damaged_or_textless_pdf() -> None:
    with pytest.raises(SourceError) as info:
        parse_article(b"%PDF-1.4\n garbage that is no pdf at all", "broken.pdf")
    assert info.value.source == "broken.pdf" and "PDF" in info.value.reason
    with pytest.raises(SourceError) as info:
        parse_article(make_pdf([]), "scan.pdf")
    assert "no extractable text" in info.value.reason


def test_seed_folder_holds_the_five_seeds() -> None:
    assert len(seed_files()) == 5 and SEEDS_DIR.is_dir()


# --- names and links (issue 12) ----------------------------------------------------------

from assistant.documents import scan_sources, source_name, source_path  # noqa: E402


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"plain.txt", "plain.txt"),
        (b"caf\xc3\xa9.txt", "café.txt"),  # valid UTF-8 is left alone
        (b"caf\xe9.txt", "caf\\xe9.txt"),  # latin-1 from a Windows zip
        (b"a\nb.txt", "a\\x0ab.txt"),
        (b"back\\slash.txt", "back\\\\slash.txt"),
        (b"c1\xc2\x85.txt", "c1\\u0085.txt"),  # a C1 control character, valid UTF-8
        (b"dir/\xff\xfe.md", "dir/\\xff\\xfe.md"),
    ],
)
def test_source_names_are_printable_and_lead_back_to_the_file(tmp_path: Path, raw: bytes, shown: str) -> None:
    path = os.fsencode(str(tmp_path)) + b"/" + raw
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"Titre\n\nUn texte.\n")
    name = source_name(os.fsdecode(raw))
    assert name == shown and name.isprintable()
    name.encode("utf-8")  # valid Unicode: Chroma metadata and JSON take it
    assert os.fsencode(source_path(tmp_path, name)) == path
    assert list(scan_sources(tmp_path).files) == [shown]


def test_the_shortcut_for_plain_names_escapes_what_the_pattern_escapes() -> None:
    from assistant.documents.source_files import _NEEDS_ESCAPE, _escape_char

    # source_name returns a printable name without a backslash as it is: no such character may need an escape
    for code in range(0x110000):
        name = f"a{chr(code)}.txt"
        assert source_name(name) == _NEEDS_ESCAPE.sub(_escape_char, name), hex(code)


def test_scan_refuses_links_outside_dangling_and_looping(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("Secret\n\nNe pas publier.\n", encoding="utf-8")
    src = tmp_path / "sources"
    (src / "real").mkdir(parents=True)
    (src / "real" / "a.txt").write_text("A\n\nUn texte.\n", encoding="utf-8")
    (src / "leak.txt").symlink_to(outside)
    (src / "etc").symlink_to("/etc")
    (src / "gone.txt").symlink_to(src / "nothing.txt")
    (src / "self.txt").symlink_to(src / "self.txt")
    (src / "again").symlink_to(src / "real")  # listed before "real": the real name still wins
    (src / "parent").symlink_to(src)
    (src / "b.txt").symlink_to(src / "real" / "a.txt")  # a link to an article inside: followed
    scan = scan_sources(src)
    assert list(scan.files) == ["b.txt", "real/a.txt"]
    refused = dict(scan.refused)
    assert set(refused) == {"leak.txt", "etc", "gone.txt", "self.txt", "again", "parent"}
    assert "outside the sources folder" in refused["leak.txt"] and "outside" in refused["etc"]
    assert "dangling" in refused["gone.txt"] and "loop" in refused["self.txt"]
    assert "already read" in refused["again"] and "already read" in refused["parent"]


def test_the_walk_gives_each_plain_file_the_stat_taken_while_listing(tmp_path: Path) -> None:
    from assistant.documents import SourceWalk

    src = tmp_path / "sources"
    (src / "a").mkdir(parents=True)
    for name in ("a0.txt", "a.txt", "a-b.md", "a/z.txt", "notes.bin", ".hidden.txt", "a/.draft.md"):
        (src / name).write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    (src / "lien.txt").symlink_to(src / "a" / "z.txt")
    walk = SourceWalk(src)
    found = {source: (path, st) for source, path, st in walk}
    assert set(found) == {"a0.txt", "a.txt", "a-b.md", "a/z.txt", "lien.txt"}
    for source in ("a.txt", "a/z.txt"):
        path, st = found[source]
        real = os.stat(path)
        assert (st.st_ino, st.st_size, st.st_mtime_ns) == (real.st_ino, real.st_size, real.st_mtime_ns)
    assert found["lien.txt"] == (str(src / "lien.txt"), None)  # a link: its target is for the caller to stat
    assert not walk.in_name_order and walk.refused == []
    assert list(scan_sources(src).files) == ["a-b.md", "a.txt", "a/z.txt", "a0.txt", "lien.txt"]  # one order over folders

    flat = tmp_path / "flat"
    flat.mkdir()
    for name in ("b.txt", "c.md", "a.txt"):
        (flat / name).write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    walk = SourceWalk(flat)
    assert [source for source, _, _ in walk] == ["a.txt", "b.txt", "c.md"] and walk.in_name_order

    # An escape can move a name: "a\x01.txt" lists before "aB.txt" but is named "a\\x01.txt", after it
    (flat / "a\x01.txt").write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    (flat / "aB.txt").write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    walk = SourceWalk(flat)
    assert len(list(walk)) == 5 and not walk.in_name_order
    names = list(scan_sources(flat).files)
    assert names == sorted(names) and "a\\x01.txt" in names


def test_a_file_gone_between_the_listing_and_its_stat_is_left_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.documents.source_files as source_files

    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    real_listdir = os.listdir

    def list_then_delete(folder: str) -> list[str]:
        names = real_listdir(folder)
        (tmp_path / "a.txt").unlink()
        return names

    monkeypatch.setattr(source_files.os, "listdir", list_then_delete)
    assert list(scan_sources(tmp_path).files) == ["b.txt"]


def test_punctuation_only_text_is_refused() -> None:
    with pytest.raises(SourceError, match="no words"):
        parse_article("... !!! — *** ---\n\n« » … ;;; ___\n".encode(), "dots.txt")
    assert parse_article("東京\n\n予算案を発表した。\n".encode(), "ja.txt").text  # words in any script count


def test_a_file_of_encoded_data_only_is_refused_with_its_size() -> None:
    import base64

    blob = base64.b64encode(bytes(range(256)) * 6000).decode()  # 2,048,000 characters, no space
    with pytest.raises(SourceError, match=r"holds no prose, only 2\.0 MB without spaces in 2 runs \(encoded data\?\); add the article's text") as info:
        parse_article(f"{blob}\n\n{blob[:500]}\n".encode(), "data.txt")
    assert info.value.source == "data.txt"


def test_the_title_is_never_a_run_of_encoded_data() -> None:
    blob = "0f" * 20_000
    article = parse_article(f"{blob} Le maire a présenté le budget. Il sera voté en mars.\n".encode(), "hex.txt")
    assert article.title == "Le maire a présenté le budget."
    assert article.text.startswith(blob)  # kept in the text: offsets into it stay exact
