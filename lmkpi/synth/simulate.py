"""Month-by-month, person-level simulation of the job centre's target groups.

Every person is in one *state* (a ydelse code plus, where required, a visitation) from
`state_start` to `t_state`; three timers per person (state, offer, ordinary hours /
partial sickness) fire on the last day of the current segment, which then closes and a new
one starts the next day.  A month is simulated by firing, in vectorised rounds, every timer
that falls inside it; each fired timer closes a segment (a row of that month's extract), and
the segments still open at the end of the month are the extract's open rows.

The number of persons in each controlled state follows a target level per municipality
(levels.py): at each month end the shortfall is filled with new entrants, who enter on
random days of the month, and where transfers from other states overfill a state, random
members leave it a little earlier (during the next month).  Transitions between states
(a-dagpenge -> sickness -> jobafklaring, ...) come from the states' `next` probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .identifiers import CompanyPool, CprRegistry
from .levels import Levels
from .months import DAYS_PER_MONTH, NEVER, birthday, day_number, month_bounds
from .params import OFFERS, Model, Municipalities
from .people import People

YEAR_DAYS = 365.25


@dataclass
class Segments:
    """The rows of one month's ydelser extract, as arrays (end = -1: still running)."""

    pid: np.ndarray
    state: np.ndarray
    start: np.ndarray
    end: np.ndarray
    offer: np.ndarray
    cvr: np.ndarray
    omfang: np.ndarray
    delvis: np.ndarray
    hours: np.ndarray
    samtaler: np.ndarray

    @classmethod
    def concat(cls, parts: list[Segments]) -> Segments:
        names = cls.__dataclass_fields__
        return cls(**{k: np.concatenate([getattr(p, k) for p in parts]) for k in names})

    def __len__(self) -> int:
        return len(self.pid)


