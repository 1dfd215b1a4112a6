"""Suppression on hand-made tables: which cells must be hidden (worked out by hand in each
test's comment) and an attacker who tries every integer assignment consistent with what the
table publishes and with the labels (``<5`` = 1..4, ``..`` = 0 or >= 5)."""

import pytest
from fixtures.report.attack import possible_values

from lmkpi.report.disclosure import (
    PRIMARY,
    SECONDARY,
    Constraint,
    Ranked,
    determinable,
    hide_derived,
    is_small,
    protect,
    ranking_leaks,
)

K = 5


def grid(cells: dict[tuple[str, str], int]):
    """A two-way table with row totals (column 'T'), column totals (row 'T') and a grand total."""
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    values = dict(cells)
    for r in rows:
        values[(r, "T")] = sum(cells[(r, c)] for c in cols)
    for c in [*cols, "T"]:
        values[("T", c)] = sum(values[(r, c)] for r in rows)
    constraints = [Constraint(tuple((r, c) for c in cols), (r, "T")) for r in [*rows, "T"]] + [
        Constraint(tuple((r, c) for r in rows), ("T", c)) for c in [*cols, "T"]
    ]
    return values, constraints


def assert_safe(values, constraints, status):
    possible = possible_values(values, constraints, status, k=K)
    for key, label in status.items():
        assert values[key] in possible[key], key  # the truth is consistent
        if label == PRIMARY:
            assert len(possible[key]) >= 2, f"{key} recoverable: {possible[key]}"


def test_is_small():
    assert [is_small(v, K) for v in (0, 1, 4, 5, None)] == [False, True, True, False, False]


def test_single_row_hides_the_next_smallest():
    # 2 + 7 + 9 = 18: 2 is <5; alone in its row it would be 18 - 7 - 9, so the next-smallest
    # cell (7) is hidden too. A reader knows 2 + 7 = 9 and can only say x in 1..4.
    values = {"a": 2, "b": 7, "c": 9, "total": 18}
    constraints = [Constraint(("a", "b", "c"), "total")]
    status = protect(values, ["a"], constraints, min_count=K)
    assert status == {"a": PRIMARY, "b": SECONDARY}
    assert_safe(values, constraints, status)


def test_zero_is_shown_and_not_used_as_complement():
    # 3 + 0 + 8 = 11: zero describes nobody and is not a useful complement; 8 is hidden.
    values = {"a": 3, "b": 0, "c": 8, "total": 11}
    constraints = [Constraint(("a", "b", "c"), "total")]
    assert protect(values, ["a"], constraints, min_count=K) == {"a": PRIMARY, "c": SECONDARY}


def test_label_audit_adds_a_third_cell():
    # 1 + 5 + 20 = 26. Hiding 1 and 5 leaves a hidden sum of 6 = (1..4) + (0 or >= 5): only
    # 1 + 5 fits, so 20 must go too (hidden sum 26: x can be 1..4).
    values = {"a": 1, "b": 5, "c": 20, "total": 26}
    constraints = [Constraint(("a", "b", "c"), "total")]
    status = protect(values, ["a"], constraints, min_count=K)
    assert status == {"a": PRIMARY, "b": SECONDARY, "c": SECONDARY}
    assert_safe(values, constraints, status)


def test_total_hidden_when_no_member_is_left():
    # 4 + 4 = 8: two <5 cells summing to 8 can only be 4 and 4, so the total is hidden.
    values = {"a": 4, "b": 4, "total": 8}
    constraints = [Constraint(("a", "b"), "total")]
    status = protect(values, ["a", "b"], constraints, min_count=K)
    assert status == {"a": PRIMARY, "b": PRIMARY, "total": SECONDARY}
    assert_safe(values, constraints, status)


