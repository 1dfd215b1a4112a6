"""`lmkpi fetch`: ask Jobindsats (API v3) or Statistics Denmark (Statbank) for a table and
drop the answer in the landing folder as a dated vintage.

- Jobindsats: ``GET <base>/data/<table_id>?<selection>&period.<type>=<from>:latest&format=json``
  with ``Authorization: Bearer <token>`` (the token is a secret: from a file or the
  environment, never logged, never stored);
- Statbank: ``POST <base>/data`` with the table's variables (public, no key), CSV with codes.

The request comes from the table's spec (``api``). What may go wrong is said in one line
(FetchError) and retried only when it can help: HTTP 429 (after ``Retry-After``, at most
``max_wait_s``), 5xx, a timeout or a body cut off in transit, ``attempts`` times in all, with
backoff. A refused token (401/403) or an unknown table (404) is not retried. The answer is read
as the spec says before anything is written (an HTML error page with status 200 is refused),
then written under a temporary name and renamed: the landing folder never holds half a file.
"""

import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lmkpi.errors import FetchError
from lmkpi.external.read import read_external
from lmkpi.external.specs import TableSpec
from lmkpi.ingest import Delivery, FileRejected
from lmkpi.months import Month
from lmkpi.permissions import private_dir, private_file

log = logging.getLogger(__name__)

DEFAULT_BASE_URLS = {
    "jobindsats": "https://api.jobindsats.dk/v3",
    "statbank": "https://api.statbank.dk/v1",
}
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    fmt: str  # the answer's format: json or csv


def jobindsats_request(spec: TableSpec, base_url: str, token: str, since: Month | None) -> Request:
    api = spec.api
    period_type = api.get("period", "M")
    params = dict(api.get("selection", {}))
    if since is not None:
        start = f"{since.year}M{since.month:02d}" if period_type == "M" else f"{since.year}"
        params[f"period.{period_type}"] = f"{start}:latest"
    else:
        params[f"period.{period_type}"] = "latest:24"
    params["format"] = "json"
    query = urllib.parse.urlencode(params, safe="*:._")
    url = f"{base_url.rstrip('/')}/data/{api.get('table_id', spec.table)}?{query}"
    return Request("GET", url, {"Authorization": f"Bearer {token}"}, None, "json")


def statbank_request(spec: TableSpec, base_url: str, since: Month | None) -> Request:
    variables = []
    for code, values in spec.api.get("variables", {}).items():
        expanded = []
        for value in values:
            low, dash, high = str(value).partition("-")
            if dash and low.isdigit() and high.isdigit():
                expanded += [str(v) for v in range(int(low), int(high) + 1)]
            else:
                expanded.append(str(value))
        if code.lower() == "tid" and since is not None:
            expanded = [f">={since.year}K{(since.month - 1) // 3 + 1}"]
        variables.append({"code": code, "values": expanded})
    body = {
        "table": spec.api.get("table_id", spec.table.upper()),
        "format": "CSV",
        "lang": "da",
        "valuePresentation": "Code",
        "delimiter": "Semicolon",
        "variables": variables,
    }
    return Request(
        "POST",
        f"{base_url.rstrip('/')}/data",
        {"Content-Type": "application/json"},
        json.dumps(body).encode("utf-8"),
        "csv",
    )


def _problem(exc: Exception) -> tuple[str, bool, float | None]:
    """(what went wrong, worth retrying, seconds the server asked to wait)."""
    if isinstance(exc, urllib.error.HTTPError):
        wait = exc.headers.get("Retry-After") if exc.headers else None
        seconds = float(wait) if wait and wait.strip().isdigit() else None
        if exc.code in (401, 403):
            return f"HTTP {exc.code}: the token was refused", False, None
        if exc.code == 404:
            return "HTTP 404: the API does not know the table", False, None
        return f"HTTP {exc.code}", exc.code in RETRY_STATUSES, seconds
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer within the timeout", True, None
    if isinstance(exc, http.client.IncompleteRead):
        return f"the answer was cut off ({len(exc.partial)} bytes arrived)", True, None
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, socket.timeout | TimeoutError):
            return "no answer within the timeout", True, None
        return f"cannot reach the API ({exc.reason})", True, None
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        return f"the connection failed ({type(exc).__name__})", True, None
    raise exc


def send(
    request: Request,
    *,
    attempts: int = 4,
    timeout_s: float = 30.0,
    max_wait_s: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """The answer's body, with bounded retries (module docstring)."""
    problem = "no attempt"
    for attempt in range(1, attempts + 1):
        http_request = urllib.request.Request(
            request.url, data=request.body, headers=request.headers, method=request.method
        )
        try:
            with urllib.request.urlopen(http_request, timeout=timeout_s) as response:  # noqa: S310
                return response.read()
        except Exception as exc:  # noqa: BLE001 (sorted by _problem; anything else re-raised)
            problem, retry, wait = _problem(exc)
        if not retry:
            break
        if attempt == attempts:
            break
        delay = wait if wait is not None else 2 ** (attempt - 1)
        if delay > max_wait_s:
            problem += f" and asked to wait {delay:.0f} s (more than {max_wait_s:.0f})"
            break
        log.warning("%s (attempt %d of %d); trying again in %.0f s", problem, attempt,
                    attempts, delay)  # fmt: skip
        sleep(delay)
    host = urllib.parse.urlsplit(request.url).netloc
    raise FetchError(f"{host}: {problem}; nothing was written. {_advice(problem)}")


def _advice(problem: str) -> str:
    if "token" in problem:
        return "Check the token (--token-file, or LMKPI_JOBINDSATS_TOKEN_FILE)"
    if "404" in problem:
        return "Check the table's api.table_id in its spec (lmkpi/external/specs)"
    return "Try again later (lmkpi fetch); the landing folder is unchanged"


def save_answer(spec: TableSpec, body: bytes, fmt: str, landing_dir: Path, today: date) -> Delivery:
    """Check that the answer reads as ``spec`` says, then write it as today's vintage."""
    name = f"{spec.table}_{today.isoformat()}.{fmt}"
    try:
        read_external(spec, body, name, fmt, today)
    except FileRejected as exc:
        raise FetchError(f"the answer cannot be used ({exc.rule}): {exc.message}; nothing was "
                         "written") from None  # fmt: skip
    folder = private_dir(landing_dir / spec.source)
    target = folder / name
    partial = folder / f".{name}.partial"
    partial.write_bytes(body)
    private_file(partial).replace(target)
    return Delivery.at(target, spec.source)
