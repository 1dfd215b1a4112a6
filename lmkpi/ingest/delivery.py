"""``Delivery``: one delivered file, named by its source's naming rule, as a value.

- a person-level extract is ``<landing>/<source>/<source>_<YYYY-MM>.<ext>`` (docs/contracts.md,
  "Common rules"): its month is the reporting month;
- an external aggregate is ``<landing>/<jobindsats|statbank>/<table>_<YYYY-MM-DD>.<csv|json>``
  (docs/external_sources.md): the table is one with a spec, the date the day it was retrieved
  (its vintage), and its month that day's month.

This module holds the one file-name parser of lmkpi: the sensor, the schedule, the CLI (also
for restatements) and the ingest assets all make or take ``Delivery`` values, and nothing
else splits a file name. A name is accepted only in exactly that form, lower-case ASCII, with
an allowed extension, so it is safe in paths, partition keys and SQL parameters; anything
else is ``bad_file_name`` with the name that was expected.
"""

import hashlib
import re
import shutil
import stat
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from lmkpi.contracts import CONTRACTS
from lmkpi.errors import MissingDelivery
from lmkpi.external.specs import EXTERNAL_SOURCES, specs
from lmkpi.ingest.errors import FileRejected, safe_text
from lmkpi.months import MONTH_PATTERN, Month
from lmkpi.permissions import private_dir, private_file

EXTERNAL_EXTENSIONS = ("csv", "json")
ALL_SOURCES = (*CONTRACTS, *EXTERNAL_SOURCES)


def _extensions(source: str) -> tuple[str, ...]:
    if source in CONTRACTS:
        return CONTRACTS[source].extensions
    if source in EXTERNAL_SOURCES:
        return EXTERNAL_EXTENSIONS
    raise FileRejected(
        safe_text(source, quote=False),
        "unknown_source",
        f"unknown source {safe_text(source)}; expected one of {', '.join(ALL_SOURCES)}",
    )


def _pattern(source: str) -> re.Pattern[str]:
    extensions = "|".join(re.escape(e) for e in _extensions(source))
    if source in EXTERNAL_SOURCES:
        stem = rf"(?P<table>[a-z0-9]+)_(?P<key>{MONTH_PATTERN})-(?P<day>[0-3][0-9])"
    else:
        stem = rf"{re.escape(source)}_(?P<key>{MONTH_PATTERN})"
    return re.compile(rf"{stem}\.(?P<format>{extensions})", re.ASCII)


def expected_names(source: str, month: Month | None = None) -> str:
    key = month.key if month else "2019-10"
    if source in EXTERNAL_SOURCES:
        return " or ".join(f"<table>_{key}-15.{e}" for e in EXTERNAL_EXTENSIONS)
    return " or ".join(f"{source}_{key}.{e}" for e in _extensions(source))


def _bad_name(source: str, file_name: object) -> FileRejected:
    form = (
        "<table>_<YYYY-MM-DD>.<ext>" if source in EXTERNAL_SOURCES else "<source>_<YYYY-MM>.<ext>"
    )
    return FileRejected(
        safe_text(file_name, 80, quote=False),
        "bad_file_name",
        f"the file name must be {form}, e.g. {expected_names(source)}; rename the file",
    )


def parse_file_name(source: str, file_name: str) -> tuple[Month, str]:
    """(month, format) of a delivery's name; FileRejected ``bad_file_name`` otherwise (an
    external file's month is the month of its vintage: ``parse_external_name`` has the rest)."""
    match = _pattern(source).fullmatch(file_name) if isinstance(file_name, str) else None
    if match is None:
        raise _bad_name(source, file_name)
    if source in EXTERNAL_SOURCES:
        return Month.of(parse_external_name(source, file_name)[1]), match["format"]
    return Month.parse(match["key"]), match["format"]


def parse_external_name(source: str, file_name: str) -> tuple[str, date]:
    """(table, vintage) of ``<table>_<YYYY-MM-DD>.<ext>``: a table with a spec, a real date."""
    match = _pattern(source).fullmatch(file_name) if isinstance(file_name, str) else None
    if match is None or source not in EXTERNAL_SOURCES:
        raise _bad_name(source, file_name)
    month = Month.parse(match["key"])
    try:
        vintage = date(month.year, month.month, int(match["day"]))
    except ValueError:
        raise _bad_name(source, file_name) from None
    if vintage > date.today():
        raise FileRejected(
            file_name, "bad_file_name", f"the retrieval date {vintage} is in the future"
        )
    known = sorted(t for s, t in specs() if s == source)
    if match["table"] not in known:
        raise FileRejected(
            file_name,
            "unknown_table",
            f"table {match['table']!r} has no spec; known {source} tables: {', '.join(known)} "
            "(a new table is a spec file in lmkpi/external/specs)",
        )
    return match["table"], vintage


