"""A plotly figure of daily cost: one stacked bar per day, one colour per model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    # plotly ships no type information (no py.typed, no stubs).
    import plotly.graph_objects as go  # type: ignore[import-untyped]

__all__ = ["plot_daily"]

_HOVER_COLUMNS = ["input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens",
                  "total_tokens"]  # fmt: skip
_HOVER = (
    "%{x} · MODEL%{customdata[5]}<br>$%{y:.4f}<br>%{customdata[4]:,} tokens: "
    "%{customdata[0]:,} in, %{customdata[1]:,} out, %{customdata[2]:,} cache write, "
    "%{customdata[3]:,} cache read<extra></extra>"
)


def plot_daily(frame: pd.DataFrame, title: str = "Cost per day by model") -> go.Figure:
    """Stacked bars of ``cost_usd`` per ``period`` and ``model``, tokens on hover.

    ``frame`` is what :func:`fleetnb.cost.daily` (or ``monthly``) returns: a row
    per period and model. Unpriced models are drawn at $0 and say so on hover.
    """
    # plotly is imported when a figure is asked for: reports from the CLI never need it.
    import plotly.graph_objects as go  # noqa: PLC0415

    figure = go.Figure()
    periods = sorted(frame["period"].unique()) if len(frame) else []
    for model in sorted(frame["model"].unique()) if len(frame) else []:
        numbers = frame.loc[frame["model"] == model, ["period", "cost_usd", *_HOVER_COLUMNS,
                                                      "unpriced_tokens"]]  # fmt: skip
        rows = numbers.groupby("period").sum().reindex(periods, fill_value=0)
        unpriced = rows["unpriced_tokens"].gt(0).map({True: " (unpriced)", False: ""})
        hover = [rows[column].tolist() for column in _HOVER_COLUMNS] + [unpriced.tolist()]
        figure.add_trace(
            go.Bar(
                x=periods,
                y=rows["cost_usd"].tolist(),
                name=model,
                customdata=[list(point) for point in zip(*hover, strict=True)],
                hovertemplate=_HOVER.replace("MODEL", model),
            )
        )
    figure.update_layout(
        barmode="stack", title=title, xaxis_title="day", yaxis_title="cost (USD)",
        legend_title="model", xaxis={"type": "category"},
    )  # fmt: skip
    return figure
