"""Errors as ``application/problem+json`` (RFC 9457).

Every error answer has ``type`` (``urn:overdue:problem:<code>``, stable), ``title`` (by ``code``, in English
or, when ``Accept-Language`` prefers Chinese, in zh-CN), ``status``, ``detail`` (what happened, in English)
and ``code``; a refusal by a compliance or relief rule adds ``rule``; a malformed request adds ``errors``
(where and what, never the rejected value, which may be personal data).

The error tree of :mod:`overdue.domain.errors` maps to statuses by :data:`STATUS_BY_ERROR`, the most specific
class first. An error that is not in it (a :class:`~overdue.domain.errors.LedgerError`, a bug) stays a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from overdue.api.users import NotAuthenticated
from overdue.domain.errors import (
    Conflict,
    IdempotencyConflict,
    InvalidInput,
    NotFound,
    OverdueError,
    Refused,
)
from overdue.services.collections import ContactRefused

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:overdue:problem:"


class Forbidden(OverdueError):
    """The user's role may not do this (HTTP 403)."""

    code = "forbidden"


class MissingIdempotencyKey(OverdueError):
    """A money-moving POST without an ``Idempotency-Key`` header (HTTP 400)."""

    code = "idempotency-key-required"


STATUS_BY_ERROR: tuple[tuple[type[OverdueError], int], ...] = (
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (MissingIdempotencyKey, 400),
    (NotFound, 404),
    (IdempotencyConflict, 422),
    (Conflict, 409),
    (ContactRefused, 409),
    (Refused, 409),
    (InvalidInput, 422),
)
"""HTTP status of each error class; the first class an error is an instance of wins."""

TITLES: dict[str, tuple[str, str]] = {
    "not-authenticated": ("Authentication required", "需要身份验证"),
    "forbidden": ("Not allowed for your role", "您的角色无权执行此操作"),
    "idempotency-key-required": ("Idempotency-Key header required", "缺少 Idempotency-Key 请求头"),
    "not-found": ("Not found", "未找到"),
    "idempotency-conflict": ("Idempotency key reused for another request", "幂等键已用于其他请求"),
    "conflict": ("Conflict", "冲突"),
    "contact-refused": ("Contact refused by a compliance rule", "联系被合规规则拒绝"),
    "relief-refused": ("Relief refused by a rule", "纾困方案被规则拒绝"),
    "stale-quote": ("The quote is out of date", "报价已过期"),
    "credit-limit-exceeded": ("Credit limit exceeded", "超出可用额度"),
    "line-not-usable": ("The credit line cannot be used", "额度不可用"),
    "repayment-too-large": ("Repayment larger than what is owed", "还款金额超过应还金额"),
    "installments-refused": ("Installments not allowed", "不可分期"),
    "account-sold": (
        "The account is sold; its payments are forwarded to the buyer",
        "账户已转让，还款转交受让方",
    ),
    "legal-refused": ("Legal step refused by a rule", "法律程序步骤被规则拒绝"),
    "row-rejected": ("Row rejected", "记录被拒绝"),
    "refused": ("Refused by the rules", "被规则拒绝"),
    "invalid-input": ("Invalid request", "请求无效"),
    "invalid-amount": ("Invalid amount", "金额无效"),
    "invalid-date": ("Invalid date", "日期无效"),
    "invalid-terms": ("Invalid product terms", "产品条款无效"),
    "validation-failed": ("Malformed request", "请求格式错误"),
    "method-not-allowed": ("Method not allowed", "不支持该请求方法"),
    "database-unavailable": ("Database unavailable", "数据库不可用"),
    "internal-error": ("Internal error", "内部错误"),
}


def status_for(error: OverdueError) -> int:
    """The HTTP status for ``error``: 500 for anything not in :data:`STATUS_BY_ERROR`."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


def _title(code: str, request: Request | None) -> str:
    english, chinese = TITLES.get(code, ("Error", "错误"))
    language = "" if request is None else request.headers.get("accept-language", "")
    return chinese if language.lower().startswith("zh") else english


def problem(
    status: int,
    code: str,
    detail: str,
    request: Request | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; ``extra`` members (``rule``, ``errors``) are added when not None."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": _title(code, request),
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _overdue_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OverdueError)
    status = status_for(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    detail = str(error) if status != 500 else "an internal error occurred; it has been logged"
    return problem(status, error.code, detail, request, headers=headers, rule=getattr(error, "rule", None))


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type")),
        }
        for e in error.errors()
    ]
    where = "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors[:5])
    return problem(422, "validation-failed", f"the request is malformed: {where}", request, errors=errors)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "not-found", 405: "method-not-allowed", 401: "not-authenticated", 403: "forbidden"}.get(
        error.status_code, "invalid-input"
    )
    return problem(error.status_code, code, str(error.detail), request, headers=error.headers)


async def _integrity_error(request: Request, error: Exception) -> JSONResponse:
    # Two requests raced to create the same thing; the loser's request conflicts with the winner's.
    return problem(
        409, "conflict", "the request conflicts with data stored meanwhile; read it and retry", request
    )


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    return problem(503, "database-unavailable", "the database cannot be used right now; try again", request)


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    return problem(500, "internal-error", "an internal error occurred; it has been logged", request)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(OverdueError, _overdue_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
