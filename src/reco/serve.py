"""``reco serve``: recommendations over HTTP for backends in any language.

A Starlette application on uvicorn (extra ``serve``) around one model file:

* ``GET /recommend?user=U&n=10&exclude=a,b&candidates=c,d&exclude_seen=true``
* ``POST /recommend_for_items`` with ``{"items": [...], "n": 10, "weights": [...],
  "exclude": [...], "candidates": [...], "unknown": "raise" | "skip"}`` (a cart or a session)
* ``GET /similar?item=I&n=10&exclude=...&candidates=...``
* ``GET /health``: the model's class, sizes, file and load time, and the last reload error.

Lists answer as ``{"user": ..., "items": [...], "scores": [...]}`` with the ids the model was
fitted on. Bad input is a 4xx whose JSON ``error`` is the library's own message (404 for an
unknown id, 413 for a body over the limit, 400 otherwise); never a 500.

**Hot swap.** The file is checked at most every ``reload_interval`` seconds; when it changed
(``reco fit`` and ``Estimator.save`` write a temporary file and rename it), the new model is
loaded and validated in a background thread while requests keep using the old one, then
swapped in with one reference assignment. Each request reads the reference once, so no
request fails or mixes two models. A file that fails to load is reported by ``/health`` and
the old model stays. No pickle anywhere: model files are the validated ``.npz`` of ``save``.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import (
    DataValidationError,
    InvalidParameterError,
    NotSupportedError,
    RecoError,
    UnknownIdError,
)

__all__ = ["ModelFile", "create_app", "run"]

MAX_BODY_BYTES = 1 << 20
MAX_LIST = 10_000
MAX_N = 1_000
_UNKNOWN_USERS = ("raise", "popular", "empty")


class ModelFile:
    """A recommender loaded from ``path`` and replaced when the file changes.

    :attr:`model` is always a complete, validated model: the first load raises on a bad file;
    later loads run in a background thread and only replace the model when they succeed.

    Parameters
    ----------
    path : str or Path
        A file written by ``save``.
    reload_interval : float
        Seconds between checks of the file (0: at every access).
    mmap : bool
        Map the arrays instead of copying them.

    Attributes
    ----------
    model : Recommender
        The model being served.
    reload_error : str or None
        Why the last reload failed (the old model stays).

    Raises
    ------
    DataValidationError
        The first load of a bad file.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> from reco.models import Popularity
    >>> Popularity().fit(X).save("model.npz")
    >>> source = ModelFile("model.npz", reload_interval=0.0)
    >>> type(source.model).__name__
    'Popularity'
    """

    def __init__(
        self, path: str | os.PathLike, *, reload_interval: float = 1.0, mmap: bool = False
    ) -> None:
        import functools

        from .base import Recommender

        self.path = Path(path)
        if not (isinstance(reload_interval, (int, float)) and reload_interval >= 0):
            raise InvalidParameterError(
                f"reload_interval must be a number of seconds >= 0; got {reload_interval!r}."
            )
        self.reload_interval = float(reload_interval)
        if not isinstance(mmap, bool):
            raise InvalidParameterError(f"mmap must be True or False; got {mmap!r}.")
        self._loader = functools.partial(Recommender.load, mmap=mmap)
        stamp = self._stamp()
        self._state = (self._loader(self.path), stamp, time.time())
        self._seen = stamp  # the last stamp a load was attempted for
        self._next_check = time.monotonic() + self.reload_interval
        self._lock = threading.Lock()
        self._loading = False
        self.reload_error: str | None = None

    @property
    def model(self) -> Any:
        """The current model (checks the file for a newer one first, at most once per
        ``reload_interval``; a newer one is loaded in the background)."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.reload_interval
            self._check()
        return self._state[0]

    @property
    def loaded_at(self) -> float:
        return self._state[2]

    def _stamp(self) -> tuple[int, int, int]:
        stat = os.stat(self.path)
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _check(self) -> None:
        try:
            stamp = self._stamp()
        except OSError as error:
            self.reload_error = f"cannot read {str(self.path)!r}: {error}"
            return
        with self._lock:
            if stamp == self._seen or self._loading:
                return
            self._seen = stamp
            self._loading = True
        threading.Thread(target=self._reload, args=(stamp,), daemon=True).start()

    def _reload(self, stamp: tuple[int, int, int]) -> None:
        try:
            model = self._loader(self.path)
        except (RecoError, OSError) as error:
            self.reload_error = f"{type(error).__name__}: {error}"
        else:
            self._state = (model, stamp, time.time())  # one assignment: the swap
            self.reload_error = None
        finally:
            with self._lock:
                self._loading = False

    def wait_for_reload(self, timeout: float = 10.0) -> bool:
        """Check the file now and wait until a pending reload finished (for tests, scripts)."""
        self._next_check = 0.0
        _ = self.model
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._loading:
                    return True
            time.sleep(0.005)
        return False


