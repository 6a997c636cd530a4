"""OpenAI-shaped errors: ``{"error": {"message", "type", "param", "code"}}`` with the status OpenAI uses.

Visage's own errors (``VisageError``) keep their message and fix: a bad recording is a 400 that says why
and what to send instead; a prompt beyond the context window is a 400 ``context_length_exceeded``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AudioInputError, ConfigError, EngineError, NotFoundError, VisageError
from engines.llm.generation import ContextLengthError

log = logging.getLogger(__name__)

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error",
          503: "server_error"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None, param: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers

    def response(self) -> JSONResponse:
        return error_response(self.status, self.message, code=self.code, param=self.param, headers=self.headers)


def error_response(status: int, message: str, *, code: str | None = None, param: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"message": message, "type": _TYPES.get(status, "server_error"), "param": param,
                      "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def from_visage(err: VisageError) -> ApiError:
    """The status and code for one of Visage's own errors (its message keeps the fix)."""
    message = str(err).replace("\n  → ", " ")
    if isinstance(err, ContextLengthError):
        return ApiError(400, message, code="context_length_exceeded", param="messages")
    if isinstance(err, AudioInputError):
        return ApiError(400, message, code="invalid_audio", param="file")
    if isinstance(err, NotFoundError):
        return ApiError(404, message, code="not_found")
    if isinstance(err, ConfigError):
        return ApiError(400, message, code="invalid_value")
    if isinstance(err, EngineError):
        return ApiError(503, message, code="engine_unavailable")
    return ApiError(500, message, code="internal_error")


def _validation_message(err: RequestValidationError) -> tuple[str, str | None]:
    problems = []
    param = None
    for e in err.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "form")]
        where = ".".join(loc) or "request"
        param = param or where
        problems.append(f"{where}: {e.get('msg')}")
    return "Invalid request: " + "; ".join(problems) + ".", param


def install(app: FastAPI) -> None:
    """Every error the app can raise answers in OpenAI's shape."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, err: ApiError) -> JSONResponse:
        return err.response()

    @app.exception_handler(VisageError)
    async def _visage(_request: Request, err: VisageError) -> JSONResponse:
        return from_visage(err).response()

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, err: RequestValidationError) -> JSONResponse:
        message, param = _validation_message(err)
        return error_response(400, message, code="invalid_request", param=param)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, err: StarletteHTTPException) -> JSONResponse:
        detail: Any = err.detail
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code)
        return error_response(err.status_code, str(detail), code=code, headers=getattr(err, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
        log.exception("local API request failed")
        return error_response(500, f"Visage failed on this request ({type(err).__name__}); see its log.",
                              code="internal_error")
