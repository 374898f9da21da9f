"""The report's charts: matplotlib (Agg backend, no display) rendered to SVG with its text kept as text.

Labels are bilingual ("账龄分布 / Aging"). The SVG keeps every label as a ``<text>`` element naming a list of
fonts with Chinese glyphs (Noto Sans CJK, PingFang, Microsoft YaHei, …) before the generic ``sans-serif``, so
the browser that opens the report draws the Chinese with its own fonts: the machine that makes the report
needs no Chinese font. Matplotlib measures the labels with its bundled font while laying the chart out, so
Chinese labels may sit a little tighter than drawn; its warnings about those glyphs are expected and
silenced.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "WenQuanYi Micro Hei",
    "DejaVu Sans",
]
"""The fonts the SVG names, in order; the browser falls back to ``sans-serif`` after them."""
plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "axes.unicode_minus": False,
    }
)
COLOURS = ["#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#c62828", "#8e24aa", "#5e35b1", "#263238"]


def label(zh: str, en: str) -> str:
    """A chart label in both languages."""
    return f"{zh} / {en}"


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        # Matplotlib's own font has no Chinese glyphs; the browser draws them (see the module's docstring).
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        figure.tight_layout()
        figure.savefig(buffer, format="svg")
    plt.close(figure)
    return buffer.getvalue()


def _figure(width: float = 7.5, height: float = 3.6) -> tuple[Figure, Any]:
    figure, axes = plt.subplots(figsize=(width, height))
    return figure, axes


def aging_chart(dates: list[str], buckets: list[str], counts: list[list[int]]) -> bytes:
    """Delinquent accounts by bucket over time (M0 left out so the delinquent buckets can be seen)."""
    figure, axes = _figure()
    series = [[row[j] for row in counts] for j in range(1, len(buckets))]
    axes.stackplot(range(len(dates)), series, labels=buckets[1:], colors=COLOURS[1:])
    step = max(1, len(dates) // 8)
    axes.set_xticks(range(0, len(dates), step), [dates[k] for k in range(0, len(dates), step)], fontsize=7)
    axes.set_ylabel(label("逾期账户数", "delinquent accounts"))
    axes.set_title(label("账龄分布（按日）", "Aging over time (daily)"))
    axes.legend(loc="upper left", fontsize=7, ncol=4)
    return _svg(figure)


def roll_rate_chart(buckets: list[str], matrix: list[list[float | None]]) -> bytes:
    """The roll-rate matrix as a heat map (rows: bucket at one month end; columns: at the next)."""
    figure, axes = _figure(6.0, 5.0)
    values = [[v if v is not None else float("nan") for v in row] for row in matrix]
    image = axes.imshow(values, cmap="Reds", vmin=0, vmax=1)
    axes.set_xticks(range(len(buckets)), buckets)
    axes.set_yticks(range(len(buckets)), buckets)
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            if v is not None and v > 0:
                axes.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7)
    axes.set_xlabel(label("下月末", "next month end"))
    axes.set_ylabel(label("本月末", "this month end"))
    axes.set_title(label("迁徙率矩阵", "Roll-rate matrix"))
    figure.colorbar(image, ax=axes, fraction=0.046)
    return _svg(figure)


def vintage_chart(curves: dict[str, list[tuple[int, float]]]) -> bytes:
    """30+ DPD share by months on book, one line per opening month (or variant)."""
    figure, axes = _figure()
    for name, points in curves.items():
        axes.plot([p[0] for p in points], [p[1] * 100 for p in points], marker="o", label=name)
    axes.set_xlabel(label("账龄（月）", "months on book"))
    axes.set_ylabel(label("30+ 逾期占比 %", "30+ DPD share %"))
    axes.set_title(label("Vintage 曲线", "Vintage curves"))
    axes.legend(fontsize=7)
    return _svg(figure)


def bar_chart(title: str, names: list[str], series: dict[str, list[float]], percent: bool = True) -> bytes:
    """Grouped bars: one group per name, one bar per series."""
    figure, axes = _figure()
    width = 0.8 / max(1, len(series))
    for k, (series_name, values) in enumerate(series.items()):
        axes.bar(
            [x + k * width for x in range(len(names))],
            [v * 100 if percent else v for v in values],
            width,
            label=series_name,
            color=COLOURS[k % len(COLOURS)],
        )
    axes.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(names))], names, fontsize=8)
    axes.set_title(title)
    if percent:
        axes.set_ylabel("%")
    axes.legend(fontsize=7)
    return _svg(figure)


def line_chart(title: str, names: list[str], series: dict[str, list[float]]) -> bytes:
    figure, axes = _figure()
    for series_name, values in series.items():
        axes.plot(names, [v * 100 for v in values], marker="o", label=series_name)
    axes.set_ylabel("%")
    axes.set_title(title)
    axes.legend(fontsize=7)
    axes.tick_params(axis="x", labelsize=7)
    return _svg(figure)
