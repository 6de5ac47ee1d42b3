"""Plain JSON routes beside the page, under ``/api`` on the same server (OpenAPI docs at ``/api/docs``).

    POST   /api/ask              {"question": "…", "history": [{"role": "user", "content": "…"}, …]}
    GET    /api/articles         a page of the files of the index (duplicates marked); ?match=words&offset=0&limit=500
    POST   /api/articles         multipart upload of one or more files ("files")
    DELETE /api/articles/{file}  remove a file from sources/ and the index
    GET    /api/status           the index status and whether it is being updated

They follow the page's rules: the same login (HTTP Basic with the ``--auth`` user, or
the page's session cookie), the same upload size, question length and history bounds,
and at most ``ask_concurrency`` questions answered at once (others wait briefly, then
get 503). Request bodies are capped before they are read.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import Depends, FastAPI, File, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.api import MAX_QUESTION_CHARS, Assistant
from assistant.catalog import MAX_FILTER_CHARS, MAX_PAGE
from assistant.errors import AssistantError, QuestionError
from assistant.watch import Indexer

from . import handlers, handlers_index
from .handlers_index import MAX_FILES_PER_UPLOAD

ASK_WAIT_S = 60.0  # a question waits this long for a free answering slot, then gets 503
JSON_BODY_BYTES = 256_000  # /api/ask bodies (question + bounded history) are far smaller
# What one /api/ask request may carry; more is refused (422). What is accepted is then cut to the
# core's follow-up bound (followup.bound_history, through handlers.clean_history), the only bound.
MAX_REQUEST_HISTORY_MESSAGES = 20  # a client may send a whole conversation, not megabytes of it
MAX_REQUEST_MESSAGE_CHARS = 4000


class Message_(BaseModel):
    role: str = Field(description='"user" or "assistant"', max_length=20)
    content: str = Field(max_length=MAX_REQUEST_MESSAGE_CHARS)


class AskRequest(BaseModel):
    question: str = Field(description="The question, in French or English", max_length=MAX_QUESTION_CHARS * 2)
    history: list[Message_] = Field(default_factory=list, max_length=MAX_REQUEST_HISTORY_MESSAGES,
                                    description="Earlier messages, oldest first, for follow-up questions")


class UploadReport(BaseModel):
    added: list[str]
    messages: list[str]
    errors: list[str]


class _BodyLimit:
    """Refuse request bodies over a size before the route reads them (declared or streamed)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, f"request body over {limit:,} bytes")
            return message

        await self.app(scope, counted, send)


def _too_large(limit: int) -> ASGIApp:
    return JSONResponse({"detail": f"request body over {limit:,} bytes; send less"}, status_code=413)


def _fastapi(**kwargs: Any) -> FastAPI:
    """FastAPI whose docs page (/api/docs) serves Swagger UI from the package, not a CDN, when it can."""
    try:
        from fastapi_offline import FastAPIOffline
    except ImportError:  # the docs page then loads Swagger UI from its CDN
        return FastAPI(**kwargs)
    return FastAPIOffline(**kwargs)