# -- request parsing --------------------------------------------------------------------------


def _id_parser(id_map: Any, what: str):
    """Turn a query-string or JSON value into an id of the model's kind."""
    kind = id_map.array.dtype.kind

    def parse(value: Any) -> Any:
        if kind in "iu":
            if isinstance(value, (bool, float)):
                raise DataValidationError(f"{what} ids of this model are integers; got {value!r}.")
            try:
                return int(value)
            except (TypeError, ValueError):
                raise DataValidationError(
                    f"{what} ids of this model are integers; got {value!r}."
                ) from None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise DataValidationError(f"{what} ids of this model are strings; got {value!r}.")
        return str(value)

    return parse


def _query_list(params: Any, name: str) -> list[str] | None:
    """``name=a,b&name=c`` -> ``["a", "b", "c"]`` (None when absent)."""
    values = params.getlist(name)
    if not values:
        return None
    out = [v for value in values for v in value.split(",") if v != ""]
    _check_length(out, name)
    return out


def _item_lists(params: Any, model: Any) -> dict[str, list | None]:
    """``exclude_items`` and ``candidates`` from the query string, as the model's item ids."""
    item_id = _id_parser(model.item_map_, "item")
    out = {}
    for query, keyword in (("exclude", "exclude_items"), ("candidates", "candidates")):
        values = _query_list(params, query)
        out[keyword] = None if values is None else [item_id(v) for v in values]
    return out


def _check_length(values: list, name: str) -> None:
    if len(values) > MAX_LIST:
        raise InvalidParameterError(
            f"{name} holds {len(values):,} ids; at most {MAX_LIST:,} are accepted per request."
        )


def _n(value: Any) -> int:
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise InvalidParameterError(f"n must be an integer; got {value!r}.") from None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_N:
        raise InvalidParameterError(f"n must be an integer in [1, {MAX_N}]; got {value!r}.")
    return value


def _flag(value: str | None, name: str, default: bool) -> bool:
    if value is None:
        return default
    lowered = value.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidParameterError(f"{name} must be true or false; got {value!r}.")


def _answer(rec: Any) -> dict[str, Any]:
    user = rec.user.item() if isinstance(rec.user, np.generic) else rec.user
    return {"user": user, "items": rec.items.tolist(), "scores": rec.scores.tolist()}


# -- the application ----------------------------------------------------------------------------


