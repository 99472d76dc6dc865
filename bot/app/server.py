"""The bot process: settings → clients → store → Bolt → HTTP or Socket Mode, and the watcher.

`main` is what `tuning-bot` runs; `build_http_app` is the ASGI app that tests and benchmarks
serve on a loopback port.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.app.wiring import (
    build_charts,
    build_homes,
    build_publisher,
    build_watcher,
    google_http,
    open_store,
    register_secrets,
    tuning_client,
)
from bot.config import ConfigError, Settings, load_settings
from bot.datasets.sources import DatasetOpener
from bot.handlers.charts import ChartHandlers
from bot.handlers.datasets import PreflightCheck
from bot.handlers.jobs import CreateLookups, JobHandlers
from bot.handlers.subscriptions import SubscriptionHandlers
from bot.handlers.trying import TryHandlers
from bot.logs import configure_logging
from bot.metrics import REGISTRY
from bot.slack.app import build_bolt_app, slack_web_client
from bot.slack.http import SlackEndpoint
from bot.slack.locale import LocaleCache
from bot.slack.surface import Surface
from bot.tuning.advanced import AdvancedSettings
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import TuningJob
from bot.tuning.refs import Location
from bot.tuning.spec import TuningJobSpec
from bot.vertex.auth import GoogleAuth
from bot.vertex.client import TuningClient
from bot.vertex.submit import SubmitResult, find_submitted, submit_job
from bot.watch.service import Watcher
from bot.watch.store import SqlWatchStore
from bot.watch.subscription_store import SqlSubscriptionStore

if TYPE_CHECKING:
    from bot.emulator import Emulator

log = logging.getLogger(__name__)

READY_CACHE_SECONDS = 15.0


@dataclass
class Runtime:
    """Everything one bot process holds open."""

    settings: Settings
    http: httpx.AsyncClient
    slack: AsyncWebClient
    tuning: TuningClient
    store: SqlWatchStore
    surface: Surface
    bolt: AsyncApp
    watcher: Watcher
    emulator: Emulator | None = None  # the built-in one, with `--with-emulator`

    async def aclose(self) -> None:
        """Stop the watcher, let work in progress finish, then close clients and the database."""
        await self.watcher.stop()
        await self.surface.drain()
        if self.surface.homes is not None:
            await self.surface.homes.settle()
        await self.tuning.aclose()
        await self.http.aclose()
        if self.emulator is not None:
            self.emulator.stop()
        await asyncio.to_thread(self.store.close)


async def build_runtime(settings: Settings, *, http: httpx.AsyncClient | None = None) -> Runtime:
    """Open the store and clients and build the Bolt app, inside the running event loop."""
    register_secrets(settings)
    built_in: Emulator | None = None
    if http is None:
        shared_http, built_in = google_http(settings, httpx.Timeout(30.0, connect=10.0))
    else:
        shared_http = http
    tuning = tuning_client(settings, shared_http)
    store = await open_store(settings)
    slack = slack_web_client(settings.slack_bot_token, settings.slack_api_url)

    lookups = CreateLookups()

    async def submit(location: Location, spec: TuningJobSpec, key: str) -> SubmitResult:
        return await submit_job(tuning, location, spec, key, lookup_delays=lookups.quick)

    async def find(location: Location, key: str) -> TuningJob | None:
        return await find_submitted(tuning, location, key)

    publisher = build_publisher(settings)
    storage_auth = None if settings.storage_emulator_host else GoogleAuth()
    opener = DatasetOpener(shared_http, storage_auth, settings.storage_emulator_host)
    handlers = JobHandlers(
        client=tuning,
        submit=submit,
        find_submitted=find,
        lookups=lookups,
        projects=settings.project_scope,
        store=store,
        location=settings.default_location,
        policy=settings.access_policy,
        catalogue=default_catalogue(),
        allowed_buckets=settings.allowed_buckets,
        publisher=publisher,
        check=PreflightCheck(opener, default_catalogue()),
        advanced_defaults=AdvancedSettings(
            service_account=settings.tuning_service_account,
            kms_key_name=settings.tuning_kms_key,
        ),
    )
    locales = LocaleCache(slack)
    homes = build_homes(settings, store, tuning, publisher, locales)
    trying = TryHandlers(handlers, tuning)
    charts = build_charts(settings, tuning)
    surface = Surface(
        handlers=handlers,
        locales=locales,
        homes=homes,
        trying=trying,
        charts=charts,
        chart_reads=ChartHandlers(handlers, tuning),
        subscriptions=SubscriptionHandlers(handlers, SqlSubscriptionStore(store)),
    )
    bolt = build_bolt_app(slack, surface)
    watcher = build_watcher(settings, store, tuning, publisher, homes=homes, charts=charts)
    return Runtime(settings, shared_http, slack, tuning, store, surface, bolt, watcher, built_in)


class _Readiness:
    """`auth.test` answered recently and the store answers now."""

    def __init__(
        self,
        runtime: Callable[[], Runtime],
        slack_connected: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._runtime = runtime
        self._slack_connected = slack_connected
        self._slack_ok_at = -READY_CACHE_SECONDS

    async def healthz(self, request: Request) -> Response:
        """200 when the store is reachable."""
        store = self._runtime().store
        if not await store.ping():
            return PlainTextResponse("store unreachable", status_code=503)
        if store.writes_failing:
            # Reads work but nothing can be saved: watches and cards would silently go stale.
            return PlainTextResponse("store not writable", status_code=503)
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        """200 when the store and Slack (`auth.test`) both answer, else 503."""
        runtime = self._runtime()
        if not await runtime.store.ping():
            return PlainTextResponse("store unreachable", status_code=503)
        if runtime.store.writes_failing:
            return PlainTextResponse("store not writable", status_code=503)
        if self._slack_connected is not None and not await self._slack_connected():
            # Socket Mode: a revoked app token retries forever; the bot hears nothing meanwhile.
            return PlainTextResponse("socket mode not connected", status_code=503)
        if time.monotonic() - self._slack_ok_at > READY_CACHE_SECONDS:
            try:
                await runtime.slack.auth_test()
            except (TimeoutError, SlackApiError, OSError) as exc:
                log.warning("readiness: auth.test failed", extra={"error": type(exc).__name__})
                return PlainTextResponse("slack unreachable", status_code=503)
            self._slack_ok_at = time.monotonic()
        return PlainTextResponse("ready")


async def _metrics(request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def build_http_app(
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    serve_slack: bool = True,
    run_watcher: bool = True,
    on_ready: Callable[[Runtime], None] | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    slack_connected: Callable[[], Awaitable[bool]] | None = None,
) -> Starlette:
    """The ASGI app: `/slack/events` (unless Socket Mode carries Slack), `/healthz`, `/readyz`,
    `/metrics`. Its lifespan builds the runtime inside the server's event loop and runs the
    watcher beside it (`run_watcher=False` serves Slack only)."""
    holder: dict[str, Runtime] = {}
    endpoint: dict[str, SlackEndpoint] = {}

    def runtime() -> Runtime:
        return holder["runtime"]

    async def slack_events(request: Request) -> Response:
        return await endpoint["slack"](request)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        built = await build_runtime(settings, http=http)
        holder["runtime"] = built
        if settings.slack_signing_secret:
            endpoint["slack"] = SlackEndpoint(built.bolt, settings.slack_signing_secret)
        # Objects made at startup live as long as the process: keeping them out of the
        # collector's scans keeps full collections (and so ack latency spikes) short.
        gc.freeze()
        if run_watcher:
            built.watcher.start()
        if on_ready is not None:
            on_ready(built)
        try:
            yield
        finally:
            if on_stop is not None:
                # Stop taking Slack deliveries before the clients they would need are closed.
                await on_stop()
            await built.aclose()

    ready = _Readiness(runtime, slack_connected)
    routes: list[Route] = []
    if serve_slack:
        if not settings.slack_signing_secret:
            raise ConfigError("SLACK_SIGNING_SECRET", "HTTP mode needs the app's Signing Secret")
        # First: Starlette tries routes in order, and Slack's deliveries wait on their ack.
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))
    routes += [
        Route("/healthz", ready.healthz, methods=["GET"]),
        Route("/readyz", ready.readyz, methods=["GET"]),
        Route("/metrics", _metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def _serve(settings: Settings) -> None:
    import uvicorn

    socket_handler: Any = None
    connecting: list[asyncio.Task[None]] = []  # a reference, so the task is not collected

    def start_socket_mode(runtime: Runtime) -> None:
        nonlocal socket_handler
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        socket_handler = AsyncSocketModeHandler(runtime.bolt, settings.slack_app_token)
        connecting.append(asyncio.get_running_loop().create_task(socket_handler.connect_async()))

    async def stop_socket_mode() -> None:
        if socket_handler is not None:
            await socket_handler.close_async()

    async def socket_connected() -> bool:
        return socket_handler is not None and bool(await socket_handler.client.is_connected())

    app = build_http_app(
        settings,
        serve_slack=not settings.socket_mode,
        on_ready=start_socket_mode if settings.socket_mode else None,
        on_stop=stop_socket_mode if settings.socket_mode else None,
        slack_connected=socket_connected if settings.socket_mode else None,
    )
    config = uvicorn.Config(
        app,
        host="0.0.0.0",  # noqa: S104 - a container publishes the port it chooses
        port=settings.port,
        log_config=None,
        access_log=False,
    )
    await uvicorn.Server(config).serve()


def main(argv: list[str], environ: Mapping[str, str] | None = None) -> int:
    """Run the bot until interrupted: HTTP mode, or Socket Mode when SLACK_APP_TOKEN is set
    (then the HTTP port still serves health and metrics). `--with-emulator` (or
    TUNING_WITH_EMULATOR=1) runs the Vertex emulator inside the process instead of Google."""
    with_emulator = argv == ["--with-emulator"]
    if argv and not with_emulator:
        print(f"tuning-bot: unexpected arguments {' '.join(argv)!r}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(environ, with_emulator=with_emulator)
    except ConfigError as exc:
        print(f"tuning-bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    mode = "socket" if settings.socket_mode else "http"
    log.info("starting", extra={"mode": mode, "port": settings.port})
    if settings.with_emulator:
        log.warning(
            "the built-in Vertex AI emulator answers instead of Google: jobs are emulated",
            extra={"project": settings.google_cloud_project},
        )
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for the default
    # action; by then everything is closed, so the process should just end with status 0.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: None)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings))
    log.info("stopped", extra={"mode": mode})
    return 0
