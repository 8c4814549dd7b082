"""Chart.js configurations as plain data, for ``json_script`` blocks read by charts.js.

Python builds the whole configuration (type, labels, datasets, colours, axis titles); the
page's script only adds what JSON cannot carry: tick and tooltip formatters named by
``format`` ("percent", "hours", "integer") and the heatmap's colour scale. Colours have at
least 3:1 contrast against the white background (WCAG non-text contrast).
"""

from __future__ import annotations

from typing import Any

BLUE, ORANGE, GREEN, PURPLE, RED, GREY = (
    "#0550ae",
    "#b35900",
    "#1a7f37",
    "#8250df",
    "#cf222e",
    "#57606a",
)
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, RED, GREY)


def _axis(title: str | None, fmt: str | None = None, **extra: Any) -> dict[str, Any]:
    axis: dict[str, Any] = {**extra}
    if title:
        axis["title"] = {"display": True, "text": title}
    if fmt:
        axis["format"] = fmt
    return axis


def line_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    y_title: str,
    y_format: str = "integer",
    x_title: str | None = None,
) -> dict[str, Any]:
    """One line per series; ``None`` leaves a gap (no point is drawn for missing data)."""
    return {
        "type": "line",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": name,
                    "data": values,
                    "borderColor": PALETTE[i % len(PALETTE)],
                    "backgroundColor": PALETTE[i % len(PALETTE)],
                    "pointRadius": 2 if len(values) > 40 else 3,
                    "spanGaps": False,
                }
                for i, (name, values) in enumerate(series)
            ],
        },
        "options": {
            "scales": {
                "x": _axis(x_title),
                "y": _axis(y_title, y_format, beginAtZero=True),
            }
        },
    }


def bar_chart(
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    value_title: str,
    value_format: str = "integer",
    horizontal: bool = False,
    stacked: bool = False,
    label_title: str | None = None,
) -> dict[str, Any]:
    """Bars per label, one colour per series; ``horizontal`` puts the labels on the y axis."""
    value_axis = _axis(value_title, value_format, beginAtZero=True, stacked=stacked)
    label_axis = _axis(label_title, stacked=stacked)
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": name,
                    "data": values,
                    "backgroundColor": PALETTE[i % len(PALETTE)],
                }
                for i, (name, values) in enumerate(series)
            ],
        },
        "options": {
            "indexAxis": "y" if horizontal else "x",
            "scales": {"x": value_axis, "y": label_axis}
            if horizontal
            else {"x": label_axis, "y": value_axis},
        },
    }


def interval_chart(
    labels: list[str],
    estimates: list[tuple[float | None, float | None, float | None]],
    *,
    value_title: str,
    value_format: str = "percent",
    maximum: float | None = 1.0,
) -> dict[str, Any]:
    """A horizontal floating bar from each 95% interval's low to high, with a point at the
    estimate. A row whose estimate is None (insufficient data) gets no bar and no point:
    its label says so, and the table says it in words."""
    limit = {"max": maximum} if maximum is not None else {}
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "type": "bar",
                    "label": "95% interval",
                    "data": [
                        [low, high] if value is not None and low is not None else None
                        for value, low, high in estimates
                    ],
                    "backgroundColor": "rgba(5, 80, 174, 0.35)",
                    "borderColor": BLUE,
                    "borderWidth": 1,
                    "barPercentage": 0.6,
                },
                {
                    "type": "line",
                    "label": "Estimate",
                    "data": [value for value, _, _ in estimates],
                    "showLine": False,
                    "pointRadius": 5,
                    "pointStyle": "rectRot",
                    "borderColor": "#1b1f23",
                    "backgroundColor": "#1b1f23",
                },
            ],
        },
        "options": {
            "indexAxis": "y",
            "scales": {
                "x": _axis(value_title, value_format, min=0, **limit),
                "y": _axis(None),
            },
        },
    }


def heatmap_chart(
    row_labels: list[str], column_labels: list[str], cells: list[list[int]], *, label: str
) -> dict[str, Any]:
    """A weekday × hour matrix (chartjs-chart-matrix): the cell's shade scales with its
    count; charts.js computes the shades and cell sizes."""
    return {
        "type": "matrix",
        "heatmap": True,
        "data": {
            "datasets": [
                {
                    "label": label,
                    "data": [
                        {"x": column, "y": row, "v": cells[r][c]}
                        for r, row in enumerate(row_labels)
                        for c, column in enumerate(column_labels)
                    ],
                    "maximum": max((max(r) for r in cells if r), default=0),
                }
            ]
        },
        "options": {
            "scales": {
                "x": _axis("Hour of day (local)", type="category", labels=column_labels),
                # The matrix chart reverses its y axis by default; a week reads top-down.
                "y": _axis(None, type="category", labels=row_labels, offset=True, reverse=False),
            },
        },
    }
