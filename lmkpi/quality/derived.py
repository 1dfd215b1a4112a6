"""Derived rule columns: rules that great-expectations cannot state directly, in polars.

Each derived column is a *violation flag*: True where the row breaks the rule, False for every
other row (also where the rule does not apply, or an input is empty: the reader has already
rejected rows with missing required values). So a flag's `mostly` and unexpected share are
shares of all the month's rows, like `rows_rejected_share`. Every suite checks them with
`expect_column_values_to_be_in_set(value_set=[false])`. Pure functions; a missing input column
gives an all-False flag (the suite's column checks report the missing column).

Domain constants (docs/domain.md §2, docs/contracts.md):
- visitation is required for KONT, UDD and INT and for no other code;
- KONT and INT allow `jobparat` / `aktivitetsparat`; UDD allows `uddannelsesparat`,
  `aabenlyst_uddannelsesparat` and `aktivitetsparat`;
- uddannelseshjælp (UDD, and the two uddannelsesparat categories) is only for persons under
  30, judged on the segment's first day (a segment that began before the 30th birthday is
  not flagged: the source system may take a while to move the person on);
- ADAG_SYG covers the first 14 days of sickness.
"""

import datetime as dt

import polars as pl

from lmkpi.months import Month

VISITATION_BY_BENEFIT: dict[str, tuple[str, ...]] = {
    "KONT": ("jobparat", "aktivitetsparat"),
    "INT": ("jobparat", "aktivitetsparat"),
    "UDD": ("uddannelsesparat", "aabenlyst_uddannelsesparat", "aktivitetsparat"),
}
YOUTH_BENEFITS = ("UDD",)
YOUTH_VISITATIONS = ("uddannelsesparat", "aabenlyst_uddannelsesparat")
YOUTH_MAX_AGE = 29
ADAG_SYG_MAX_DAYS = 14
_OPEN_END = dt.date(9999, 12, 31)

# the contract columns each flag is computed from (what reports show as the rule's column)
FLAG_INPUTS: dict[str, str] = {
    "_outside_month": "startdato,slutdato",
    "_overlaps_same_status": "person_key,ydelse,startdato,slutdato",
    "_visitation_missing": "ydelse,visitation",
    "_visitation_not_expected": "ydelse,visitation",
    "_visitation_wrong_for_benefit": "ydelse,visitation",
    "_youth_category_age_30_plus": "birth_date,ydelse,visitation,startdato",
    "_opholdsdato_missing": "flygtningestatus,opholdsdato",
    "_opholdsdato_without_status": "flygtningestatus,opholdsdato",
    "_delvis_raskmeldt_not_sdp": "ydelse,delvis_raskmeldt",
    "_adag_syg_too_long": "ydelse,startdato,slutdato",
    "_registration_outside_month": "registreret_dato",
    "_duplicate_registration": "person_key,soegning_id,status,registreret_dato",
    "_application_several_persons": "soegning_id,person_key",
    "_duplicate_address": "kommunekode,adresse",
    "_households_exceed_persons": "husstande,indkvarterede",
    "_persons_without_rooms": "vaerelser,indkvarterede",
    "_arrears_inconsistent": "restance_personer,restance_kr",
    "_arrears_persons_exceed_persons": "restance_personer,indkvarterede",
}


def _col(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype=dtype)


def _applies(condition: pl.Expr, violated: pl.Expr) -> pl.Expr:
    """True where `condition` holds and the rule is `violated`, else False (never null)."""
    return (condition & violated).fill_null(False)


def _age_on(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    before_birthday = (day.dt.month() * 100 + day.dt.day()) < (
        birth.dt.month() * 100 + birth.dt.day()
    )
    return day.dt.year() - birth.dt.year() - before_birthday.cast(pl.Int32)


def _overlaps(frame: pl.DataFrame, keys: list[str], start: str, end: str) -> pl.Series:
    """True for rows whose [start, end] (end null = open) overlaps another row with the same
    `keys`; False otherwise (also where a key or the start is missing). In the frame's order."""
    # Sorted by (key hash, keys, start), each key's rows are contiguous and in start order.
    # Window functions over string keys are slow (7 s per 1M rows); instead: a running group
    # number g, and the running maximum of g * SPAN + end over the whole frame, which within
    # a group is the group's running maximum end (g only grows). ~0.5 s per 1M rows.
    span = 4_000_000  # > days from 1970 to 9999-12-31
    work = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("__row"),
        pl.struct(keys).hash().alias("__hash"),
        *[pl.col(k) for k in keys],
        pl.col(start).cast(pl.Int64).alias("__start"),
        pl.col(end).fill_null(_OPEN_END).cast(pl.Int64).alias("__end"),
    )
    usable = pl.all_horizontal(pl.col(k).is_not_null() for k in [*keys, "__start"])
    ordered = work.filter(usable).sort(["__hash", *keys, "__start"])
    same_as_previous = pl.all_horizontal(pl.col(k) == pl.col(k).shift(1) for k in keys)
    ordered = ordered.with_columns(
        __group=(~same_as_previous.fill_null(False)).cast(pl.Int64).cum_sum()
    ).with_columns(
        __running=(pl.col("__group") * span + pl.col("__end")).cum_max().shift(1),
        __same_next=(pl.col("__group") == pl.col("__group").shift(-1)).fill_null(False),
    )
    previous_end = pl.col("__running") - pl.col("__group") * span  # < 0: earlier group
    flagged = ordered.select(
        "__row",
        (
            (previous_end >= 0) & (pl.col("__start") <= previous_end)
            | pl.col("__same_next") & (pl.col("__start").shift(-1) <= pl.col("__end"))
        )
        .fill_null(False)
        .alias("__flag"),
    )
    out = work.select("__row").join(flagged, on="__row", how="left", maintain_order="left")
    return out.get_column("__flag").fill_null(False)


