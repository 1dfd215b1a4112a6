"""Jobloggen: registered job applications of jobparate kontanthjælp recipients.

Each application starts with `Søgt` (a few directly with `Samtale`), may get an interview,
and ends with `Afslag`, `Fik job` or no further registration.  Registrations that fall after
the month stay pending and appear in the file of their own month.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .identifiers import cpr_text
from .months import month_bounds
from .params import Model
from .people import People
from .simulate import Segments

JOBLOG_COLUMNS = (
    "cpr",
    "kommunekode",
    "soegning_id",
    "registreret_dato",
    "status",
    "stilling",
    "arbejdsgiver",
)
STATUSES = ("Søgt", "Samtale", "Afslag", "Fik job")
SOEGT, SAMTALE, AFSLAG, FIK_JOB = range(4)
_SCHEMA = {
    "cpr": pl.Int64,
    "kommunekode": pl.Int32,
    "app": pl.Int64,
    "day": pl.Int32,
    "status": pl.Int8,
    "stilling": pl.Int32,
    "arbejdsgiver": pl.Int32,
}


class Joblog:
    def __init__(
        self, model: Model, vocabulary: dict, rng: np.random.Generator, mess: bool
    ) -> None:
        self.p = model.joblog
        self.kont_j = model.index("KONT_J")
        self.rng = rng
        self.mess = mess
        titles, employers = vocabulary["job_titles"], vocabulary["employers"]
        if mess:
            titles = titles + vocabulary["messy_job_titles"]
            employers = employers + vocabulary["messy_employers"]
        self.titles = pl.Series(titles, dtype=pl.String)
        self.employers = pl.Series(employers, dtype=pl.String)
        self.n_clean_titles = len(vocabulary["job_titles"])
        self.n_clean_employers = len(vocabulary["employers"])
        self.next_app = 1
        self.pending = pl.DataFrame(schema=_SCHEMA)

    def month(self, month: int, seg: Segments, people: People, codes: np.ndarray) -> pl.DataFrame:
        first, last = month_bounds(month)
        new = self._applications(first, last, seg, people, codes)
        events = pl.concat([self.pending, new])
        due = pl.col("day") <= last
        self.pending = events.filter(~due)
        out = events.filter(due).sort("day", "cpr", "app", "status")
        return self._frame(out)

    def _applications(
        self, first: int, last: int, seg: Segments, people: People, codes: np.ndarray
    ) -> pl.DataFrame:
        rng, p = self.rng, self.p
        rows = seg.state == self.kont_j
        lo = np.maximum(seg.start[rows], first)
        hi = np.where(seg.end[rows] >= 0, np.minimum(seg.end[rows], last), last)
        persons, inv = np.unique(seg.pid[rows], return_inverse=True)
        if len(persons) == 0:
            return pl.DataFrame(schema=_SCHEMA)
        days = np.bincount(inv, weights=hi - lo + 1)
        lo_p = np.full(len(persons), last, dtype=np.int64)
        hi_p = np.full(len(persons), first, dtype=np.int64)
        np.minimum.at(lo_p, inv, lo)
        np.maximum.at(hi_p, inv, hi)
        share = days / (last - first + 1)
        passive = people.passive[persons]
        p_zero = np.where(passive, p["passive_p_zero"], p["active_p_zero"])
        rate = np.where(passive, p["passive_rate"], people.search_rate[persons]) * share
        count = np.maximum(rng.poisson(rate), 1)
        count = np.where(rng.random(len(persons)) < p_zero, 0, count)
        # one row per application
        who = np.repeat(np.arange(len(persons)), count)
        n = len(who)
        app = self.next_app + np.arange(n, dtype=np.int64)
        self.next_app += n
        day = lo_p[who] + np.floor(rng.random(n) * (hi_p[who] - lo_p[who] + 1)).astype(np.int64)
        direct = rng.random(n) < p["p_starts_without_soegt"]
        interview = direct | (rng.random(n) < p["p_interview"])
        i_lo, i_hi = p["interview_days"]
        r_lo, r_hi = p["reply_days"]
        t_interview = np.where(direct, day, day + rng.integers(i_lo, i_hi + 1, n))
        u = rng.random(n)
        after_interview = np.where(
            u < p["p_job_after_interview"],
            FIK_JOB,
            np.where(u < p["p_job_after_interview"] + p["p_refusal_after_interview"], AFSLAG, -1),
        )
        t_after = t_interview + rng.integers(2, 15, n)
        refusal = rng.random(n) < p["p_refusal_without_interview"]
        t_refusal = day + rng.integers(r_lo, r_hi + 1, n)
        stilling = self._pick(len(self.titles), self.n_clean_titles, n, 0.04)
        arbejdsgiver = self._pick(len(self.employers), self.n_clean_employers, n, 0.08)
        pid = persons[who]
        parts = [
            (~direct, day, SOEGT),
            (interview, t_interview, SAMTALE),
            (interview & (after_interview >= 0), t_after, after_interview),
            (~interview & refusal, t_refusal, AFSLAG),
        ]
        frames = []
        for mask, when, status in parts:
            frames.append(
                pl.DataFrame(
                    {
                        "cpr": people.cpr[pid][mask],
                        "kommunekode": codes[people.muni[pid]][mask].astype(np.int32),
                        "app": app[mask],
                        "day": when[mask].astype(np.int32),
                        "status": np.broadcast_to(status, n)[mask].astype(np.int8),
                        "stilling": stilling[mask],
                        "arbejdsgiver": arbejdsgiver[mask],
                    },
                    schema=_SCHEMA,
                )
            )
        return pl.concat(frames)

    def _pick(self, n_all: int, n_clean: int, n: int, p_missing: float) -> np.ndarray:
        """Indices into a vocabulary (-1 = empty field); messy entries are rare."""
        rng = self.rng
        idx = rng.integers(0, n_clean, n)
        if self.mess and n_all > n_clean:
            messy = rng.random(n) < 0.03
            idx = np.where(messy, rng.integers(n_clean, n_all, n), idx)
        return np.where(rng.random(n) < p_missing, -1, idx).astype(np.int32)

    def _frame(self, events: pl.DataFrame) -> pl.DataFrame:
        def text(col: str, vocab: pl.Series) -> pl.Series:
            idx = events[col]
            values = vocab.gather(idx.clip(lower_bound=0))
            return pl.select(pl.when(idx >= 0).then(values)).to_series().alias(col)

        return pl.DataFrame(
            {
                "cpr": cpr_text(events["cpr"].to_numpy()),
                "kommunekode": events["kommunekode"],
                "soegning_id": "JL" + events["app"].cast(pl.String).str.zfill(9),
                "registreret_dato": events["day"].cast(pl.Date),
                "status": pl.Series(STATUSES, dtype=pl.String).gather(events["status"]),
                "stilling": text("stilling", self.titles),
                "arbejdsgiver": text("arbejdsgiver", self.employers),
            }
        )