def create_app(
    model_file: str | os.PathLike | ModelFile,
    *,
    unknown_users: str = "raise",
    reload_interval: float = 1.0,
    mmap: bool = False,
) -> Any:
    """The Starlette application serving ``model_file`` (see the module docstring).

    ``unknown_users`` is the policy for users the model has not seen: ``"raise"`` (404),
    ``"popular"`` (the most popular items) or ``"empty"``. ``mmap`` maps the model's arrays
    instead of copying them (see :meth:`reco.base.Estimator.load`): worker processes share
    one copy, and a new file must arrive by rename, as ``reco fit`` writes it.

    Parameters
    ----------
    model_file : str, Path or ModelFile
        The model to serve.
    unknown_users : {"raise", "popular", "empty"}
        What unknown users get.
    reload_interval : float
        Seconds between checks of the file.
    mmap : bool
        Map the arrays instead of copying them.

    Returns
    -------
    starlette.applications.Starlette

    Raises
    ------
    NotSupportedError
        The ``serve`` extra is not installed.
    DataValidationError
        The model file is invalid.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> from starlette.testclient import TestClient
    >>> from reco.models import Popularity
    >>> Popularity().fit(X).save("model.npz")
    >>> client = TestClient(create_app("model.npz", unknown_users="popular"))
    >>> answer = client.get("/recommend", params={"user": 999_999, "n": 3}).json()  # unknown
    >>> len(answer["items"])
    3
    >>> client.get("/recommend", params={"user": "x", "n": "ten"}).status_code
    400
    """
    try:
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ImportError:  # pragma: no cover - depends on the extra
        raise NotSupportedError(
            "reco serve needs Starlette and uvicorn: pip install 'reco[serve]'."
        ) from None
    if unknown_users not in _UNKNOWN_USERS:
        raise InvalidParameterError(
            f"unknown_users must be one of {list(_UNKNOWN_USERS)}; got {unknown_users!r}."
        )
    source = (
        model_file
        if isinstance(model_file, ModelFile)
        else ModelFile(model_file, reload_interval=reload_interval, mmap=mmap)
    )

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    def guarded(handler):
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return JSONResponse(await handler(request, source.model))
            except UnknownIdError as exc:
                return error(404, str(exc.args[0]) if exc.args else str(exc))
            except _PayloadTooLarge as exc:
                return error(413, str(exc))
            except RecoError as exc:  # the library's own validation: the caller's input
                return error(400, str(exc))

        return endpoint

    async def recommend(request: Request, model: Any) -> dict[str, Any]:
        params = request.query_params
        _only(params, {"user", "n", "exclude", "candidates", "exclude_seen"})
        if "user" not in params:
            raise InvalidParameterError("GET /recommend needs ?user=<id>.")
        rec = model.recommend(
            _id_parser(model.user_map_, "user")(params["user"]),
            _n(params.get("n", "10")),
            exclude_seen=_flag(params.get("exclude_seen"), "exclude_seen", True),
            **_item_lists(params, model),
            unknown=unknown_users,
        )
        return _answer(rec)

    async def similar(request: Request, model: Any) -> dict[str, Any]:
        params = request.query_params
        _only(params, {"item", "n", "exclude", "candidates"})
        if "item" not in params:
            raise InvalidParameterError("GET /similar needs ?item=<id>.")
        item_id = _id_parser(model.item_map_, "item")
        rec = model.similar_items(
            item_id(params["item"]), _n(params.get("n", "10")), **_item_lists(params, model)
        )
        return {"item": item_id(params["item"]), **_answer(rec)}

    async def recommend_for_items(request: Request, model: Any) -> dict[str, Any]:
        body = await _json_body(request)
        allowed = {"items", "n", "weights", "exclude", "candidates", "unknown", "exclude_seen"}
        extra = sorted(set(body) - allowed)
        if extra:
            raise InvalidParameterError(
                f"unexpected field(s) {extra} in the body; expected some of {sorted(allowed)}."
            )
        item_id = _id_parser(model.item_map_, "item")
        lists = {}
        for name in ("items", "weights", "exclude", "candidates"):
            value = body.get(name)
            if value is not None and not isinstance(value, list):
                raise DataValidationError(f"{name} must be a JSON list; got {value!r}.")
            if value is not None:
                _check_length(value, name)
            lists[name] = value
        if lists["items"] is None:
            raise DataValidationError('the body needs "items": a list of item ids.')
        unknown = body.get("unknown", "raise")
        if unknown not in ("raise", "skip"):
            raise InvalidParameterError(f'unknown must be "raise" or "skip"; got {unknown!r}.')
        exclude_seen = body.get("exclude_seen", True)
        if not isinstance(exclude_seen, bool):
            raise InvalidParameterError(
                f"exclude_seen must be true or false; got {exclude_seen!r}."
            )
        rec = model.recommend_for_items(
            [item_id(v) for v in lists["items"]],
            _n(body.get("n", 10)),
            weights=lists["weights"],
            exclude_seen=exclude_seen,
            exclude_items=None
            if lists["exclude"] is None
            else [item_id(v) for v in lists["exclude"]],
            candidates=None
            if lists["candidates"] is None
            else [item_id(v) for v in lists["candidates"]],
            unknown=unknown,
        )
        return _answer(rec)

    async def health(request: Request, model: Any) -> dict[str, Any]:
        return {
            "status": "ok",
            "model": type(model).__name__,
            "file": str(source.path),
            "loaded_at": datetime.datetime.fromtimestamp(
                source.loaded_at, datetime.timezone.utc
            ).isoformat(),
            "n_users": len(model.user_map_),
            "n_items": len(model.item_map_),
            "reload_error": source.reload_error,
        }

    app = Starlette(
        routes=[
            Route("/recommend", guarded(recommend), methods=["GET"]),
            Route("/recommend_for_items", guarded(recommend_for_items), methods=["POST"]),
            Route("/similar", guarded(similar), methods=["GET"]),
            Route("/health", guarded(health), methods=["GET"]),
        ]
    )
    app.state.model_file = source
    return app


