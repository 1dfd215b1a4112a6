"""Docs that stand on their own: every link resolves inside the repository."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIP = {".venv", "data", "target", "logs", "dbt_packages", ".git", "bench-data"}
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _files(*suffixes: str) -> list[Path]:
    return [
        p
        for p in REPO.rglob("*")
        if p.suffix in suffixes and not SKIP & set(p.relative_to(REPO).parts) and p.is_file()
    ]


def test_every_markdown_link_resolves_in_the_repository():
    broken = []
    for doc in _files(".md"):
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#")[0]).resolve()
            if not path.exists() or REPO not in path.parents:
                broken.append(f"{doc.relative_to(REPO)}: {target}")
    assert not broken, broken


def test_nothing_points_outside_the_repository():
    """The shared reference material of the team is not part of a clone: carry what is needed."""
    offenders = [
        str(p.relative_to(REPO))
        for p in _files(".md", ".py", ".sql", ".yml", ".yaml", ".json", ".toml", ".j2")
        if "../shared" in p.read_text(encoding="utf-8", errors="replace")
        and p.name != "test_docs.py"
    ]
    assert not offenders, offenders


def test_the_definitions_the_warehouse_cites_are_here():
    for name in ("docs/domain.md", "docs/contracts.md", "docs/external_sources.md"):
        assert (REPO / name).is_file(), name
