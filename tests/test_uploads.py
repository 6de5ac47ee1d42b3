"""uploads.py: uploaded and pasted articles land in sources/ under a safe name, or are refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.documents import list_sources, load_article
from assistant.uploads import UploadError, safe_name, save_pasted, save_upload

MB = 1_000_000
ARTICLE = "Un titre d'essai\n\nLe conseil municipal de Quimper a voté le budget de 2026 mardi soir.\n"


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("../../x", "x.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/etc/cron.d/evil.md", "evil.md"),
        ("C:\\Users\\bob\\Desktop\\note.HTML", "note.html"),
        ("..\\..\\windows.txt", "windows.txt"),
        ("Élections à Saint-Étienne.txt", "Elections-a-Saint-Etienne.txt"),
        ("ｆｕｌｌｗｉｄｔｈ.txt", "fullwidth.txt"),
        ("rapport\u202egnp.txt", "rapport-gnp.txt"),  # right-to-left override
        ("a\x00b\nc.txt", "a-b-c.txt"),
        (".hidden.txt", "hidden.txt"),
        ("...txt", "article.txt"),
        ("北京新闻.txt", "article.txt"),
        ("report.final.v2.pdf", "report.final.v2.pdf"),
        ("no suffix", "no-suffix.txt"),
    ],
)
def test_safe_name_keeps_a_plain_basename(original: str, expected: str) -> None:
    assert safe_name(original) == expected


def test_safe_name_caps_the_length() -> None:
    name = safe_name("a" * 500 + ".md")
    assert name.endswith(".md") and len(name) <= 83


@pytest.mark.parametrize("original", ["virus.exe", "page.php", "archive.tar.gz", "image.png", "..", "x."])
def test_unsupported_types_are_refused_with_the_accepted_list(original: str) -> None:
    with pytest.raises(UploadError) as err:
        safe_name(original)
    message = str(err.value)
    assert "not accepted" in message and ".txt" in message and ".pdf" in message
    assert "\n" not in message


def test_upload_is_saved_inside_sources_under_its_safe_name(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    upload = tmp_path / "upload.bin"
    upload.write_text(ARTICLE, encoding="utf-8")
    saved = save_upload(upload, "../../../outside.txt", sources, 10 * MB)
    assert saved.path == (sources / "outside.txt").resolve()
    assert saved.path.read_text(encoding="utf-8") == ARTICLE
    assert saved.title == "Un titre d'essai" and not saved.existed
    assert not (tmp_path / "outside.txt").exists()
    # no temporary file is left behind, and only the article is listed for indexing
    assert sorted(p.name for p in sources.iterdir()) == ["outside.txt"]
    assert list_sources(sources) == [sources / "outside.txt"]


def test_a_taken_name_gets_a_suffix_and_the_same_bytes_are_not_stored_twice(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "note.txt").write_text("Autre article\n\nUn tout autre texte, déjà là.\n", encoding="utf-8")
    first = save_upload(ARTICLE.encode(), "note.txt", sources, MB)
    again = save_upload(ARTICLE.encode(), "note.txt", sources, MB)
    assert first.name == "note-2.txt" and not first.existed
    assert again.name == "note-2.txt" and again.existed
    assert (sources / "note.txt").read_text(encoding="utf-8").startswith("Autre article")


def test_a_symlink_in_sources_is_never_written_through(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("do not touch\n", encoding="utf-8")
    (sources / "a.txt").symlink_to(outside)
    saved = save_upload(ARTICLE.encode(), "a.txt", sources, MB)
    assert saved.name == "a-2.txt"
    assert outside.read_text(encoding="utf-8") == "do not touch\n"


def test_oversized_uploads_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"Titre\n\n" + b"x " * 600_000)
    with pytest.raises(UploadError) as err:
        save_upload(big, "big.txt", tmp_path / "sources", MB)
    assert "is 1.2 MB, over the 1 MB limit" in str(err.value) and "--max-upload-mb" in str(err.value)
    assert not (tmp_path / "sources" / "big.txt").exists()
    # the web API reads one byte past the limit: the message gives no size it does not know
    with pytest.raises(UploadError) as cut:
        save_upload(b"x" * (MB + 1), "cut.txt", tmp_path / "sources", MB)
    assert "cut.txt: file is over the 1 MB limit" in str(cut.value)


@pytest.mark.parametrize(
    ("name", "raw", "reason"),
    [
        ("empty.txt", b"  \n", "empty"),
        ("binary.txt", b"\x7fELF\x00\x00\x01" * 50, "binary"),
        ("fake.pdf", b"not a pdf at all", "PDF"),
    ],
)
def test_files_that_are_not_articles_are_refused_and_not_saved(tmp_path: Path, name: str, raw: bytes, reason: str) -> None:
    sources = tmp_path / "sources"
    with pytest.raises(UploadError) as err:
        save_upload(raw, name, sources, MB)
    assert name in str(err.value) and reason in str(err.value)
    assert not sources.exists() or not any(sources.iterdir())


def test_pasted_text_becomes_an_article_with_its_title_and_date(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    saved = save_pasted("Le port de Brest s'agrandit", "Les travaux du nouveau quai ont commencé lundi.",
                        sources, MB, date="2026-02-03")
    assert saved.name == "Le-port-de-Brest-s-agrandit.txt"
    article = load_article(saved.path, saved.name, MB)
    assert article.title == "Le port de Brest s'agrandit"
    assert article.date == "2026-02-03"
    assert "nouveau quai" in article.text


@pytest.mark.parametrize(
    ("title", "text", "date", "field"),
    [
        ("", "Du texte.", None, "title"),
        ("Un titre", "   ", None, "text"),
        ("Un titre", "Du texte.", "03/02/2026", "date"),
        ("x" * 200, "Du texte.", None, "title"),
    ],
)
def test_bad_pasted_fields_are_named_in_the_message(tmp_path: Path, title: str, text: str, date: str | None, field: str) -> None:
    with pytest.raises(UploadError) as err:
        save_pasted(title, text, tmp_path / "sources", MB, date=date)
    assert str(err.value).startswith(field)
