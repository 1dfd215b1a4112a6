"""Turn simulated segments into the ydelser extract's columns (a polars frame, contract order)."""

from __future__ import annotations

import numpy as np
import polars as pl

from .identifiers import cpr_text
from .params import HERKOMST, OFFERS, REFUGEE_STATUS, VISITATIONS, Model
from .people import People
from .simulate import Segments

YDELSER_COLUMNS = (
    "cpr",
    "kommunekode",
    "ydelse",
    "startdato",
    "slutdato",
    "omfang",
    "visitation",
    "tilbud",
    "tilbud_cvr",
    "delvis_raskmeldt",
    "herkomst",
    "flygtningestatus",
    "opholdsdato",
    "ordinaere_timer",
    "samtaler",
)


def _lookup(values: tuple[str, ...], index: np.ndarray) -> pl.Series:
    """Codes by index; the empty code becomes null (an empty field)."""
    table = pl.Series([v or None for v in values], dtype=pl.String)
    return table.gather(pl.Series(index.astype(np.int64)))


def _date(days: np.ndarray) -> pl.Series:
    s = pl.Series(days.astype(np.int32))
    return pl.select(pl.when(s >= 0).then(s).cast(pl.Date)).to_series()


def ydelser_frame(seg: Segments, people: People, model: Model, codes: np.ndarray) -> pl.DataFrame:
    """One row per segment, sorted by municipality, person and start."""
    pid = seg.pid
    status = model.status
    sdp = np.array([s == "SDP" for s in status])[seg.state]
    omfang = np.where(seg.omfang < 0.999, np.round(seg.omfang.astype(np.float64), 2), np.nan)
    hours = np.where(seg.hours > 0, seg.hours.astype(np.float64), np.nan)
    frame = pl.DataFrame(
        {
            "cpr": cpr_text(people.cpr[pid]),
            "kommunekode": pl.Series(codes[people.muni[pid]].astype(np.int32)),
            "ydelse": _lookup(status, seg.state),
            "startdato": _date(seg.start),
            "slutdato": _date(seg.end),
            "omfang": pl.Series(omfang).fill_nan(None),
            "visitation": _lookup(VISITATIONS, model.visitation[seg.state]),
            "tilbud": _lookup(OFFERS, seg.offer),
            "tilbud_cvr": pl.Series(np.where((seg.offer > 0) & (seg.cvr > 0), seg.cvr, -1)),
            "delvis_raskmeldt": pl.Series(np.where(sdp, seg.delvis, -1).astype(np.int8)),
            "herkomst": _lookup(HERKOMST, people.herkomst[pid]),
            "flygtningestatus": _lookup(REFUGEE_STATUS, people.refugee[pid]),
            "opholdsdato": _date(people.opholdsdato[pid]),
            "ordinaere_timer": pl.Series(hours).fill_nan(None),
            "samtaler": pl.Series(seg.samtaler),
        }
    )
    frame = frame.with_columns(
        pl.when(pl.col("tilbud_cvr") >= 0).then(pl.col("tilbud_cvr")).cast(pl.String),
        pl.when(pl.col("delvis_raskmeldt") >= 0).then(pl.col("delvis_raskmeldt")),
    )
    order = np.lexsort((seg.start, people.cpr[pid], codes[people.muni[pid]]))
    return frame[order]
