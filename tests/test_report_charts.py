"""Charts and sparklines: deterministic, self-contained, Danish, gaps where values are hidden."""

import re
from datetime import date

import pytest

from lmkpi.report import charts, sparkline
from lmkpi.report.formatting import add_months, months_between
from lmkpi.report.goals import GoalView, _linear_projection, verdict
from lmkpi.report.model import Sparkline

MONTHS = months_between(date(2018, 10, 1), date(2019, 10, 1))


def _draw():
    values = [325.0 + i for i in range(len(MONTHS))]
    values[4] = None  # a hidden month breaks the line
    return charts.relative_goal_chart(
        MONTHS,
        values,
        baseline_index=0,
        baseline_value=325.0,
        target_index=len(MONTHS) - 1,
        target_level=312.0,
        projection=None,
        y_label="Fuldtidspersoner",
    )


def test_svg_is_deterministic_and_self_contained():
    svg1, png1 = charts.render(_draw, "goal-1-chart", "Mål 1: æøå")
    svg2, png2 = charts.render(_draw, "goal-1-chart", "Mål 1: æøå")
    assert svg1 == svg2 and png1 == png2
    assert svg1.startswith("<svg ") and png1.startswith(b"\x89PNG")
    assert not re.search(r"https?:|<!DOCTYPE|<\?xml|@import|xmlns|<metadata", svg1)
    assert "<text" not in svg1  # glyphs are paths: no font is needed to show the chart
    assert "<title" in svg1 and "Mål 1: æøå" in svg1
    ids = re.findall(r'\bid="([^"]+)"', svg1)
    assert ids and all(i.startswith("goal-1-chart-") for i in ids)
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg1)
    assert refs and set(refs) <= set(ids)


def test_danish_ticks():
    formatter = charts.DanishTicks(scale=100)
    formatter.set_locs([0.0, 0.025, 0.05])
    assert [formatter(v) for v in (0.0, 0.025, 0.05)] == ["0,0", "2,5", "5,0"]
    whole = charts.DanishTicks()
    whole.set_locs([0, 1000, 2000])
    assert whole(2000) == "2.000"


def test_sparkline_breaks_at_hidden_months():
    svg = sparkline.svg(Sparkline((1.0, 2.0, None, 3.0, 4.0), target=2.5), "test")
    assert svg.count("<polyline") == 2
    assert "stroke-dasharray" in svg  # the target line
    runs, target, last = sparkline.scaled(Sparkline((5.0, None, 5.0)))
    assert len(runs) == 2 and target is None and last is not None


def test_projection_follows_a_straight_trend():
    months = months_between(date(2019, 1, 1), date(2019, 11, 1))
    values = [100.0 - 2 * i for i in range(len(months))]
    values[-1] = None  # November not yet known
    report = date(2019, 10, 1)
    projection = _linear_projection(months, values, report, date(2019, 12, 1))
    assert projection[0] == (report, pytest.approx(82.0))
    assert projection[1] == (date(2019, 12, 1), pytest.approx(78.0))
    assert _linear_projection(months, values, report, report) is None


def _view(goal_id: str, status: str, kind: str = "goal") -> GoalView:
    return GoalView(
        goal_id, kind, "", "relative_change_max", None, None, None, {"status": status}, [], []
    )


def test_verdict_wording():
    views = [
        _view("1", "met"),
        _view("2", "on_track"),
        _view("3", "on_track"),
        _view("9", "qualitative"),
        _view("a", "no_target", "followup"),
    ]
    assert verdict(views, date(2019, 10, 1)) == (
        "Oktober 2019: Af 3 målbare mål er 1 nået og 2 på vej. 1 er kvalitative."
    )
    assert verdict([_view("1", "no_data")], date(2019, 1, 1)) == (
        "Januar 2019: ingen af målene har målbare tal endnu."
    )


def test_add_months():
    assert add_months(date(2019, 10, 1), -12) == date(2018, 10, 1)
    assert add_months(date(2019, 12, 1), 1) == date(2020, 1, 1)
    assert len(months_between(date(2018, 1, 1), date(2019, 10, 1))) == 22


def test_the_target_is_drawn_over_an_average_at_the_same_level():
    """Goal 4 (an average share): a target equal to the average so far stays visible."""
    months = MONTHS[:12]
    fig = charts.average_goal_chart(
        months,
        [0.12] * 12,
        in_period=[i >= 6 for i in range(12)],
        baseline_span=(0, 5),
        baseline_value=0.13,
        period_span=(6, 11),
        target=0.12,
        report_index=9,
        average_so_far=0.12,
        projected=0.12,
    )
    (ax,) = fig.axes
    lines = {c.get_label(): c for c in ax.collections if c.get_label() in ("Mål", "Gns. hidtil")}
    assert set(lines) == {"Mål", "Gns. hidtil"}
    assert lines["Mål"].get_zorder() > lines["Gns. hidtil"].get_zorder()
    assert lines["Mål"].get_linestyle()[0][1] is not None  # dashed: the average shows through


def test_index_panels_share_one_scale_and_name_every_series():
    labels = ["Lyngby-Taarbæk", "Klyngen", "RAR Hovedstaden", "Hele landet"]
    months = MONTHS[:6]
    panels = [
        ("Kontanthjælp", [[100, 102, 104, 103, 101, 99]] * 4),
        ("Sygedagpenge", [[100, 90, 80, 85, 88, 92]] * 4),
    ]
    fig = charts.index_panels(panels, months, labels, y_label="Indeks (jan 18=100)")
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 2
    assert shown[0].get_ylim() == shown[1].get_ylim()  # comparable panels
    assert shown[0].get_ylabel() == "Indeks (jan 18=100)"
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == labels


def test_municipalities_sort_in_danish_order():
    from lmkpi.report.sources import danish_key

    names = ["Aalborg", "Ærø", "Odense", "Aabenraa", "Østerbro", "Vejle", "Århus", "Albertslund"]
    assert sorted(names, key=danish_key) == [
        "Albertslund", "Odense", "Vejle", "Ærø", "Østerbro", "Aabenraa", "Aalborg", "Århus",
    ]  # fmt: skip