@dataclass(frozen=True)
class Delivery:
    """A delivered file: what it is for (source, month), where it is, and what it holds."""

    source: str
    month: Month
    path: Path
    format: str  # the extension: csv, parquet, xlsx, json
    size: int = field(compare=False)
    table: str | None = None  # external sources: the table, e.g. ptva02
    vintage: date | None = None  # external sources: the day the file was retrieved

    @classmethod
    def at(cls, path: Path, source: str | None = None) -> "Delivery":
        """The delivery at ``path`` (source = its folder's name unless given).

        Raises FileRejected for a name outside the rule (``bad_file_name``) or anything but a
        regular file (``not_a_regular_file``: a symlink could point at a key or another
        person-level file; nothing of it is read); OSError when the file is gone.
        """
        path = Path(path)
        source = source or path.parent.name
        month, fmt = parse_file_name(source, path.name)
        table, vintage = (
            parse_external_name(source, path.name) if source in EXTERNAL_SOURCES else (None, None)
        )
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
            raise FileRejected(
                path.name,
                "not_a_regular_file",
                f"the delivery is {kind}; deliver the file itself (nothing of it was read)",
            )
        return cls(source, month, path, fmt, info.st_size, table=table, vintage=vintage)

    @property
    def file_name(self) -> str:
        return self.path.name

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()

    @property
    def signature(self) -> str:
        """Changes when the file is replaced or rewritten (for the landing sensor's cursor)."""
        info = self.path.stat()
        return f"{info.st_mtime_ns}:{info.st_size}"


@dataclass(frozen=True)
class Refused:
    """A file in a source's folder that is not a usable delivery, and why."""

    path: Path
    source: str
    error: FileRejected

    @property
    def month(self) -> Month | None:
        """The month its name is for, when the name follows the rule."""
        try:
            return parse_file_name(self.source, self.path.name)[0]
        except FileRejected:
            return None

    def is_for(self, month: Month) -> bool:
        """Its name is, or looks like a misspelling of, a delivery for ``month``."""
        return self.month == month or month.key in self.path.name.replace("_", "-")


@dataclass(frozen=True)
class LandingScan:
    deliveries: list[Delivery]
    refused: list[Refused]  # misnamed files, symlinks, devices: reported, never read

    @property
    def misnamed(self) -> list[Path]:
        return [r.path for r in self.refused if r.error.rule == "bad_file_name"]


def scan_source(landing_dir: Path, source: str) -> LandingScan:
    """Every file in ``<landing>/<source>/``, sorted by name: deliveries and refused files."""
    _extensions(source)
    folder = landing_dir / source
    deliveries, refused = [], []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or (path.is_dir() and not path.is_symlink()):
                continue  # hidden files (editors, copies in progress) and sub-folders
            try:
                deliveries.append(Delivery.at(path, source))
            except FileRejected as error:
                refused.append(Refused(path, source, error))
    return LandingScan(deliveries, refused)


def scan_landing(landing_dir: Path, sources: tuple[str, ...] = ALL_SOURCES) -> LandingScan:
    scans = [scan_source(landing_dir, s) for s in sources]
    return LandingScan(
        [d for s in scans for d in s.deliveries], [r for s in scans for r in s.refused]
    )


def find_delivery(landing_dir: Path, source: str, month: Month) -> Delivery:
    """The one file delivered for ``source`` and ``month``.

    MissingDelivery if there is none (naming a misnamed file that looks like it, e.g.
    ``ydelser_2019-03.CSV``); FileRejected for a file of the right name that is not a regular
    file, or for two files of one month.
    """
    scan = scan_source(landing_dir, source)
    found = [d for d in scan.deliveries if d.month == month]
    for refused in scan.refused:
        if refused.month == month and not found:
            raise refused.error
    if not found:
        lookalikes = [r.path.name for r in scan.refused if r.is_for(month)]
        hint = (
            f"; {', '.join(safe_text(n, 60) for n in lookalikes)} does not follow the naming "
            "rule (bad_file_name): rename it"
            if lookalikes
            else ""
        )
        raise MissingDelivery(
            f"no {source} delivery for {month}: expected {expected_names(source, month)} "
            f"in {landing_dir / source}{hint}"
        )
    if len(found) > 1:
        raise FileRejected(
            file_name=found[0].file_name,
            rule="ambiguous_delivery",
            message=(
                f"both {' and '.join(d.file_name for d in found)} are in {landing_dir / source}; "
                "keep exactly one file per source and month"
            ),
        )
    return found[0]


def deliver(deliveries: list[Delivery], landing_dir: Path) -> list[Delivery]:
    """Copy ``deliveries`` into ``<landing>/<source>/`` (as a hidden partial file, renamed when
    complete, so the landing sensor never sees half a file); return the copies."""
    copies = []
    for d in deliveries:
        target = landing_dir / d.source / d.file_name
        if target.resolve() != d.path.resolve():
            private_dir(target.parent)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copy2(d.path, partial)
            private_file(partial).replace(target)
        copies.append(Delivery.at(target, d.source))
    return copies
