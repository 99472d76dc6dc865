"""Google's HTTP surface: `/v1/...` and `/v1beta1/...` tuning jobs, experiment contexts, the
TensorBoard reads behind training curves and `generateContent` of tuned endpoints and publisher
models.

Both versions are served because both Google SDKs call `v1beta1` for tuning by default; the
version only changes which extra fields a create body may carry. Anything unknown answers in
Google's JSON error shape, never a plain-text 404, since SDKs parse every error body.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.emulator import metrics
from bot.emulator.control import control_routes
from bot.emulator.errors import ApiError, default_message, invalid, not_found

if TYPE_CHECKING:
    from bot.emulator.core import Emulator, Fault

VERSIONS = ("v1", "v1beta1")
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_JOBS = re.compile(r"projects/([^/]+)/locations/([^/]+)/tuningJobs")
_JOB = re.compile(r"projects/([^/]+)/locations/([^/]+)/tuningJobs/([^/:]+)(:cancel)?")
_CONTEXT = re.compile(
    r"projects/([^/]+)/locations/([^/]+)/metadataStores/default/contexts/([^/:]+)"
)
_ENDPOINT_GENERATE = re.compile(
    r"projects/([^/]+)/locations/([^/]+)/endpoints/([^/:]+):generateContent"
)
_PUBLISHER_GENERATE = re.compile(
    r"projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):generateContent"
)


class _BadJson:
    """Marks a request body that was not JSON."""


def _unknown_url(version: str, path: str) -> ApiError:
    return not_found(f"The requested URL /{version}/{path} was not found on this server.")


def route(version: str, http_method: str, path: str) -> tuple[str, tuple[str, str, str]]:
    """Which API method a request is, and (project, region, job or context id)."""
    if match := _JOBS.fullmatch(path):
        if http_method not in ("GET", "POST"):
            raise _unknown_url(version, path)
        return ("create" if http_method == "POST" else "list"), (match[1], match[2], "")
    if match := _JOB.fullmatch(path):
        cancel = bool(match[4])
        if http_method != ("POST" if cancel else "GET"):
            raise _unknown_url(version, path)
        if not match[3].isdigit():
            raise invalid(f"Invalid resource field value in the request: {match[3]}.", "name")
        return ("cancel" if cancel else "get"), (match[1], match[2], match[3])
    if (match := _CONTEXT.fullmatch(path)) and http_method == "GET":
        return "experiment", (match[1], match[2], match[3])
    # TensorBoard reads carry the whole resource path: their names have more parts.
    if http_method == "GET" and (match := metrics.RUNS.fullmatch(path)):
        return "tensorboard_runs", (match[1], match[2], path)
    if http_method == "GET" and (match := metrics.SERIES_LIST.fullmatch(path)):
        return "tensorboard_series", (match[1], match[2], path)
    if http_method == "GET" and (match := metrics.READ.fullmatch(path)):
        return "tensorboard_read", (match[1], match[2], path)
    if http_method == "GET" and (match := metrics.BATCH_READ.fullmatch(path)):
        return "tensorboard_batch_read", (match[1], match[2], path)
    if http_method == "POST" and (match := _ENDPOINT_GENERATE.fullmatch(path)):
        return "generate_tuned", (match[1], match[2], match[3])
    if http_method == "POST" and (match := _PUBLISHER_GENERATE.fullmatch(path)):
        return "generate_base", (match[1], match[2], match[3])
    raise _unknown_url(version, path)


def _fault_response(fault: Fault, method: str) -> Response:
    return ApiError(
        fault.status,
        fault.message or default_message(fault.status, method),
        fault.google_status,
        retry_after=fault.retry_after,
    ).response()


def _query_int(request: Request, *names: str) -> int:
    for name in names:
        if name in request.query_params:
            try:
                return int(request.query_params[name] or 0)
            except ValueError:
                raise invalid(f"Invalid value at '{name}' (TYPE_INT32).", "page_size") from None
    return 0


def _query(request: Request, *names: str) -> str:
    for name in names:
        if name in request.query_params:
            return request.query_params[name]
    return ""


def _query_or_none(request: Request, *names: str) -> str | None:
    for name in names:
        if name in request.query_params:
            return request.query_params[name]
    return None


class GoogleRoutes:
    """The handlers of Google's surface for one Emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    async def api(self, request: Request) -> Response:
        """Every `/v1/...` and `/v1beta1/...` request."""
        version = request.path_params["version"]
        path = request.path_params["path"]
        try:
            if version not in VERSIONS:
                raise _unknown_url(version, path)
            method, target = route(version, request.method, path)
        except ApiError as exc:
            return exc.response()
        raw_body: Any = None
        if request.method == "POST":
            data = await request.body()
            try:
                raw_body = json.loads(data) if data.strip() else {}
            except ValueError:
                raw_body = _BadJson()
        emulator = self.emulator
        emulator.record(method, path, raw_body)
        if emulator.require_token is not None:
            header = request.headers.get("authorization", "")
            if header != f"Bearer {emulator.require_token}":
                return ApiError(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                    "UNAUTHENTICATED",
                ).response()
        hold = emulator.take_hold(method)
        if hold is not None:
            await asyncio.to_thread(hold.wait)
        fault = emulator.take_fault(method)
        try:
            if fault is not None and not fault.after_commit:
                await self._delay(fault.delay)
                if fault.status >= 300:
                    return _fault_response(fault, method)
            if isinstance(raw_body, _BadJson):
                raise invalid("Invalid JSON payload received.", None)
            result = self._dispatch(version, method, target, request, raw_body, fault)
        except ApiError as exc:
            return exc.response()
        if fault is not None and fault.after_commit:
            await self._delay(fault.delay)
            if fault.status >= 300:
                return _fault_response(fault, method)
        return JSONResponse(result)

    def _dispatch(
        self,
        version: str,
        method: str,
        target: tuple[str, str, str],
        request: Request,
        body: Any,
        fault: Fault | None,
    ) -> dict[str, Any]:
        emulator = self.emulator
        project, region, ident = target
        if method in ("generate_tuned", "generate_base"):
            block = fault.block_reason if fault is not None else None
            finish = fault.finish_reason if fault is not None else None
            if method == "generate_tuned":
                return emulator.generate_tuned(project, region, ident, body, block, finish)
            return emulator.generate_base(project, region, ident, body, block, finish)
        name = f"projects/{project}/locations/{region}/tuningJobs/{ident}"
        if method == "create":
            return emulator.create(version, project, region, body)
        if method == "get":
            return emulator.get(name)
        if method == "cancel":
            # CancelTuningJobRequest has only `name`, which the URL carries.
            if not isinstance(body, dict) or set(body) - {"name"}:
                raise invalid("Invalid JSON payload received. Unknown name in request.", None)
            emulator.cancel(name)
            return {}
        if method == "experiment":
            return emulator.experiment(project, region, ident)
        if method == "tensorboard_runs":
            return emulator.tensorboard_runs(ident)
        if method == "tensorboard_series":
            return emulator.tensorboard_series(ident)
        if method == "tensorboard_batch_read":
            names = request.query_params.getlist("timeSeries")
            return emulator.tensorboard_batch_read(
                ident, names or request.query_params.getlist("time_series")
            )
        if method == "tensorboard_read":
            return emulator.tensorboard_read(
                ident, _query_or_none(request, "maxDataPoints", "max_data_points")
            )
        return emulator.list(
            project,
            region,
            _query(request, "filter"),
            _query_int(request, "pageSize", "page_size"),
            _query(request, "pageToken", "page_token"),
        )

    async def _delay(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.to_thread(self.emulator.wait_stopping, seconds)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (paths outside `/v1*`), in Google's shape."""
    code = exc.status_code if isinstance(exc, HTTPException) else 500
    if code in (404, 405):
        message = f"The requested URL {request.url.path} was not found on this server."
        return not_found(message).response()
    return ApiError(code, "Internal error encountered.").response()


def build_app(emulator: Emulator) -> Starlette:
    """The ASGI app: Google's routes, the control routes, JSON errors for everything else."""
    google = GoogleRoutes(emulator)
    routes = [
        *control_routes(emulator),  # first: the catch-all below would match them too
        Route("/{version:str}/{path:path}", google.api, methods=_ALL_METHODS),
    ]
    app = Starlette(routes=routes, exception_handlers={404: _http_error, 405: _http_error})
    # Google does not redirect `/x` to `/x/`; a redirect would hide the 404 from clients.
    app.router.redirect_slashes = False
    return app
