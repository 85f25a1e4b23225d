"""Bar charts drawn on the server as SVG: readable without JavaScript, every number also given
as text (the chart's <title>/<desc> and a table beside it). Labels are escaped here."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 720, 220, 44, 36, 12
AXIS = 'text-anchor="end" font-size="11"'
COLOURS = {"first": "#6b7280", "change": "#b45309", "trivial": "#93c5fd", "flip-flop": "#7c3aed"}


def bars(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[int]],
    *,
    description: str,
    every: int | None = None,
) -> Markup:
    """Stacked vertical bars, one per label; series name -> values (same length as labels)."""
    n = max(len(labels), 1)
    totals = [sum(vals[i] for vals in series.values()) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 8, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / n
    bar_w = max(step * 0.8, 1)
    every = every or max(1, n // 8)
    out = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" aria-labelledby="{escape(chart_id)}-t '
        f'{escape(chart_id)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
        f'<line x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 8}" '
        f'y2="{PAD_TOP + plot_h}" stroke="#444"/>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + 4}" {AXIS}>{top}</text>',
        f'<text x="{PAD_LEFT - 6}" y="{PAD_TOP + plot_h}" {AXIS}>0</text>',
    ]
    for i, label in enumerate(labels):
        x = PAD_LEFT + i * step + (step - bar_w) / 2
        y = PAD_TOP + plot_h
        for name, vals in series.items():
            h = vals[i] / top * plot_h
            if h <= 0:
                continue
            y -= h
            colour = COLOURS.get(name, "#b45309")
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)}: {vals[i]} {escape(name)}</title></rect>'
            )
        if i % every == 0:
            out.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{HEIGHT - PAD_BOTTOM + 16}" '
                f'text-anchor="middle" font-size="11">{escape(label)}</text>'
            )
    if len(series) > 1:
        lx = PAD_LEFT
        for name in series:
            out.append(
                f'<rect x="{lx}" y="{HEIGHT - 12}" width="10" height="10" '
                f'fill="{COLOURS.get(name, "#b45309")}"/>'
            )
            out.append(f'<text x="{lx + 14}" y="{HEIGHT - 3}" font-size="11">{escape(name)}</text>')
            lx += 24 + 7 * len(name)
    out.append("</svg>")
    return Markup("".join(out))
