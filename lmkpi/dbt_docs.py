"""dbt docs for analysts, generated offline next to the published warehouse.

`build_docs` runs `dbt docs generate --static` against a private copy of the published
warehouse (never the pipeline's working database, so it needs no lock and cannot disturb a
load) and writes one self-contained HTML file, `$LMKPI_HOME/warehouse/docs/index.html`: the
lineage, every model's and column's description, the tests, and the catalogue (types, row
counts) of the published marts. The page makes no network requests (tested). `lmkpi docs`
builds it; `lmkpi docs --serve` also serves the folder on 127.0.0.1.
"""

import functools
import http.server
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lmkpi.orchestration import ensure_dbt_manifest
from lmkpi.permissions import share, shared_dir
from lmkpi.settings import DBT_PROJECT_DIR

log = logging.getLogger(__name__)

# Anything the browser would fetch from elsewhere: <script src=http..>, <link href=http..>,
# CSS url(http..) and @import. Plain links in text (<a href>) are not fetched.
EXTERNAL_FETCH = re.compile(
    r"""(?:<(?:script|img|iframe)\b[^>]*\bsrc|<link\b[^>]*\bhref)\s*=\s*["']?(?:https?:)?//"""
    r"""|url\(\s*["']?(?:https?:)?//|@import\s+["']?(?:url\()?["']?(?:https?:)?//""",
    re.IGNORECASE,
)


# dbt's docs page loads a Snowplow tracker from a CDN when the manifest says
# send_anonymous_usage_stats: true. lmkpi's project says false (dbt_project.yml flags); the
# call is also cut out of the page, so no setting can switch it back on.
TRACKING_CALL = "!0===e.track&&r.turn_on_tracking()"


def disable_tracking(html: str) -> str:
    if '"send_anonymous_usage_stats": true' in html:
        raise RuntimeError("the dbt manifest has usage statistics on; lmkpi keeps them off")
    return html.replace(TRACKING_CALL, "void 0")


def build_docs(warehouse_db: Path, out_dir: Path, group: str | None = None) -> Path:
    """Write ``out_dir/index.html`` (dbt's static docs of the published warehouse)."""
    if not warehouse_db.exists():
        raise FileNotFoundError(f"nothing published yet: {warehouse_db} does not exist")
    dbt = Path(sys.executable).with_name("dbt")
    with tempfile.TemporaryDirectory(prefix="lmkpi-docs-") as tmp:
        # Same file name, so the DuckDB catalogue is "lmkpi" as in the manifest.
        copy = Path(tmp) / warehouse_db.name
        shutil.copyfile(warehouse_db, copy)
        target = Path(tmp) / "target"
        target.mkdir()
        # The parsed project (lmkpi prepare): with it dbt neither re-parses nor compiles.
        manifest = ensure_dbt_manifest()
        for name in ("manifest.json", "partial_parse.msgpack"):
            if (manifest.parent / name).exists():
                shutil.copyfile(manifest.parent / name, target / name)
        result = subprocess.run(
            [str(dbt), "docs", "generate", "--static", "--no-compile", "--quiet"]
            + ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
            + ["--target-path", str(target), "--log-path", str(target)],
            cwd=DBT_PROJECT_DIR,
            env=os.environ
            | {"LMKPI_WORK_DB": str(copy), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
            capture_output=True,
            text=True,
        )
        page = target / "static_index.html"
        if result.returncode != 0 or not page.exists():
            raise RuntimeError(
                f"dbt docs generate failed:\n{(result.stdout + result.stderr)[-3000:]}"
            )
        html = disable_tracking(page.read_text(encoding="utf-8"))
        if EXTERNAL_FETCH.search(html):
            raise RuntimeError("dbt's docs page would fetch something from the internet")
        shared_dir(out_dir, group)
        tmp_out = out_dir / ".index.html.tmp"
        tmp_out.write_text(html, encoding="utf-8")
        share(tmp_out, group)
        os.replace(tmp_out, out_dir / "index.html")
    log.debug("wrote dbt docs to %s (%.1f MB)", out_dir / "index.html", len(html) / 1e6)
    return out_dir / "index.html"


def serve_docs(folder: Path, port: int) -> None:
    """Serve the docs folder on 127.0.0.1 until interrupted."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        log.info("dbt docs on http://127.0.0.1:%d/ (Ctrl-C to stop)", port)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
