"""`lmkpi fetch` against a local HTTP server on 127.0.0.1 that replays recorded answers
(issue 15): success, 401, 429 with Retry-After, 500, a timeout and a body cut off."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lmkpi.errors import FetchError
from lmkpi.external.fetch import jobindsats_request, send, statbank_request
from lmkpi.external.specs import spec_for
from lmkpi.months import Month

LMKPI = str(Path(sys.executable).with_name("lmkpi"))
TOKEN = "t0ken-not-secret-but-never-logged"
PTVA02 = {
    "columns": [
        "Område",
        "Periode",
        "Ydelsesgrupper",
        "Offentligt forsørgede: Antal personer",
        "Offentligt forsørgede: Antal fuldtidspersoner",
    ],
    "rows": [
        ["Lyngby-Taarbæk", "2019M03", "A-dagpenge mv.", 712, 598.4],
        ["Hele landet", "2019M03", "A-dagpenge mv.", "101.402", "82.211,7"],
        ["RAR Hovedstaden", "2019M03", "Kontanthjælp mv.", "..", ".."],
    ],
}
FOLK1A = "OMRÅDE;KØN;ALDER;TID;INDHOLD\n" + "".join(
    f"173;TOT;{age};2019K1;1000\n" for age in range(16, 67)
)


class Replay(BaseHTTPRequestHandler):
    """Answers from `self.server.script` in order: (status, headers, body, delay, cut)."""

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(self.rfile.read(length) if length else b"")
        status, headers, body, delay, cut = self.server.script.pop(0)
        time.sleep(delay)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    httpd.script, httpd.seen, httpd.bodies = [], [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()


def ok(body, delay=0.0, cut=False):
    data = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
    return (200, {}, data, delay, cut)


def url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/v3"


def test_a_good_answer_is_written_as_todays_vintage_and_the_token_is_never_shown(
    lmkpi_home, server, tmp_path
):
    from lmkpi.settings import get_settings

    server.script = [ok(PTVA02)]
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    result = subprocess.run(
        [LMKPI, "fetch", "jobindsats", "--table", "ptva02", "--from", "2018-01"]
        + ["--token-file", str(token_file), "--base-url", url(server), "--no-load"],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stderr
    method, path, headers = server.seen[0]
    assert method == "GET" and path.startswith("/v3/data/ptv_a02?")
    assert "period.M=2018M01:latest" in path and "format=json" in path
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in result.stdout + result.stderr
    files = list((get_settings().landing_dir / "jobindsats").iterdir())
    assert [f.name for f in files] == [f"ptva02_{time.strftime('%Y-%m-%d')}.json"]
    assert json.loads(files[0].read_text()) == PTVA02


def test_statbank_is_asked_by_post_with_the_specs_variables(server):
    server.script = [ok(FOLK1A)]
    spec = spec_for("statbank", "folk1a")
    body = send(statbank_request(spec, url(server), Month(2019, 1)), attempts=1)
    assert body.decode().startswith("OMRÅDE;")
    asked = json.loads(server.bodies[0])
    assert asked["table"] == "FOLK1A" and asked["valuePresentation"] == "Code"
    ages = next(v["values"] for v in asked["variables"] if v["code"] == "ALDER")
    assert ages[0] == "16" and ages[-1] == "66" and len(ages) == 51
    assert {"code": "Tid", "values": [">=2019K1"]} in asked["variables"]


@pytest.mark.parametrize(
    ("script", "outcome", "waits"),
    [
        ([(429, {"Retry-After": "2"}, b"", 0, False), ok(PTVA02)], "ok", [2.0]),
        ([(500, {}, b"oops", 0, False), (503, {}, b"", 0, False), ok(PTVA02)], "ok", [1, 2]),
        ([ok(PTVA02, cut=True), ok(PTVA02)], "ok", [1]),
        ([ok(PTVA02, delay=1.5), ok(PTVA02)], "ok", [1]),
        ([(401, {}, b"no", 0, False)], "HTTP 401: the token was refused", []),
        ([(500, {}, b"", 0, False)] * 3, "HTTP 500; nothing was written", [1, 2]),
        ([(429, {"Retry-After": "3600"}, b"", 0, False)], "asked to wait 3600 s", []),
    ],
    ids=["429-retry-after", "500-then-ok", "cut-body", "timeout", "401", "500-thrice", "429-long"],
)
def test_answers_are_retried_only_when_it_can_help(server, script, outcome, waits):
    server.script = list(script)
    waited: list[float] = []
    request = jobindsats_request(spec_for("jobindsats", "ptva02"), url(server), TOKEN, None)
    run = lambda: send(request, attempts=3, timeout_s=1.0, sleep=waited.append)  # noqa: E731
    if outcome == "ok":
        assert json.loads(run()) == PTVA02
    else:
        with pytest.raises(FetchError) as info:
            run()
        assert outcome in str(info.value) and TOKEN not in str(info.value)
    assert waited == waits
    assert len(server.seen) == len(script) - len(server.script)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("<!DOCTYPE html><html><body>Log ind</body></html>", "HTML page"),
        ('{"columns": ["Område"], "rows": [[', "not valid JSON"),
        (json.dumps({**PTVA02, "rows": [["Atlantis", "2019M03", "A-dagpenge mv.", 1, 1]]}),
         "unknown_area"),
    ],
)  # fmt: skip
def test_an_unusable_answer_writes_nothing(lmkpi_home, server, body, words, tmp_path):
    from lmkpi.settings import get_settings

    server.script = [(200, {}, body.encode(), 0, False)]
    env = os.environ | {"LMKPI_JOBINDSATS_TOKEN": TOKEN}
    result = subprocess.run(
        [LMKPI, "fetch", "jobindsats", "--table", "ptva02", "--base-url", url(server)]
        + ["--no-load", "--attempts", "1"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and words in errors[0] and "nothing was written" in errors[0]
    assert "Traceback" not in result.stderr
    landing = get_settings().landing_dir / "jobindsats"
    assert not landing.exists() or not list(landing.iterdir())