def stochastic_round(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = np.maximum(x, 0.0)
    return np.floor(x + rng.random(x.shape)).astype(np.int64)


def _ceil_days(x: np.ndarray) -> np.ndarray:
    return np.maximum(np.ceil(x), 1).astype(np.int32)


class Simulation:
    def __init__(
        self,
        model: Model,
        municipalities: Municipalities,
        selected: np.ndarray,
        scales: np.ndarray,
        public: np.ndarray,
        rng: np.random.Generator,
        cpr_rng: np.random.Generator,
        no_mod11_share: float = 0.0,
    ) -> None:
        self.m = model
        self.munis = municipalities
        self.selected = selected
        self.codes = municipalities.code[selected]
        self.rng = rng
        self.cpr_rng = cpr_rng
        self.cprs = CprRegistry()
        self.no_mod11_share = no_mod11_share
        self.no_mod11_issued = 0
        self.p = People()
        self.levels = Levels(model, municipalities, selected, scales, public)
        self.refugee_ratio = model.general["refugee_start_ratio"]
        self.companies = CompanyPool(
            self.codes,
            municipalities.population[selected] * np.maximum(scales, 0.05),
            model.general["profile_seed"] + 1,
        )
        self._rows: list[Segments] = []
        # entrants arrive on random days of the month and some leave again before its end;
        # enter more so that the month-end stock still reaches the target
        days = DAYS_PER_MONTH
        surv = (model.dur_weight * model.dur_mean_days / days) * (
            1 - np.exp(-days / model.dur_mean_days)
        )
        self.entry_adjust = 1.0 / np.clip(surv.sum(axis=1), 0.2, 1.0)

    # ---- the simulation -------------------------------------------------------------------

    def start(self, month: int) -> None:
        """Create the stock of persons on the first day of `month`, in steady state."""
        first, _ = month_bounds(month)
        m = self.m
        target = self.levels.at(month)
        counts = stochastic_round(target, self.rng)
        counts[:, ~m.controlled] = 0
        int_level = target[:, [m.index("INT_J"), m.index("INT_A")]].sum(axis=1)
        for name, ratio in self.refugee_ratio.items():
            counts[:, m.index(name)] = stochastic_round(int_level * ratio, self.rng)
        muni = np.repeat(np.arange(len(self.selected)), counts.sum(axis=1))
        state = np.concatenate([np.repeat(np.arange(m.n), row) for row in counts])
        self._create(muni, state, np.full(len(muni), first, dtype=np.int32), stationary=True)

    def step(self, month: int) -> Segments:
        """Simulate one month; returns the rows of its ydelser extract."""
        self.p.keep(self.p.state < self.m.n)
        first, last = month_bounds(month)
        self._rows = []
        self._fire(last)
        self._enter_new(month, first, last)
        self._fire(last)
        open_ = np.flatnonzero((self.p.state < self.m.n) & (self.p.seg_start <= last))
        self._emit(open_, np.full(len(open_), -1, np.int32), np.full(len(open_), last, np.int32))
        return Segments.concat(self._rows)

    def _enter_new(self, month: int, first: int, last: int) -> None:
        m, p = self.m, self.p
        active = p.state < m.n
        k = len(self.selected)
        stock = np.bincount(
            p.muni[active].astype(np.int64) * m.n + p.state[active], minlength=k * m.n
        ).reshape(k, m.n)
        gap = self.levels.at(month + 1) - stock
        gap[:, ~m.controlled] = 0
        counts = stochastic_round(gap * self.entry_adjust[None, :], self.rng)
        muni = np.repeat(np.arange(k), counts.sum(axis=1))
        state = np.concatenate([np.repeat(np.arange(m.n), row) for row in counts])
        day = self.rng.integers(first, last + 1, len(muni)).astype(np.int32)
        self._create(muni, state, day, stationary=False)
        self._hasten_exits(stochastic_round(-gap, self.rng), last)

    def _hasten_exits(self, counts: np.ndarray, last: int) -> None:
        """Where a state holds more persons than its target (transfers in, a falling
        level), let `counts[muni, state]` random persons leave it during the next month."""
        p, m = self.p, self.m
        if counts.sum() == 0:
            return
        group = p.muni.astype(np.int64) * m.n + p.state
        flat = counts.ravel()
        cand = np.flatnonzero((p.state < m.n) & (flat[np.minimum(group, len(flat) - 1)] > 0))
        cand = cand[p.t_state[cand] > last + 31]
        if cand.size == 0:
            return
        order = np.lexsort((self.rng.random(cand.size), group[cand]))
        cand = cand[order]
        g = group[cand]
        first_of_group = np.searchsorted(g, g, side="left")
        rank = np.arange(cand.size) - first_of_group
        chosen = cand[rank < flat[g]]
        p.t_state[chosen] = last + self.rng.integers(1, 31, chosen.size).astype(np.int32)

    def _fire(self, last: int) -> None:
        """Fire every timer up to `last`, in rounds, closing segments as they end."""
        p, m = self.p, self.m
        while True:
            seg_end = np.minimum(np.minimum(p.t_state, p.t_offer), p.t_hours)
            idx = np.flatnonzero(seg_end <= last)
            if idx.size == 0:
                return
            end = seg_end[idx]
            self._emit(idx, end, end)
            change = p.t_state[idx] == end
            a, ea = idx[~change], end[~change]
            if a.size:
                o = p.t_offer[a] == ea
                self._toggle_offer(a[o], ea[o] + 1)
                h = p.t_hours[a] == ea
                self._toggle_hours(a[h], ea[h] + 1)
                p.seg_start[a] = ea + 1
            c, ec = idx[change], end[change]
            if c.size:
                dest = p.dest[c]
                gone = dest >= m.n
                g = c[gone]
                p.state[g] = m.n
                p.t_state[g] = p.t_offer[g] = p.t_hours[g] = NEVER
                self._enter(c[~gone], dest[~gone].astype(np.int16), ec[~gone] + 1)

    def _emit(self, idx: np.ndarray, end: np.ndarray, upto: np.ndarray) -> None:
        p, m = self.p, self.m
        state = p.state[idx]
        start = p.seg_start[idx]
        days = (upto - start + 1).astype(np.float64)
        interval = m.samtale_days[state]
        safe = np.where(interval > 0, interval, 1.0)
        base = p.state_start[idx] - p.samtale_phase[idx] * safe
        samtaler = np.floor((upto - base) / safe) - np.floor((start - 1 - base) / safe)
        samtaler = np.where(interval > 0, np.maximum(samtaler, 0), 0)
        self._rows.append(
            Segments(
                pid=idx,
                state=state,
                start=start,
                end=end.astype(np.int32),
                offer=p.offer[idx],
                cvr=p.cvr[idx],
                omfang=p.omfang[idx],
                delvis=p.delvis[idx],
                hours=np.round(p.hpw[idx] * days / 7, 1),
                samtaler=samtaler.astype(np.int32),
            )
        )

    # ---- creating persons -----------------------------------------------------------------

    def _create(
        self, muni: np.ndarray, state: np.ndarray, day: np.ndarray, stationary: bool
    ) -> None:
        m, p, rng = self.m, self.p, self.rng
        n = len(muni)
        if n == 0:
            return
        idx = p.add(n)
        p.muni[idx] = muni
        comp = (rng.random(n)[:, None] > np.cumsum(m.age_weight[state], axis=1)).sum(axis=1)
        comp = np.minimum(comp, m.age_weight.shape[1] - 1)
        lo = m.age_lo[state, comp]
        hi = m.age_hi[state, comp]
        age = lo + (hi - lo) * rng.random(n)
        p.birth[idx] = (day - age * YEAR_DAYS).astype(np.int32)
        p.herkomst[idx] = (rng.random(n)[:, None] > m.herkomst_cum[state]).sum(axis=1)
        refugee = m.refugee_only[state]
        family = rng.random(n) < m.general["refugee_share_family"]
        p.refugee[idx] = np.where(refugee, np.where(family, 2, 1), 0)
        p.opholdsdato[idx] = np.where(refugee, self._permit(state, day, stationary), -1)
        no_mod11 = rng.random(n) < self.no_mod11_share
        if self.no_mod11_share > 0 and self.no_mod11_issued == 0:
            no_mod11[0] = True
        self.no_mod11_issued += int(no_mod11.sum())
        p.cpr[idx] = self.cprs.issue(self.cpr_rng, p.birth[idx], no_mod11)
        jl = m.joblog
        p.passive[idx] = rng.random(n) < m.general["search_passive_share"]
        p.search_rate[idx] = jl["active_rate_median"] * np.exp(
            jl["active_rate_sigma"] * rng.standard_normal(n)
        )
        p.samtale_phase[idx] = rng.random(n)
        if stationary:
            self._enter_stationary(idx, state.astype(np.int16), day)
        else:
            self._enter(idx, state.astype(np.int16), day)

    def _permit(self, state: np.ndarray, day: np.ndarray, stationary: bool) -> np.ndarray:
        """Residence permit dates for refugees created on `day`."""
        rng, m = self.rng, self.m
        n = len(state)
        is_int = m.visitation[state] > 0  # INT states are the refugee states with visitation
        if not stationary:  # new arrivals on INT; others move in from another municipality
            recent = day - rng.integers(0, 181, n)
        else:
            recent = day - 30 - rng.gamma(2.0, 300.0, n)
        d2004, d2014 = day_number("2004-01-01"), day_number("2014-01-01")
        d1995 = day_number("1995-01-01")
        older = np.where(
            rng.random(n) < 0.3,
            d2004 + rng.random(n) * (d2014 - d2004),
            d2014 + rng.random(n) * np.maximum(day - 120 - d2014, 1),
        )
        pre2004 = d1995 + rng.random(n) * (d2004 - d1995)
        older = np.where(rng.random(n) < m.general["refugee_pre_2004"], pre2004, older)
        return np.where(is_int, np.maximum(recent, day_number("2012-01-01")), older).astype(
            np.int32
        )

    # ---- entering a state -----------------------------------------------------------------

    def _durations(self, state: np.ndarray, stationary: bool) -> tuple[np.ndarray, np.ndarray]:
        """Remaining (and, in steady state, elapsed) days in the state."""
        m, rng = self.m, self.rng
        n = len(state)
        w = m.dur_weight[state]
        if stationary:  # persons present at a given day are length-biased
            w = w * m.dur_mean_days[state]
            w = w / w.sum(axis=1, keepdims=True)
        comp = (rng.random(n)[:, None] > np.cumsum(w, axis=1)).sum(axis=1)
        comp = np.minimum(comp, w.shape[1] - 1)
        mean = m.dur_mean_days[state, comp]
        remaining = _ceil_days(rng.exponential(mean))
        elapsed = np.floor(rng.exponential(mean)).astype(np.int32) if stationary else None
        return remaining, elapsed

    def _schedule(
        self, idx: np.ndarray, state: np.ndarray, start: np.ndarray, remaining: np.ndarray
    ) -> None:
        """Set the last day in the state and the state that follows (with age caps)."""
        m, p, rng = self.m, self.p, self.rng
        n = len(idx)
        end = start + remaining - 1
        dest = (rng.random(n)[:, None] > m.next_cum[state]).sum(axis=1)
        dest = np.minimum(dest, m.n + 1)
        refugee = p.refugee[idx] > 0
        # refugee-only states are not open to others; refugees who leave the target group
        # stay in the extract as employed or self-supporting
        closed = m.refugee_only[np.minimum(dest, m.n - 1)] & (dest < m.n) & ~refugee
        dest = np.where(closed, m.none, dest)
        besk, selv = m.index("BESK"), m.index("SELV")
        to_self = refugee & (dest == m.none)
        dest = np.where(to_self, np.where(rng.random(n) < 0.75, besk, selv), dest)
        # bridge states (a-dagpenge during sickness): fixed length, fixed next state
        bridge = m.bridge_days[state] > 0
        if bridge.any():
            full = rng.random(n) < m.bridge_p_full[state]
            short_len = rng.integers(1, np.maximum(m.bridge_days[state], 2))
            end = np.where(bridge, start + np.where(full, m.bridge_days[state], short_len) - 1, end)
            dest = np.where(
                bridge, np.where(full, m.bridge_full_next[state], m.bridge_short_next[state]), dest
            )
        # age caps: uddannelseshjælp ends the day before the 30th birthday, everything the
        # day before the 67th
        birth = p.birth[idx]
        cap_age = m.cap_age[state]
        has_cap = cap_age > 0
        cap_day = np.where(has_cap, birthday(birth, np.where(has_cap, cap_age, 1)) - 1, NEVER)
        capped = end > cap_day
        end = np.where(capped, cap_day, end)
        dest = np.where(capped, m.cap_next[state], dest)
        old = birthday(birth, m.general["max_age"]) - 1
        too_old = end > old
        end = np.where(too_old, old, end)
        dest = np.where(too_old, m.exit, dest)
        p.t_state[idx] = np.maximum(end, start)
        p.dest[idx] = dest

    def _enter(self, idx: np.ndarray, state: np.ndarray, start: np.ndarray) -> None:
        """Persons `idx` start `state` on day `start` (a new state: new segment)."""
        if idx.size == 0:
            return
        m, p, rng = self.m, self.p, self.rng
        n = len(idx)
        p.state[idx] = state
        p.state_start[idx] = start
        p.seg_start[idx] = start
        remaining, _ = self._durations(state, stationary=False)
        self._schedule(idx, state, start, remaining)
        # offers: start without one
        has_offer = m.offer_off_days[state] > 0
        p.offer[idx] = 0
        p.cvr[idx] = 0
        off = _ceil_days(rng.exponential(np.maximum(m.offer_off_days[state], 1)))
        p.t_offer[idx] = np.where(has_offer, start + off - 1, NEVER)
        # hours / partial sickness
        self._reset_hours(idx, state)
        mode = m.hours_mode[state]
        on = (mode > 0) & (rng.random(n) < m.hours_p_start[state])
        self._set_hours(idx[on], start[on], True)
        self._set_hours(idx[(mode > 0) & ~on], start[(mode > 0) & ~on], False)

    def _enter_stationary(self, idx: np.ndarray, state: np.ndarray, now: np.ndarray) -> None:
        """Persons `idx` are in `state` on day `now`, in steady state (started earlier)."""
        m, p, rng = self.m, self.p, self.rng
        n = len(idx)
        remaining, elapsed = self._durations(state, stationary=True)
        earliest = birthday(p.birth[idx], 18)
        earliest = np.maximum(earliest, np.where(p.opholdsdato[idx] >= 0, p.opholdsdato[idx], 0))
        state_start = np.minimum(np.maximum(now - elapsed, earliest), now)
        p.state[idx] = state
        p.state_start[idx] = state_start
        self._schedule(idx, state, now, remaining)
        # offers in steady state
        lo, hi = m.offer_days[1:, 0], m.offer_days[1:, 1]
        mean_on = (lo + hi) / 2
        probs = np.diff(m.offer_cum[state], axis=1, prepend=0.0)
        on_time = probs @ mean_on
        off_time = m.offer_off_days[state]
        has_offer = off_time > 0
        on = has_offer & (rng.random(n) < on_time / np.maximum(on_time + off_time, 1))
        w = probs * mean_on[None, :]
        w = w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9)
        kind = np.minimum((rng.random(n)[:, None] > np.cumsum(w, axis=1)).sum(axis=1), 3) + 1
        length = lo[kind - 1] + rng.random(n) * (hi[kind - 1] - lo[kind - 1])
        done = np.floor(rng.random(n) * length).astype(np.int32)
        off_left = _ceil_days(rng.exponential(np.maximum(off_time, 1)))
        off_done = np.floor(rng.exponential(np.maximum(off_time, 1))).astype(np.int32)
        p.offer[idx] = np.where(on, kind, 0)
        p.cvr[idx] = np.where(on, self._cvr(idx, kind), 0)
        p.t_offer[idx] = np.where(
            on, now + _ceil_days(length - done) - 1, np.where(has_offer, now + off_left - 1, NEVER)
        )
        offer_since = np.where(has_offer, now - np.where(on, done, off_done), state_start)
        # hours in steady state
        self._reset_hours(idx, state)
        mode = m.hours_mode[state]
        on_d, off_d = m.hours_on_days[state], m.hours_off_days[state]
        h_on = (mode > 0) & (rng.random(n) < on_d / np.maximum(on_d + off_d, 1))
        h_off = (mode > 0) & ~h_on
        self._set_hours(idx[h_on], now[h_on], True)
        self._set_hours(idx[h_off], now[h_off], False)
        mean_h = np.where(h_on, on_d, off_d)
        hours_since = np.where(
            mode > 0, now - np.floor(rng.exponential(np.maximum(mean_h, 1))), state_start
        )
        p.seg_start[idx] = np.minimum(
            np.maximum(np.maximum(offer_since, hours_since), state_start), now
        ).astype(np.int32)

    # ---- attribute processes --------------------------------------------------------------

    def _cvr(self, idx: np.ndarray, kind: np.ndarray) -> np.ndarray:
        rng, p = self.rng, self.p
        muni = p.muni[idx]
        company = self.companies.draw(rng, muni)
        municipal = (kind == OFFERS.index("nytteindsats")) & (
            rng.random(len(idx)) < self.m.general["municipal_offer_share"]
        )
        cvr = np.where(municipal, self.companies.municipal[muni], company)
        # guidance and upskilling happens at a school, not at a company
        return np.where(kind == OFFERS.index("vejledning_opkvalificering"), 0, cvr)

    def _toggle_offer(self, idx: np.ndarray, start: np.ndarray) -> None:
        if idx.size == 0:
            return
        m, p, rng = self.m, self.p, self.rng
        state = p.state[idx]
        was_on = p.offer[idx] > 0
        n = len(idx)
        kind = np.minimum((rng.random(n)[:, None] > m.offer_cum[state]).sum(axis=1), 3) + 1
        lo, hi = m.offer_days[kind, 0], m.offer_days[kind, 1]
        length = np.floor(lo + rng.random(n) * (hi - lo + 1)).astype(np.int32)
        off = _ceil_days(rng.exponential(np.maximum(m.offer_off_days[state], 1)))
        p.offer[idx] = np.where(was_on, 0, kind)
        p.cvr[idx] = np.where(was_on, 0, self._cvr(idx, kind))
        p.t_offer[idx] = start + np.where(was_on, off, length) - 1

    def _reset_hours(self, idx: np.ndarray, state: np.ndarray) -> None:
        m, p, rng = self.m, self.p, self.rng
        p.hpw[idx] = 0
        p.delvis[idx] = 0
        p.t_hours[idx] = NEVER
        flex = m.flex_hi[state] > 0
        hours = np.round(
            m.flex_lo[state] + rng.random(len(idx)) * (m.flex_hi[state] - m.flex_lo[state])
        )
        p.omfang[idx] = np.where(flex, np.round(hours / 37, 2), 1.0)

    def _toggle_hours(self, idx: np.ndarray, start: np.ndarray) -> None:
        if idx.size == 0:
            return
        was_on = (self.p.hpw[idx] > 0) | (self.p.delvis[idx] > 0)
        self._set_hours(idx[~was_on], start[~was_on], True)
        self._set_hours(idx[was_on], start[was_on], False)

    def _set_hours(self, idx: np.ndarray, start: np.ndarray, on: bool) -> None:
        if idx.size == 0:
            return
        m, p, rng = self.m, self.p, self.rng
        state = p.state[idx]
        n = len(idx)
        mode = m.hours_mode[state]
        if on:
            hpw = np.round(
                m.hours_lo[state] + rng.random(n) * (m.hours_hi[state] - m.hours_lo[state])
            )
            sick_omfang = rng.choice(np.array([0.25, 0.5, 0.75]), n)
            partial = mode == 3
            supplementary = mode == 2
            p.hpw[idx] = np.where(partial, 37 * (1 - sick_omfang), hpw)
            p.omfang[idx] = np.where(
                partial, sick_omfang, np.where(supplementary, np.round(1 - hpw / 37, 2), 1.0)
            )
            p.delvis[idx] = partial
            mean = m.hours_on_days[state]
        else:
            p.hpw[idx] = 0
            p.omfang[idx] = 1.0
            p.delvis[idx] = 0
            mean = m.hours_off_days[state]
        p.t_hours[idx] = start + _ceil_days(rng.exponential(np.maximum(mean, 1))) - 1