def test_two_way_table_rectangle():
    #        a   b   c  | T
    #  r1    3  10  12  | 25
    #  r2    8   6  20  | 34
    #  r3    9  15   7  | 31
    # 3 is <5. Row r1: next smallest 10 (r1,b); column a: 8 (r2,a); then row r2 has one hidden
    # cell -> 6 (r2,b); column b now has two. The four corners of the rectangle move together
    # (+d, -d, -d, +d), so no hidden cell follows from the totals.
    values, constraints = grid(
        {
            ("r1", "a"): 3,
            ("r1", "b"): 10,
            ("r1", "c"): 12,
            ("r2", "a"): 8,
            ("r2", "b"): 6,
            ("r2", "c"): 20,
            ("r3", "a"): 9,
            ("r3", "b"): 15,
            ("r3", "c"): 7,
        }
    )
    primary = [k for k, v in values.items() if is_small(v, K)]
    status = protect(values, primary, constraints, min_count=K)
    assert status == {
        ("r1", "a"): PRIMARY,
        ("r1", "b"): SECONDARY,
        ("r2", "a"): SECONDARY,
        ("r2", "b"): SECONDARY,
    }
    assert not determinable(status, constraints)
    assert_safe(values, constraints, status)


def test_two_small_cells_in_one_row():
    #        a   b   c  | T
    #  r1    2   3  11  | 16
    #  r2    6   7   5  | 18
    # Row r1 has two <5 cells (2 + 3 = 5 is known; 2 could be 1..4): fine for the row. But
    # columns a and b each have one hidden cell: 6 (r2,a) and 7 (r2,b) are hidden. Row r2 then
    # has two. Attack: a in 1..4 and b = 5 - a in 1..4 -> a in 1..4.
    values, constraints = grid(
        {
            ("r1", "a"): 2,
            ("r1", "b"): 3,
            ("r1", "c"): 11,
            ("r2", "a"): 6,
            ("r2", "b"): 7,
            ("r2", "c"): 5,
        }
    )
    primary = [k for k, v in values.items() if is_small(v, K)]
    status = protect(values, primary, constraints, min_count=K)
    assert status == {
        ("r1", "a"): PRIMARY,
        ("r1", "b"): PRIMARY,
        ("r2", "a"): SECONDARY,
        ("r2", "b"): SECONDARY,
    }
    assert_safe(values, constraints, status)


def test_bridge_between_two_rectangles_is_found_and_fixed():
    # Two hidden rectangles joined by one hidden cell (r2,c): every row and column has at least
    # two hidden cells, yet (r2,c) lies on no cycle of hidden cells. Changes that keep all totals
    # move hidden cells in alternating +d/-d cycles, so (r2,c) cannot change: it follows exactly
    # (column c's hidden sum minus the right rectangle's column-c cells, whose sum row r3/r4
    # fix). The exact audit finds it; protect() hides one more cell.
    cells = {(f"r{i}", c): 10 + i + j for i in range(1, 5) for j, c in enumerate("abcd")}
    values, constraints = grid(cells)
    hidden = {("r1", "a"), ("r1", "b"), ("r2", "a"), ("r2", "b")}
    hidden |= {("r3", "c"), ("r3", "d"), ("r4", "c"), ("r4", "d"), ("r2", "c")}
    assert determinable(hidden, constraints) == {("r2", "c")}
    status = protect(values, [], constraints, min_count=K, integer=False, forced=hidden)
    assert not determinable(status, constraints)
    assert len(status) > len(hidden)


def test_period_average_is_a_constraint():
    # Monthly shares 0.30, 0.50 (small count, hidden), 0.40, 0.60; the period average 0.45 is
    # published: the hidden month would be 4 x 0.45 - the others. The next-smallest month
    # (0.30) is hidden too.
    values = {"m1": 0.30, "m2": 0.50, "m3": 0.40, "m4": 0.60, "avg": 0.45}
    constraints = [Constraint(("m1", "m2", "m3", "m4"), "avg", total_weight=4)]
    status = protect(values, ["m2"], constraints, min_count=K, integer=False)
    assert status == {"m2": PRIMARY, "m1": SECONDARY}
    assert not determinable(status, constraints)


def test_hide_derived():
    status = {"count": PRIMARY, "other": SECONDARY}
    assert hide_derived(status, ["count", "population"]) == PRIMARY
    assert hide_derived(status, ["other", "population"]) == SECONDARY
    assert hide_derived(status, ["population"]) is None


