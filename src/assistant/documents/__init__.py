"""Article files (.txt, .md, .html, .pdf): found under ``sources/`` and loaded into cleaned
:class:`Article` objects.

Every failure is a :class:`SourceError` naming the file and the fix; callers skip that file
and go on with the others.

    source_files  names (escaped to printable Unicode), the scan of sources/, paths back
    reading       bytes read under a size limit, decoded, parsed (parse_article)
    formats       text out of HTML, Markdown and PDF, with their title and date
    layout        title, date and body of the cleaned text; page furniture dropped
"""

from .layout import MAX_TITLE_CHARS
from .reading import (
    article_id_for,
    content_hash,
    decode_bytes,
    load_article,
    parse_article,
    read_source,
    size_problem,
)
from .source_files import (
    SourceScan,
    SourceWalk,
    article_file,
    is_article_name,
    list_sources,
    name_in,
    scan_sources,
    source_name,
    source_path,
)

__all__ = [
    "MAX_TITLE_CHARS", "SourceScan", "SourceWalk", "article_file", "article_id_for", "content_hash", "decode_bytes",
    "is_article_name", "list_sources", "load_article", "name_in", "parse_article", "read_source",
    "scan_sources", "size_problem", "source_name", "source_path",
]
