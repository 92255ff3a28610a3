"""SVG chart template tags: what a reader of the assessment pages would notice."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.template import Context, Template

from khm.core.templatetags.khm_charts import LEVEL_COLORS

AXES = [
    ("human", "ทุนมนุษย์"),
    ("physical", "ทุนกายภาพ"),
    ("financial", "ทุนการเงิน"),
    ("natural", "ทุนธรรมชาติ"),
    ("social", "ทุนสังคม"),
]
THIS_ROUND = {"human": 4, "physical": 1, "financial": None, "natural": 2.75, "social": 3.5}
NO_DATA = "ไม่มีข้อมูล / No data"


def approx(value: float):
    return pytest.approx(value, abs=0.01)


def render(tag: str, **context) -> str:
    return Template("{% load khm_charts %}" + tag).render(Context(context))


def parse(html: str) -> ET.Element:
    return ET.fromstring(html)  # raises if the output is not well-formed XML


def local(el: ET.Element) -> str:
    return el.tag.rsplit("}", 1)[-1]


def find_all(root: ET.Element, tag: str, cls: str = "") -> list[ET.Element]:
    return [el for el in root.iter() if local(el) == tag and cls in [*el.get("class", "").split(), ""]]


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in el.get("points", "").split())]


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def radar(series=None, **kw) -> str:
    series = series if series is not None else [{"label": "รอบนี้", "values": THIS_ROUND, "style": "primary"}]
    return render("{% radar_chart axes series %}", axes=AXES, series=series, **kw)


def assert_accessible(svg: ET.Element, root: ET.Element) -> str:
    assert svg.get("role") == "img"
    ids = svg.get("aria-labelledby", "").split()
    found = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert [local(found[i]) for i in ids] == ["title", "desc"]
    assert svg.get("width") == "100%" and "max-width" in svg.get("style", "") and svg.get("viewBox")
    return text_of(found[ids[1]])


def test_radar_shows_the_five_thai_capitals_and_describes_values_in_text():
    html = radar()
    root = parse(html)
    labels = [text_of(t) for t in find_all(root, "text", "khm-radar-label")]
    assert labels == [label for _, label in AXES]
    desc = assert_accessible(find_all(root, "svg")[0], root)
    assert "ทุนมนุษย์ 4.00" in desc and "ทุนธรรมชาติ 2.75" in desc and "ทุนสังคม 3.50" in desc
    assert "ทุนการเงิน ไม่มีข้อมูล" in desc
    tips = [text_of(c) for c in find_all(root, "circle", "khm-radar-point")]
    assert tips[3] == "ทุนธรรมชาติ: 2.75 (รอบนี้)"
    assert not find_all(root, "ul", "khm-chart-legend")  # a single series needs no legend


def test_radar_value_4_is_on_the_outer_ring_and_value_1_at_the_centre():
    root = parse(radar())
    rings = {int(r.get("data-value")): points(r) for r in find_all(root, "polygon", "khm-radar-ring")}
    assert sorted(rings) == [2, 3, 4]  # a ring per integer; 1 (the minimum) is the centre
    outer = rings[4]
    cx = sum(x for x, _ in outer) / 5
    cy = sum(y for _, y in outer) / 5
    (polygon,) = find_all(root, "polygon", "khm-radar-primary")
    shape = points(polygon)
    assert math.dist(shape[0], outer[0]) < 0.2  # human = 4
    assert math.dist(shape[1], (cx, cy)) < 0.2  # physical = 1
    r_outer = math.dist(outer[0], (cx, cy))
    assert math.dist(shape[3], (cx, cy)) / r_outer == approx((2.75 - 1) / 3)
    ticks = [text_of(t) for t in find_all(root, "text", "khm-radar-tick")]
    assert ticks == ["1", "2", "3", "4"]


def test_radar_none_is_drawn_at_the_centre_and_marked_missing():
    root = parse(radar())
    missing = find_all(root, "circle", "khm-radar-missing")
    assert len(missing) == 1
    assert text_of(missing[0]).startswith("ทุนการเงิน: ไม่มีข้อมูล")
    assert missing[0].get("fill") == "#fff"  # hollow
    outer = points(find_all(root, "polygon", "khm-radar-ring")[-1])
    centre = (sum(x for x, _ in outer) / 5, sum(y for _, y in outer) / 5)
    assert math.dist((float(missing[0].get("cx")), float(missing[0].get("cy"))), centre) < 0.2


def test_radar_three_series_have_distinct_styles_and_a_legend():
    series = [
        {"label": "รอบนี้", "values": THIS_ROUND, "style": "primary"},
        {"label": "รอบก่อน", "values": dict.fromkeys(THIS_ROUND, 2), "style": "secondary"},
        {"label": "ค่าเฉลี่ยพื้นที่", "values": dict.fromkeys(THIS_ROUND, 3), "style": "reference"},
    ]
    root = parse(radar(series))
    primary, secondary, reference = (
        find_all(root, "polygon", f"khm-radar-{s}")[0] for s in ("primary", "secondary", "reference")
    )
    assert primary.get("fill") == "#0b5d3b" and float(primary.get("fill-opacity")) < 1
    assert secondary.get("fill") == "none" and secondary.get("stroke-dasharray")
    assert reference.get("fill") == "none" and reference.get("stroke-dasharray") != secondary.get("stroke-dasharray")
    (legend,) = find_all(root, "ul", "khm-chart-legend")
    assert [text_of(li) for li in legend] == ["รอบนี้", "รอบก่อน", "ค่าเฉลี่ยพื้นที่"]
    desc = assert_accessible(find_all(root, "svg")[0], root)
    assert "รอบก่อน: ทุนมนุษย์ 2.00" in desc and "ค่าเฉลี่ยพื้นที่: ทุนมนุษย์ 3.00" in desc


def test_several_charts_on_one_page_have_their_own_ids():
    html = render(
        "<div>{% radar_chart axes series %}{% radar_chart axes series %}{% bar_chart rows %}{% stacked_bar rows %}</div>",
        axes=AXES,
        series=[{"label": "x", "values": THIS_ROUND}],
        rows=[{"label": "a", "value": 1}],
    )
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == 12 and len(set(ids)) == 12
    root = parse(html)
    for svg in (el for el in root if local(el) == "figure"):
        assert_accessible(svg[0], root)


def test_labels_are_escaped_everywhere():
    evil = "<script>alert(1)</script>"
    html = render(
        "<div>{% radar_chart axes series title=evil %}{% bar_chart rows %}{% stacked_bar rows %}</div>",
        axes=[("a", evil), ("b", "B"), ("c", "C")],
        series=[{"label": evil, "values": {"a": 2}}, {"label": "x", "values": {}}],
        rows=[{"label": evil, "value": 3, "note": evil, "color": 'red" onload="alert(1)'}],
        evil=evil,
    )
    assert "<script>" not in html and "onload" not in html
    assert "&lt;script&gt;" in html
    root = parse(html)
    assert evil in text_of(find_all(root, "text", "khm-bar-label")[0])


def test_bar_lengths_are_proportional_and_values_printed():
    rows = [
        {"label": "ตำบลหนองบัว", "value": 1200, "note": "40 ครัวเรือน"},
        {"label": "ตำบลโนนสูง", "value": 600, "color": "#ca0020"},
        {"label": "ตำบลนาดี", "value": 300},
    ]
    root = parse(render("{% bar_chart rows %}", rows=rows))
    widths = [float(r.get("width")) for r in find_all(root, "rect", "khm-bar")]
    assert widths[1] / widths[0] == approx(0.5) and widths[2] / widths[0] == approx(0.25)
    assert [text_of(t) for t in find_all(root, "text", "khm-bar-value")] == ["1,200", "600", "300"]
    assert "40 ครัวเรือน" in text_of(find_all(root, "text", "khm-bar-label")[0])
    assert find_all(root, "rect", "khm-bar")[1].get("fill") == "#ca0020"
    desc = assert_accessible(find_all(root, "svg")[0], root)
    assert "ตำบลโนนสูง: 600" in desc


def test_bar_max_value_and_format():
    root = parse(
        render(
            '{% bar_chart rows value_format="{:.1f}%" max_value=100 %}',
            rows=[{"label": "a", "value": 25}, {"label": "b", "value": 100}],
        )
    )
    widths = [float(r.get("width")) for r in find_all(root, "rect", "khm-bar")]
    assert widths[0] / widths[1] == approx(0.25)
    assert [text_of(t) for t in find_all(root, "text", "khm-bar-value")] == ["25.0%", "100.0%"]


def test_stacked_percentages_sum_to_100_and_match_counts():
    counts = [12, 30, 50, 3]
    parts = [
        {"label": label, "value": c, "color": LEVEL_COLORS[i + 1]}
        for i, (label, c) in enumerate(zip(["อยู่ลำบาก", "อยู่ยาก", "อยู่พอได้", "อยู่ดี"], counts, strict=True))
    ]
    root = parse(render("{% stacked_bar parts %}", parts=parts))
    legend = [text_of(li) for li in find_all(root, "li")]
    assert legend[0] == "อยู่ลำบาก 12 (12.6%)"
    printed = [float(m) for m in re.findall(r"\(([\d.]+)%\)", " ".join(legend))]
    assert sum(printed) == approx(100.0)
    for count, pct in zip(counts, printed, strict=True):
        assert abs(pct - 100 * count / sum(counts)) <= 0.1
    widths = [float(r.get("width")) for r in find_all(root, "rect", "khm-stack-part")]
    assert widths[2] / widths[0] == approx(50 / 12)
    in_bar = [text_of(t) for t in find_all(root, "text", "khm-stack-pct")]
    assert in_bar == ["12.6%", "31.6%", "52.6%"]  # 3.2 % is too narrow to print inside; it is in the legend


def test_stacked_rounding_still_adds_up_to_100():
    parts = [{"label": str(i), "value": 1} for i in range(3)] + [{"label": "ไม่มี", "value": 0}]
    root = parse(render("{% stacked_bar parts %}", parts=parts))
    printed = [float(m) for m in re.findall(r"\(([\d.]+)%\)", " ".join(text_of(li) for li in find_all(root, "li")))]
    assert printed == [33.4, 33.3, 33.3, 0.0]
    assert len(find_all(root, "rect", "khm-stack-part")) == 3


def test_no_data_texts():
    assert render("{% bar_chart rows %}", rows=[]).strip() == f'<p class="khm-chart-empty">{NO_DATA}</p>'
    zero = render("{% stacked_bar parts %}", parts=[{"label": "a", "value": 0}, {"label": "b", "value": None}])
    assert NO_DATA in zero and "<svg" not in zero
    assert NO_DATA in render("{% radar_chart axes series %}", axes=AXES, series=[])


def test_level_colours_are_distinct_also_in_greyscale_for_levels_1_and_2():
    assert sorted(LEVEL_COLORS) == [1, 2, 3, 4]

    def luminance(color: str) -> float:
        channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    low, high = sorted((luminance(LEVEL_COLORS[1]), luminance(LEVEL_COLORS[2])))
    assert (high + 0.05) / (low + 0.05) >= 3  # contrast ratio of the two greys
    assert len(set(LEVEL_COLORS.values())) == 4
