"""Table specifications of the external sources, as data (``lmkpi/external/specs/<source>/``).

A spec says which column of a Jobindsats or Statbank table holds the area, the period, each
dimension and each measure, and how the table's labels map to the project's codes (the
benefit groups of ``dim_benefit``). Following a renamed label or adding a table is a change
of one YAML file: nothing in code names a table or a label. Specs are validated when read; a
bad one is a ConfigurationError naming the file and the key.

    table: ptva02                  # the id in file names: <table>_<YYYY-MM-DD>.<csv|json>
    source: jobindsats             # jobindsats | statbank
    kind: benefits                 # benefits | benchmark | joblog | population
    area: Område                   # the column holding the area (names, or codes)
    area_codes: false              # true: areas are codes (Statbank: 173, 000, 084)
    period: Periode                # 2019M03, 2019Q04, 2019K4, 2019Y01, 2019QMAT04
    dimensions:                    # optional: column -> project dimension, label -> code
      - {column: Ydelsesgrupper, as: benefit_group, labels: {"A-dagpenge mv.": ...}}
    fixed: {benefit_group: ...}    # optional: a dimension the table is about as a whole
    keep: {KØN: [TOT]}             # optional: rows kept by a column's values
    sum_over: {column: ALDER, from: 16, to: 66}   # optional: values summed over a range
    measures:                      # column -> measure (minimum 0 unless said otherwise)
      - {column: "Offentligt forsørgede: Antal personer", as: persons}
    api: {...}                     # how lmkpi fetch asks the API for the table
"""

import csv
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from lmkpi.errors import ConfigurationError
from lmkpi.settings import SEEDS_DIR

SPECS_DIR = Path(__file__).parent / "specs"
EXTERNAL_SOURCES = ("jobindsats", "statbank")
KINDS = ("benefits", "benchmark", "joblog", "population")
DIMENSIONS = ("benefit_group",)
TOTAL = "total"


@dataclass(frozen=True)
class Dimension:
    column: str
    name: str
    labels: dict[str, str]


@dataclass(frozen=True)
class Measure:
    column: str
    name: str
    minimum: float | None = 0.0
    maximum: float | None = None


@dataclass(frozen=True)
class TableSpec:
    table: str
    source: str
    kind: str
    title: str
    area: str
    period: str
    measures: tuple[Measure, ...]
    dimensions: tuple[Dimension, ...] = ()
    fixed: dict[str, str] = field(default_factory=dict)
    keep: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sum_over: tuple[str, int, int] | None = None
    area_codes: bool = False
    api: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def label_columns(self) -> list[str]:
        """The columns a delivered file must have."""
        columns = [self.area, self.period, *(d.column for d in self.dimensions)]
        columns += list(self.keep) + ([self.sum_over[0]] if self.sum_over else [])
        return columns + [m.column for m in self.measures]


def benefit_groups() -> set[str]:
    with (SEEDS_DIR / "benefit_catalogue.csv").open(encoding="utf-8", newline="") as f:
        return {r["benefit_group"] for r in csv.DictReader(f)} | {TOTAL}


def _fail(path: Path, message: str) -> ConfigurationError:
    return ConfigurationError(f"table spec {path.name}: {message}")


def _require(data: dict, key: str, path: Path):
    if not data.get(key) and data.get(key) != 0:
        raise _fail(path, f"'{key}' is missing")
    return data[key]


def parse_spec(data: dict, path: Path) -> TableSpec:
    """A TableSpec from a spec's YAML content, or ConfigurationError naming file and key."""
    if not isinstance(data, dict):
        raise _fail(path, "is not a mapping of keys")
    table = str(_require(data, "table", path))
    if table != path.stem or table != table.lower():
        raise _fail(path, f"table '{table}' must be lower-case and equal the file name")
    source = _require(data, "source", path)
    if source not in EXTERNAL_SOURCES or path.parent.name != source:
        raise _fail(path, f"source '{source}' must be one of {EXTERNAL_SOURCES} (its folder)")
    kind = _require(data, "kind", path)
    if kind not in KINDS:
        raise _fail(path, f"kind '{kind}' must be one of {', '.join(KINDS)}")
    groups = benefit_groups()
    dimensions = []
    for i, d in enumerate(data.get("dimensions") or []):
        if d.get("as") not in DIMENSIONS:
            raise _fail(path, f"dimensions[{i}].as must be one of {', '.join(DIMENSIONS)}")
        labels = {str(k): str(v) for k, v in (d.get("labels") or {}).items()}
        if not labels:
            raise _fail(path, f"dimensions[{i}] ({d.get('column')}) has no labels")
        unknown = sorted(set(labels.values()) - groups)
        if unknown:
            raise _fail(path, f"dimensions[{i}] maps to unknown benefit groups {unknown}")
        dimensions.append(Dimension(str(_require(d, "column", path)), d["as"], labels))
    fixed = {str(k): str(v) for k, v in (data.get("fixed") or {}).items()}
    if set(fixed) - set(DIMENSIONS) or set(fixed.values()) - groups:
        raise _fail(path, f"fixed must map {DIMENSIONS} to known codes, got {fixed}")
    measures = []
    for m in _require(data, "measures", path):
        measures.append(
            Measure(
                str(_require(m, "column", path)),
                str(_require(m, "as", path)),
                m.get("minimum", 0.0),
                m.get("maximum"),
            )
        )
    names = [m.name for m in measures]
    if len(set(names)) != len(names):
        raise _fail(path, f"measure names repeat: {names}")
    sum_over = data.get("sum_over")
    if sum_over:
        sum_over = (str(sum_over["column"]), int(sum_over["from"]), int(sum_over["to"]))
    return TableSpec(
        table=table,
        source=source,
        kind=kind,
        title=str(data.get("title") or table),
        area=str(_require(data, "area", path)),
        period=str(_require(data, "period", path)),
        measures=tuple(measures),
        dimensions=tuple(dimensions),
        fixed=fixed,
        keep={str(k): tuple(str(v) for v in vs) for k, vs in (data.get("keep") or {}).items()},
        sum_over=sum_over,
        area_codes=bool(data.get("area_codes", False)),
        api=dict(data.get("api") or {}),
        path=path,
    )


def load_spec(path: Path) -> TableSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise _fail(path, f"is not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_spec(data, path)


@cache
def specs(directory: Path = SPECS_DIR) -> dict[tuple[str, str], TableSpec]:
    """Every table spec, by (source, table)."""
    found = {}
    for path in sorted(directory.glob("*/*.yaml")):
        spec = load_spec(path)
        found[(spec.source, spec.table)] = spec
    return found


def spec_for(source: str, table: str) -> TableSpec | None:
    return specs().get((source, table))
