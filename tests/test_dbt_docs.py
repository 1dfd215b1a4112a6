"""`lmkpi docs`: dbt's docs of the published warehouse as one offline HTML file."""

import duckdb
import pytest

from lmkpi.dbt_docs import EXTERNAL_FETCH, TRACKING_CALL, build_docs, disable_tracking


def test_docs_are_one_offline_page_with_the_marts(tmp_path, dbt_manifest):
    warehouse = tmp_path / "warehouse" / "lmkpi.duckdb"
    warehouse.parent.mkdir()
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_public_benefits (month date, municipality_code int)")
    page = build_docs(warehouse, warehouse.parent / "docs")
    assert page == warehouse.parent / "docs" / "index.html"
    html = page.read_text(encoding="utf-8")
    # Descriptions from the project's YAML and the table seen in the published file.
    assert "model.lmkpi.fct_public_benefits" in html
    assert "offentlig fors\\u00f8rgelse" in html  # JSON-escaped in the embedded manifest
    assert '"send_anonymous_usage_stats": false' in html
    assert TRACKING_CALL not in html
    assert not EXTERNAL_FETCH.search(html)
    assert not list(page.parent.glob(".*.tmp"))


def test_nothing_published_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing published yet"):
        build_docs(tmp_path / "lmkpi.duckdb", tmp_path / "docs")


@pytest.mark.parametrize(
    "fetch",
    [
        '<script src="https://cdn.example/x.js">',
        "<link rel=stylesheet href='//fonts.example/css'>",
        "body { background: url(https://x.example/a.png) }",
        '@import "https://x.example/a.css";',
    ],
)
def test_external_fetches_are_recognised(fetch):
    assert EXTERNAL_FETCH.search(fetch)
    assert not EXTERNAL_FETCH.search('<a href="https://docs.getdbt.com/">docs</a>')


def test_usage_statistics_on_are_refused():
    with pytest.raises(RuntimeError, match="usage statistics"):
        disable_tracking('{"send_anonymous_usage_stats": true}')


def test_the_docs_open_on_the_marts_and_mark_the_internal_models(dbt_manifest):
    """The front page (models/overview.md) names every mart and what it is for; staging and
    intermediate models are marked internal (meta.audience, grey in the lineage)."""
    import json
    import re

    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    overview = manifest["docs"]["doc.lmkpi.__overview__"]["block_contents"]
    listed = set(re.findall(r"^\| `((?:fct|dim)_\w+)` \|", overview, flags=re.MULTILINE))
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    marts = {n["name"] for n in models if n["fqn"][1] == "marts"}
    assert listed == marts, (marts - listed, listed - marts)
    for node in models:
        audience = node["config"]["meta"].get("audience")
        if node["fqn"][1] in ("staging", "intermediate"):
            assert audience == "internal" and node["config"]["docs"]["node_color"], node["name"]
        else:
            assert audience == "analysts", node["name"]
