"""Disclosure control: primary and secondary suppression of small counts.

Rule [ours, following Danish statistical practice; docs/domain.md §7]: a number built from fewer
than ``min_count`` persons (default 5) is shown as ``<5`` (primary suppression). Zero is shown:
it describes nobody. Other cells are then hidden as well (secondary suppression, shown as
``..``) until no hidden cell can be worked out from what the same table publishes:

1. Every published relation between cells is a linear constraint: a total equals the sum of
   its members (rows, columns, the 100 % of a split), a period average equals the mean of its
   months. When a constraint has exactly one hidden cell, the smallest positive visible member
   is hidden too (the standard "never one alone" rule; the total only if no member is left).
2. Exact audit: a hidden cell is recoverable when it is fixed by the linear system of the
   constraints (its unit vector lies in the row space of the constraint matrix restricted to the
   hidden cells). Each recoverable cell gets one more complement.
3. Label audit (counts): a reader knows a ``<5`` cell is 1-4 and a ``..`` cell is 0 or at least
   5. For each constraint with a published total, a ``<5`` cell must keep at least two possible
   values given the hidden sum; otherwise one more complement is hidden (e.g. ``<5`` and ``..``
   adding up to 6 can only be 1 and 5).
4. Ordered lists (a ranking with published shares): a hidden share must not be pinned down by
   its neighbours' shares and its denominator; see :func:`ranking_leaks`.

Cells derived from hidden cells (a share from a hidden count, an index from a hidden level) are
hidden by the caller with :func:`hide_derived`. The functions are pure and work on any hashable
cell keys.
"""

import logging
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

PRIMARY = "primary"
SECONDARY = "secondary"
PRIMARY_LABEL = "<5"  # for min_count 5; see primary_label()
SECONDARY_LABEL = ".."

Key = Hashable


def primary_label(min_count: int) -> str:
    return f"<{min_count}"


def is_small(count: float | None, min_count: int) -> bool:
    """Primary-sensitive: more than zero and fewer than ``min_count`` persons."""
    return count is not None and 0 < count < min_count


@dataclass(frozen=True)
class Constraint:
    """``sum(members) == total_weight * total``; ``total=None``: the total is a known constant."""

    members: tuple[Key, ...]
    total: Key | None = None
    total_weight: float = 1.0

    def terms(self) -> dict[Key, float]:
        out = dict.fromkeys(self.members, 1.0)
        if self.total is not None:
            out[self.total] = out.get(self.total, 0.0) - self.total_weight
        return out


def determinable(hidden: Iterable[Key], constraints: Sequence[Constraint]) -> set[Key]:
    """Hidden cells whose value follows exactly from the published cells and the constraints."""
    keys = [k for k in dict.fromkeys(hidden)]
    if not keys:
        return set()
    index = {k: i for i, k in enumerate(keys)}
    rows = []
    for c in constraints:
        terms = {k: w for k, w in c.terms().items() if k in index and w != 0}
        if terms:
            row = np.zeros(len(keys))
            for k, w in terms.items():
                row[index[k]] = w
            rows.append(row)
    if not rows:
        return set()
    matrix = np.vstack(rows)
    _, singular, vt = np.linalg.svd(matrix, full_matrices=True)
    tol = max(matrix.shape) * np.finfo(float).eps * (singular[0] if singular.size else 1.0)
    rank = int((singular > max(tol, 1e-9)).sum())
    null = vt[rank:]  # basis of all changes to the hidden cells that keep every constraint
    return {k for k in keys if null.shape[0] == 0 or np.all(np.abs(null[:, index[k]]) < 1e-9)}


def _achievable(total: int, primaries: int, secondaries: int, min_count: int) -> bool:
    """Can ``primaries`` cells of 1..k-1 plus ``secondaries`` cells of {0} or >= k sum to total?"""
    low, high = primaries, primaries * (min_count - 1)
    if low <= total <= high:
        return True
    return secondaries > 0 and total >= low + min_count


def label_leaks(
    status: Mapping[Key, str],
    values: Mapping[Key, float],
    constraints: Sequence[Constraint],
    min_count: int,
) -> set[Key]:
    """``<5`` cells left with fewer than two possible values by one constraint and the labels."""
    leaks: set[Key] = set()
    for c in constraints:
        if c.total is not None and c.total in status:
            continue  # hidden total: the constraint publishes no sum
        hidden = [m for m in c.members if m in status]
        if not hidden:
            continue
        hidden_sum = round(sum(values[m] for m in hidden))  # what a reader can compute
        for cell in hidden:
            if status[cell] != PRIMARY:
                continue
            others = [m for m in hidden if m != cell]
            n_primary = sum(1 for m in others if status[m] == PRIMARY)
            possible = [
                v
                for v in range(1, min_count)
                if _achievable(hidden_sum - v, n_primary, len(others) - n_primary, min_count)
            ]
            if len(possible) < 2:
                leaks.add(cell)
    return leaks