def ydelser(frame: pl.DataFrame, month: Month) -> pl.DataFrame:
    first, last = month.bounds
    ydelse = _col(frame, "ydelse", pl.Utf8())
    visitation = _col(frame, "visitation", pl.Utf8())
    start = _col(frame, "startdato", pl.Date())
    end = _col(frame, "slutdato", pl.Date())
    flygtning = _col(frame, "flygtningestatus", pl.Utf8())
    ophold = _col(frame, "opholdsdato", pl.Date())
    birth = _col(frame, "birth_date", pl.Date())
    delvis = _col(frame, "delvis_raskmeldt", pl.Boolean())

    required = ydelse.is_in(list(VISITATION_BY_BENEFIT))
    allowed = pl.lit(False)
    for code, categories in VISITATION_BY_BENEFIT.items():
        allowed = allowed | ((ydelse == code) & visitation.is_in(list(categories)))
    youth = ydelse.is_in(list(YOUTH_BENEFITS)) | visitation.is_in(list(YOUTH_VISITATIONS))
    length = (end - start).dt.total_days() + 1

    derived = frame.with_columns(
        _outside_month=_applies(
            start.is_not_null(), (start > last) | (end.is_not_null() & (end < first))
        ),
        _visitation_missing=_applies(required, visitation.is_null()),
        _visitation_not_expected=_applies(
            ydelse.is_not_null() & ~required, visitation.is_not_null()
        ),
        _visitation_wrong_for_benefit=_applies(required & visitation.is_not_null(), ~allowed),
        _youth_category_age_30_plus=_applies(
            youth & birth.is_not_null() & start.is_not_null(),
            _age_on(birth, start) > YOUTH_MAX_AGE,
        ),
        _opholdsdato_missing=_applies(flygtning.is_not_null(), ophold.is_null()),
        _opholdsdato_without_status=_applies(flygtning.is_null(), ophold.is_not_null()),
        _delvis_raskmeldt_not_sdp=_applies(delvis.fill_null(False), ydelse != "SDP"),
        _adag_syg_too_long=_applies(
            (ydelse == "ADAG_SYG") & end.is_not_null(), length > ADAG_SYG_MAX_DAYS
        ),
    )
    needed = {"person_key", "ydelse", "startdato", "slutdato"}
    if needed <= set(frame.columns):
        overlap = _overlaps(frame, ["person_key", "ydelse"], "startdato", "slutdato")
    else:
        overlap = pl.Series(values=[False] * frame.height, dtype=pl.Boolean)
    return derived.with_columns(overlap.alias("_overlaps_same_status"))


def joblog(frame: pl.DataFrame, month: Month) -> pl.DataFrame:
    first, last = month.bounds
    day = _col(frame, "registreret_dato", pl.Date())
    person = _col(frame, "person_key", pl.Utf8())
    application = _col(frame, "soegning_id", pl.Utf8())
    status = _col(frame, "status", pl.Utf8())
    event = [person, application, status, day]
    return frame.with_columns(
        _registration_outside_month=_applies(day.is_not_null(), (day < first) | (day > last)),
        # every repeat after the first of the same event, in file order (hashing the four
        # values: a window over them took 1.0 s for a national month, this 0.14 s)
        _duplicate_registration=_applies(
            pl.all_horizontal(e.is_not_null() for e in event),
            ~pl.struct(event).is_first_distinct(),
        ),
        _application_several_persons=_applies(
            application.is_not_null() & person.is_not_null(),
            person.n_unique().over(application) > 1,
        ),
    )


def indkvartering(frame: pl.DataFrame, month: Month) -> pl.DataFrame:
    del month  # housing rows carry no dates
    kommune = _col(frame, "kommunekode", pl.Int16())
    address = _col(frame, "adresse", pl.Utf8()).str.to_lowercase().str.replace_all(r"\s+", " ")
    rooms = _col(frame, "vaerelser", pl.Int64())
    housed = _col(frame, "indkvarterede", pl.Int64())
    households = _col(frame, "husstande", pl.Int64())
    owing = _col(frame, "restance_personer", pl.Int64())
    owed = _col(frame, "restance_kr", pl.Float64())
    return frame.with_columns(
        _duplicate_address=_applies(
            kommune.is_not_null() & address.is_not_null(), pl.len().over(kommune, address) > 1
        ),
        _households_exceed_persons=_applies(
            households.is_not_null() & housed.is_not_null(), households > housed
        ),
        _persons_without_rooms=_applies(
            rooms.is_not_null() & housed.is_not_null(), (rooms == 0) & (housed > 0)
        ),
        _arrears_inconsistent=_applies(
            owing.is_not_null() & owed.is_not_null(), (owing > 0) != (owed > 0)
        ),
        _arrears_persons_exceed_persons=_applies(
            owing.is_not_null() & housed.is_not_null(), owing > housed
        ),
    )


DERIVERS = {"ydelser": ydelser, "joblog": joblog, "indkvartering": indkvartering}


def derive(source: str, frame: pl.DataFrame, month: Month) -> pl.DataFrame:
    """`frame` with the source's violation flags added (columns starting with `_`)."""
    return DERIVERS[source](frame, month)