def build_api(
    bot: Assistant, indexer: Indexer, max_bytes: int, auth: tuple[str, str] | None = None,
    session_user: Callable[[Request], str | None] | None = None, ask_concurrency: int = 2,
    progress: handlers_index.IndexProgress | None = None, wait_ready: Callable[[], None] | None = None,
) -> FastAPI:
    """The ``/api`` app; ``session_user`` tells whether the page's login cookie is valid."""
    app = _fastapi(
        title="News assistant API",
        version="1",
        description="Cited answers from your news articles, and the articles themselves. "
                    "With `--auth USER:PASSWORD`, send HTTP Basic credentials (curl -u USER:PASSWORD).",
    )
    upload_limit = MAX_FILES_PER_UPLOAD * max_bytes + 100_000
    app.add_middleware(_BodyLimit, limit_for=lambda scope: upload_limit if scope["method"] == "POST"
                       and scope["path"].rstrip("/").endswith("/articles") else JSON_BODY_BYTES)
    slots = threading.BoundedSemaphore(max(1, ask_concurrency))

    def login(request: Request) -> None:
        if auth is None:
            return
        if session_user is not None and session_user(request):
            return
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(header[6:], validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            if secrets.compare_digest(user.encode(), auth[0].encode()) & secrets.compare_digest(
                    password.encode(), auth[1].encode()):
                return
        raise HTTPException(401, "log in: HTTP Basic with the server's --auth user", {"WWW-Authenticate": "Basic"})

    guarded = [Depends(login)]

    @app.post("/ask", dependencies=guarded, summary="Ask a question")
    def ask(body: AskRequest) -> dict[str, Any]:
        """The answer as `assistant ask --json` prints it: text with `[n]` markers, citations, passages."""
        if wait_ready is not None:
            wait_ready()  # the vector store opens once, at start-up
        if not slots.acquire(timeout=ASK_WAIT_S):
            raise HTTPException(503, "too many questions at once; try again in a moment")
        try:
            return handlers.api_ask(bot, body.question, [m.model_dump() for m in body.history])
        except QuestionError as exc:
            raise HTTPException(400, str(exc)) from None
        except AssistantError as exc:
            raise HTTPException(503, str(exc)) from None
        finally:
            slots.release()

    @app.get("/articles", dependencies=guarded, summary="List the articles")
    def articles(
        response: Response,
        match: str = Query("", max_length=MAX_FILTER_CHARS, description="words every listed file's title, name, date or language holds"),
        offset: int = Query(0, ge=0, description="entries to skip (sorted by file name)"),
        limit: int = Query(MAX_PAGE, ge=1, le=MAX_PAGE, description="entries in this page"),
    ) -> list[dict[str, Any]]:
        """A page of the files of the index, sorted by name; `duplicate_of` names the file a duplicate
        repeats. Headers: `X-Total-Count`, the files that match (the next page starts at offset +
        limit while it is smaller); `X-Archive-Count`, every file of the index."""
        try:
            page = bot.catalog(match, offset, limit)
        except QuestionError as exc:
            raise HTTPException(400, str(exc)) from None
        except AssistantError as exc:
            raise HTTPException(503, str(exc)) from None
        response.headers["X-Total-Count"] = str(page.matched)
        response.headers["X-Archive-Count"] = str(page.total)
        return [asdict(e) for e in page.entries]

    @app.post("/articles", dependencies=guarded, summary="Upload articles", response_model=UploadReport)
    async def upload(files: list[UploadFile] = File(description="Article files (.txt, .md, .html, .pdf)")) -> Any:
        """Save the files into sources/ under safe names, index them, and say what came of each."""
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise HTTPException(400, f"{len(files)} files at once; send at most {MAX_FILES_PER_UPLOAD} per request")
        contents: list[tuple[bytes, str]] = []
        for f in files:
            data = await f.read(max_bytes + 1)  # one byte over is enough to tell it is too big
            contents.append((data, f.filename or "article.txt"))
        from starlette.concurrency import run_in_threadpool

        outcome = await run_in_threadpool(handlers_index.save_and_index, indexer, contents, max_bytes, None, "en",
                                          progress)
        report = UploadReport(added=outcome.added, messages=outcome.done, errors=outcome.errors)
        status = 201 if outcome.added else (400 if outcome.errors else 200)
        return JSONResponse(report.model_dump(), status_code=status)

    @app.delete("/articles/{source:path}", dependencies=guarded, summary="Delete an article")
    def delete(source: str) -> dict[str, Any]:
        """Remove the file from sources/ and from the index."""
        try:
            bot.delete_article(source, update_index=False)
            report = indexer.update("delete")
        except QuestionError as exc:
            raise HTTPException(404, str(exc)) from None
        except AssistantError as exc:
            raise HTTPException(503, str(exc)) from None
        return {"deleted": source, "summary": report.summary()}

    @app.get("/status", dependencies=guarded, summary="Index status")
    def status() -> dict[str, Any]:
        """Articles, chunks, languages, the embedding model, the last update, and whether one is running."""
        try:
            data = bot.status().to_dict()
        except AssistantError as exc:
            raise HTTPException(503, str(exc)) from None
        data["indexing"] = indexer.busy
        data["last_event"] = indexer.last.line() if indexer.last else None
        return data

    return app