def test_ranking_neighbours_hide_a_pinned_share():
    # Ranked by share red; row b has 2 red of 40 (5,0 pct., hidden). Its neighbours publish
    # 5,2 pct. (rank 1) and 4,8 pct. (rank 3): only 2/40 fits between -> the nearer neighbour is
    # hidden. With a wider interval (rank 1 at 12 pct., rank 3 at 1 pct.) 1..4 all fit.
    values = {"a": 52, "b": 2, "c": 48}
    rows = [Ranked("a", 1, 1000), Ranked("b", 2, 40), Ranked("c", 3, 1000)]
    leaks = ranking_leaks(rows, values, {"b": PRIMARY}, min_count=K)
    assert len(leaks) == 1 and leaks <= {"a", "c"}
    wide = {"a": 120, "b": 2, "c": 10}
    assert not ranking_leaks(rows, wide, {"b": PRIMARY}, min_count=K)


def test_ranking_tie_reveals_the_share():
    # Rank ties share a rank: a hidden row tied with a visible one has the same share.
    values = {"a": 3, "b": 3}
    rows = [Ranked("a", 1, 50), Ranked("b", 1, 50)]
    assert ranking_leaks(rows, values, {"a": PRIMARY}, min_count=K) == {"b"}


def test_cannot_protect_raises_a_clear_error():
    values = {"a": 3, "total": 3}
    constraints = [Constraint(("a",), "total")]
    status = protect(values, ["a", "total"], constraints, min_count=K)
    assert status == {"a": PRIMARY, "total": PRIMARY}
    with pytest.raises(RuntimeError, match="cannot protect"):
        protect({"a": 3}, ["a"], [Constraint(("a",), None)], min_count=K)


def _joblog_frame(own: dict, others: list[dict], national: dict):
    import datetime as dt

    import polars as pl

    month = dt.date(2019, 12, 1)
    rows = []
    for r, source in [(own, "person"), *((o, "jobindsats") for o in others), (national, None)]:
        rows.append(
            {
                "month": month,
                "is_national": r is national,
                "is_ranked": r is not national,
                "rank_share_red": None,
                "ranked_municipalities": len(others) + 1,
                "source": source or national.get("source", "jobindsats"),
                "external_population": None,
                "external_red": None,
                "external_share_red": None,
                **r,
            }
        )
    return pl.DataFrame(rows), month


def test_suppression_protects_the_own_counts_without_hiding_what_need_not_be():
    """Issue 19 item 3, the demo's figures: 173's own Jobloggen counts (7 light green, 14 red)
    were shown as '..' because the secondary suppression was driven by the national total.
    With the other municipalities and the country from Jobindsats (published by STAR), only
    a count under 5 of 173's own row and the fewest complements inside that row are hidden."""
    from lmkpi.report.joblog import protect_month

    counts = ("population", "green", "light_green", "red", "red_3_months")
    own = dict(zip(counts, (96, 75, 7, 14, 6), strict=True), municipality_code=173,
               area_name="Lyngby-Taarbæk")  # fmt: skip
    others = [
        dict(
            zip(counts, (50 + i, 20, 3, 27 + i, 2), strict=True),
            municipality_code=100 + i,
            area_name=f"K{i}",
        )  # fmt: skip
        for i in range(12)
    ]
    national = dict(zip(counts, (20000, 9000, 4000, 7000, 1900), strict=True),
                    municipality_code=0, area_name="Hele landet")  # fmt: skip
    frame, month = _joblog_frame(own, others, national)
    jm = protect_month(frame, month, 5)
    assert jm.hidden == {}, "nothing of 173's counts is small: all of them stay visible"
    # the others are Jobindsats' published counts: a 3 there is not ours to hide
    assert jm.values[(100, "light_green")] == 3

    own["light_green"], own["green"] = 3, 79  # now one own count is small
    frame, month = _joblog_frame(own, others, national)
    jm = protect_month(frame, month, 5)
    assert jm.hidden[(173, "light_green")] == "primary"
    complements = {k for k, v in jm.hidden.items() if v != "primary"}
    assert len(complements) == 1 and next(iter(complements))[0] == 173  # inside its row
    assert not any(code != 173 for code, _ in jm.hidden)