def _complement(
    c: Constraint, status: Mapping[Key, str], values: Mapping[Key, float]
) -> Key | None:
    """The visible cell of ``c`` to hide next: the smallest positive member, then zeros, then
    the total."""
    candidates = [(i, m) for i, m in enumerate(c.members) if m not in status]
    if candidates:
        i, key = min(candidates, key=lambda im: (values[im[1]] <= 0, abs(values[im[1]]), im[0]))
        return key
    if c.total is not None and c.total not in status:
        return c.total
    return None


def protect(
    values: Mapping[Key, float],
    primary: Iterable[Key],
    constraints: Sequence[Constraint],
    *,
    min_count: int = 5,
    integer: bool = True,
    forced: Iterable[Key] = (),
) -> dict[Key, str]:
    """Hidden cells -> ``primary`` or ``secondary``, so that no hidden cell can be recovered.

    ``values`` holds every cell that appears in a constraint. ``integer`` enables the label
    audit (counts of persons); full-time persons and shares get the exact audit only.
    ``forced`` cells are hidden as secondary (used by :func:`ranking_leaks`).
    """
    status: dict[Key, str] = dict.fromkeys(primary, PRIMARY)
    for key in forced:
        status.setdefault(key, SECONDARY)
    for _ in range(10 * len(values) + 10):
        changed = False
        for c in constraints:
            terms = list(c.members) + ([c.total] if c.total is not None else [])
            if sum(1 for k in terms if k in status) == 1:
                extra = _complement(c, status, values)
                if extra is not None:
                    status[extra] = SECONDARY
                    changed = True
        if changed:
            continue
        weak = determinable(status, constraints)
        if integer:
            weak |= label_leaks(status, values, constraints, min_count)
        if not weak:
            return status
        fixed = False
        for cell in sorted(weak, key=repr):
            options = [
                k
                for c in constraints
                if cell in c.terms()
                for k in [_complement(c, status, values)]
                if k is not None
            ]
            if options:
                pick = min(options, key=lambda k: (values[k] <= 0, abs(values[k]), repr(k)))
                status[pick] = SECONDARY
                fixed = True
                break
        if not fixed:
            raise RuntimeError(
                f"cannot protect {sorted(weak, key=repr)}: every cell of their constraints is "
                "hidden already; check the constraints of this table"
            )
    raise RuntimeError("secondary suppression did not settle")  # pragma: no cover


def hide_derived(status: Mapping[Key, str], sources: Iterable[Key]) -> str | None:
    """Status for a cell computed from ``sources`` (a share, an index): hidden if any is."""
    found = [status[s] for s in sources if s in status]
    if not found:
        return None
    return PRIMARY if PRIMARY in found else SECONDARY


@dataclass(frozen=True)
class Ranked:
    """One row of a ranking by ``count / denominator`` (rank 1 = largest share)."""

    key: Key  # the count cell
    rank: int
    denominator: float


def ranking_leaks(
    rows: Sequence[Ranked],
    values: Mapping[Key, float],
    status: Mapping[Key, str],
    *,
    min_count: int,
    resolution: float = 0.0005,
) -> set[Key]:
    """Visible neighbours to hide so a hidden share in a ranking keeps two possible counts.

    A reader sees every row's rank and denominator, and the shares of visible rows (rounded to
    ``resolution``, e.g. 0,05 pct.-point for one decimal). A hidden row's share lies between its
    nearest visible neighbours; if only one count fits that interval and its label (``<5``:
    1..k-1; ``..``: 0 or >= k), the nearer neighbour must be hidden too.
    """
    extra: set[Key] = set()
    shown = [r for r in rows if r.key not in status and r.denominator > 0]
    for row in rows:
        if row.key not in status or row.denominator <= 0:
            continue
        above = [r for r in shown if r.rank <= row.rank]
        below = [r for r in shown if r.rank >= row.rank]
        hi = min((values[r.key] / r.denominator for r in above), default=1.0) + resolution
        lo = max((values[r.key] / r.denominator for r in below), default=0.0) - resolution
        if status[row.key] == PRIMARY:
            labels = range(1, min_count)
        else:
            labels = [0, *range(min_count, int(row.denominator) + 1)]
        possible = [v for v in labels if lo <= v / row.denominator <= hi]
        if len(possible) >= 2:
            continue
        own = values[row.key] / row.denominator
        neighbours = [r for r in above + below if r.key not in extra]
        if neighbours:
            nearest = min(
                neighbours,
                key=lambda r: (abs(values[r.key] / r.denominator - own), abs(r.rank - row.rank)),
            )
            extra.add(nearest.key)
    return extra