class _PayloadTooLarge(RecoError):
    pass


def _only(params: Any, allowed: set[str]) -> None:
    extra = sorted(set(params) - allowed)
    if extra:
        raise InvalidParameterError(
            f"unexpected query parameter(s) {extra}; expected some of {sorted(allowed)}."
        )


async def _json_body(request: Any) -> dict[str, Any]:
    """The request's JSON object, refusing bodies over :data:`MAX_BODY_BYTES` unread."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _PayloadTooLarge(
            f"the body is {int(declared):,} bytes; the limit is {MAX_BODY_BYTES:,}."
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _PayloadTooLarge(f"the body is over the limit of {MAX_BODY_BYTES:,} bytes.")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError(f"the body is not valid JSON: {exc}.") from None
    if not isinstance(body, dict):
        raise DataValidationError(
            f'the body must be a JSON object such as {{"items": [...]}}; got {type(body).__name__}.'
        )
    return body


# -- running ------------------------------------------------------------------------------------

_ENVIRONMENT = "RECO_SERVE_OPTIONS"


def _app_from_environment() -> Any:
    """uvicorn's factory for worker processes: the options travel in the environment."""
    options = json.loads(os.environ[_ENVIRONMENT])
    return create_app(options.pop("model"), **options)


def run(
    model_file: str | os.PathLike,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    unknown_users: str = "raise",
    reload_interval: float = 1.0,
    log_level: str = "warning",
    mmap: bool = False,
) -> None:
    """Serve ``model_file`` until interrupted (uvicorn; ``workers`` processes).

    Parameters
    ----------
    model_file : str or Path
        The model to serve.
    host, port : str and int
        Where to listen.
    workers : int
        Worker processes.
    unknown_users, reload_interval, mmap
        As in :func:`create_app`.
    log_level : str
        uvicorn's log level.

    Returns
    -------
    None
        Returns when the server stops.

    Raises
    ------
    NotSupportedError
        The ``serve`` extra is not installed.
    InvalidParameterError
        A bad port, worker count or option.

    Examples
    --------
    >>> from reco import Interactions
    >>> from reco.datasets import make_shop
    >>> shop = make_shop(300, 40, random_state=0)
    >>> X = Interactions.from_frame(shop.order_lines, user="customer_id", item="product_id")
    >>> import json, socket, subprocess, sys, time, urllib.request
    >>> from reco.models import Popularity
    >>> Popularity().fit(X).save("model.npz")
    >>> with socket.socket() as s:
    ...     _ = s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    >>> server = subprocess.Popen([sys.executable, "-c",
    ...     f"from reco.serve import run; run('model.npz', port={port})"])
    >>> for _ in range(300):
    ...     try:
    ...         with urllib.request.urlopen(f"http://127.0.0.1:{port}/health") as r:
    ...             health = json.load(r); break
    ...     except OSError:
    ...         time.sleep(0.1)
    >>> health["model"]
    'Popularity'
    >>> server.terminate(); server.wait(timeout=30) is not None
    True
    """
    import uvicorn

    options = {"unknown_users": unknown_users, "reload_interval": reload_interval, "mmap": mmap}
    if workers == 1:
        app = create_app(model_file, **options)
        uvicorn.run(app, host=host, port=port, log_level=log_level)
        return
    create_app(model_file, **options)  # validate once, in the parent
    os.environ[_ENVIRONMENT] = json.dumps({"model": str(Path(model_file).resolve()), **options})
    uvicorn.run(
        "reco.serve:_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
