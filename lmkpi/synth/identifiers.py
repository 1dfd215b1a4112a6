"""Synthetic identifiers: CPR numbers (persons) and CVR numbers (companies).

CPR numbers have real birth dates, the century digit per the CPR rules, and are unique per
person.

A CPR number is DDMMYY-SSSS.  The first serial digit (digit 7) and YY give the century:
0-3 -> 1900s; 4 and 9 -> 2000s if YY <= 36, else 1900s; 5-8 -> 2000s if YY <= 57, else
1800s.  The last digit is odd for men.  Numbers issued before October 2007 satisfy the
modulus-11 check (weights 4,3,2,7,6,5,4,3,2,1); newer numbers need not, so the generator can
issue a few without it, and does where a birth date's numbers with the check are used up.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .months import ymd

WEIGHTS = np.array([4, 3, 2, 7, 6, 5, 4, 3, 2], dtype=np.int64)
# numbers with the modulus-11 check per (weighted date digit sum mod 11, first serial digit):
# the serials d7 d8 d9 c whose check digit c is not 10
_D7, _D8, _D9 = np.meshgrid(np.arange(10), np.arange(10), np.arange(10), indexing="ij")
_WITH_CHECK = np.array(
    [((-(r + 4 * _D7 + 3 * _D8 + 2 * _D9)) % 11 != 10).sum(axis=(1, 2)) for r in range(11)]
)


class CprRegistry:
    """Issues CPR numbers (as int64 DDMMYYSSSS) that are never handed out twice in a run.

    The numbers issued are kept as one bit each in a fixed bitmap over every possible
    DDMMYYSSSS (31 * 12 * 100 * 10,000 bits, 46.5 MB, allocated lazily by the OS), so
    checking and recording a batch costs the same however many were issued before it (a
    sorted array re-sorted per batch made long national histories quadratic).

    A birth date has only about 545 numbers with the modulus-11 check (three free serial
    digits, the first limited by the century).  A long national history creates more persons
    born on a popular date than that; as the CPR office has done since 2007, a person whose
    birth date has no such number left gets one without the check.  (Before, the draw was
    repeated for ever: any run that finished before finishes with the same numbers now.)
    """

    DATES = 31 * 12 * 100  # DDMMYY
    SLOTS = DATES * 10000

    def __init__(self) -> None:
        self._used = np.zeros((self.SLOTS + 7) // 8, dtype=np.uint8)
        # numbers issued per birth date and first serial digit, without / with the check
        self._count = np.zeros((self.DATES, 10, 2), dtype=np.int32)

    def issue(
        self, rng: np.random.Generator, birth: np.ndarray, without_mod11: np.ndarray | None = None
    ) -> np.ndarray:
        n = len(birth)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        year, month, day = ymd(birth)
        yy = year % 100
        date_part = (day * 10000 + month * 100 + yy).astype(np.int64)
        date_digits = np.stack(
            [day // 10, day % 10, month // 10, month % 10, yy // 10, yy % 10], axis=1
        )
        date_sum = date_digits @ WEIGHTS[:6]
        no_check = np.zeros(n, dtype=bool) if without_mod11 is None else without_mod11.copy()
        cpr = np.empty(n, dtype=np.int64)
        todo = np.arange(n)
        rounds = 0
        while len(todo):
            rounds += 1
            if rounds > 1:  # those left: is any birth date out of numbers for them?
                full = self._exhausted(
                    date_part[todo], year[todo], yy[todo], date_sum[todo], no_check[todo]
                )
                if (full & no_check[todo]).any():
                    days = sorted(set(date_part[todo[full]].tolist()))
                    raise RuntimeError(f"no CPR numbers left for the birth dates {days[:5]}")
                no_check[todo[full]] = True
            serial, ok = self._serials(rng, year[todo], yy[todo], date_sum[todo], no_check[todo])
            candidate = date_part[todo] * 10000 + serial
            # reject check-digit failures, numbers already issued and duplicates in the batch
            ok &= ~self._taken(candidate)
            order = np.argsort(candidate, kind="stable")
            dup = np.zeros(len(candidate), dtype=bool)
            sorted_c = candidate[order]
            dup[order[1:]] = sorted_c[1:] == sorted_c[:-1]
            ok &= ~dup
            cpr[todo[ok]] = candidate[ok]
            self._mark(candidate[ok])
            todo = todo[~ok]
        return cpr

    @staticmethod
    def _slot(cpr: np.ndarray) -> np.ndarray:
        """Position of DDMMYYSSSS numbers in the bitmap (DD 1-31, MM 1-12, YY, SSSS)."""
        date_part, serial = np.divmod(cpr.astype(np.int64), 10000)
        day, rest = np.divmod(date_part, 10000)
        month, yy = np.divmod(rest, 100)
        return (((day - 1) * 12 + (month - 1)) * 100 + yy) * 10000 + serial

    def _taken(self, candidate: np.ndarray) -> np.ndarray:
        slot = self._slot(candidate)
        return ((self._used[slot >> 3] >> (slot & 7).astype(np.uint8)) & 1).astype(bool)

    def _mark(self, cprs: np.ndarray) -> None:
        slot = self._slot(cprs)
        np.bitwise_or.at(self._used, slot >> 3, np.left_shift(1, slot & 7).astype(np.uint8))
        kind = is_mod11(cprs).astype(np.int64)
        np.add.at(self._count, (slot // 10000, slot % 10000 // 1000, kind), 1)

    def _exhausted(
        self,
        date_part: np.ndarray,
        year: np.ndarray,
        yy: np.ndarray,
        date_sum: np.ndarray,
        no_check: np.ndarray,
    ) -> np.ndarray:
        """Whether every number `_serials` can draw for each person is already issued.

        With the check that is every number with the modulus-11 check and an allowed first
        serial digit (1900s 0-3, and 4 or 9 when YY >= 37; 2000s 4-9); without it, every
        such number without the check."""
        digit = np.arange(10)[None, :]
        low = (digit <= 3) | (((digit == 4) | (digit == 9)) & (yy >= 37)[:, None])
        allowed = np.where((year >= 2000)[:, None], digit >= 4, low)
        date = self._slot(date_part * 10000) // 10000
        with_check = _WITH_CHECK[date_sum % 11]  # numbers with the check per first digit
        capacity = np.where(no_check[:, None], 1000 - with_check, with_check)
        issued = self._count[date, :, np.where(no_check, 0, 1)]  # (persons, first digit)
        left = np.where(allowed, capacity - issued, 0).sum(axis=1)
        return left <= 0

    @staticmethod
    def _serials(
        rng: np.random.Generator,
        year: np.ndarray,
        yy: np.ndarray,
        date_sum: np.ndarray,
        no_check: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        n = len(year)
        in_2000s = year >= 2000
        # digit 7: 1900s mostly 0-3, sometimes 4/9 (allowed when YY >= 37); 2000s 4-9
        d7 = rng.integers(0, 4, n)
        alt = (yy >= 37) & (rng.random(n) < 0.05)
        d7 = np.where(alt, np.where(rng.random(n) < 0.5, 4, 9), d7)
        d7 = np.where(in_2000s, rng.integers(4, 10, n), d7)
        d8 = rng.integers(0, 10, n)
        d9 = rng.integers(0, 10, n)
        partial = date_sum + 4 * d7 + 3 * d8 + 2 * d9
        check = (-partial) % 11
        ok = check != 10
        # numbers without a valid modulus-11 check: any last digit that fails it
        wrong = rng.integers(0, 10, n)
        wrong = np.where((partial + wrong) % 11 == 0, (wrong + 1) % 10, wrong)
        last = np.where(no_check, wrong, check)
        ok = np.where(no_check, True, ok)
        serial = d7 * 1000 + d8 * 100 + d9 * 10 + np.where(last == 10, 0, last)
        return serial.astype(np.int64), ok


def cpr_text(cpr: np.ndarray, dash: bool = False) -> pl.Series:
    """Format int64 CPR numbers as `DDMMYYSSSS` (or `DDMMYY-SSSS`)."""
    s = pl.Series("cpr", cpr, dtype=pl.Int64).cast(pl.String).str.zfill(10)
    if dash:
        s = s.str.slice(0, 6) + "-" + s.str.slice(6, 4)
    return s


def is_mod11(cpr: np.ndarray) -> np.ndarray:
    digits = (cpr[:, None] // 10 ** np.arange(9, -1, -1)) % 10
    return (digits @ np.append(WEIGHTS, 1)) % 11 == 0


class CompanyPool:
    """Valid CVR numbers (8 digits, modulus 11 with weights 2,7,6,5,4,3,2,1); each
    municipality draws its companies from its own slice of one shared pool."""

    def __init__(self, codes: np.ndarray, population: np.ndarray, seed: int) -> None:
        rng = np.random.default_rng(seed)
        n = 20000
        digits = rng.integers(0, 10, (n * 2, 7))
        digits[:, 0] = rng.integers(1, 10, n * 2)
        check = (-(digits @ np.array([2, 7, 6, 5, 4, 3, 2]))) % 11
        ok = check != 10
        cvr = (digits[ok] @ 10 ** np.arange(7, 0, -1)) + check[ok]
        self.pool = np.unique(cvr)[:n].astype(np.int32)
        rng.shuffle(self.pool)
        self.offset = (codes.astype(np.int64) * 7919) % len(self.pool)
        self.size = np.clip(population / 150, 20, 3000).astype(np.int64)
        # the municipality itself (hosts part of the nytteindsats)
        self.municipal = self.pool[(self.offset + self.size) % len(self.pool)]

    def draw(self, rng: np.random.Generator, muni: np.ndarray) -> np.ndarray:
        j = (self.offset[muni] + rng.integers(0, self.size[muni])) % len(self.pool)
        return self.pool[j]
