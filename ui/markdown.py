"""An answer, or a whole conversation, as Markdown with numbered references (for copying and export)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.models import Answer

_MARKER = re.compile(r"\[(\d{1,3})\](?!\()")  # [n], not a Markdown link [n](...)


def _inline(text: str) -> str:
    """One line of untrusted text, safe inside Markdown quotes and lists."""
    return re.sub(r"\s+", " ", text).strip()


def answer_markdown(answer: Answer) -> str:
    """The answer with ``[n]`` as footnote-style references, then the numbered list of sources."""
    if answer.refused:
        lines = [answer.answer.strip()]
        if answer.retrieved:
            lines.append("")
            lines += [f"- {_inline(p.title)} ({p.date or 'n.d.'}, {p.source})" for p in answer.retrieved[:3]]
        return "\n".join(lines)
    ids = {c.id for c in answer.citations}
    text = _MARKER.sub(lambda m: f"[^{m.group(1)}]" if int(m.group(1)) in ids else m.group(), answer.answer.strip())
    refs = [f'[^{c.id}]: {_inline(c.title)} ({c.date or "n.d."}, {c.source}): “{_inline(c.quote)}”'
            for c in answer.citations]
    return text + ("\n\n" + "\n".join(refs) if refs else "")


def conversation_markdown(pairs: Sequence[tuple[str, str]]) -> str:
    """(question, answer Markdown) pairs as one document; each answer's references stay numbered per answer."""
    parts = []
    for i, (question, answer) in enumerate(pairs, 1):
        # Footnote labels must be unique in one document: prefix them with the turn.
        numbered = re.sub(r"\[\^(\d{1,3})\]", lambda m: f"[^{i}.{m.group(1)}]", answer)
        parts.append(f"## {i}. {_inline(question)}\n\n{numbered}")
    return "\n\n".join(parts) + "\n"
