"""The token-length histogram, with the max length drawn as a vertical line."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from tuiapp.core.data.token_stats import TokenStats


class TokenHistogram(PlotextPlot):
    """Rows per length bin; the red line is where training cuts rows."""

    def show(self, stats: TokenStats | None) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if stats is None or not stats.rows:
            self.refresh()
            return
        edges, counts = stats.histogram.edges, stats.histogram.counts
        centers = [(edges[i] + edges[i + 1]) / 2 for i in range(len(counts))]
        plt.bar(centers, counts, width=0.9 * (edges[1] - edges[0]), color="cyan")
        if stats.max_length <= edges[-1]:
            plt.vline(stats.max_length, "red")
            where = f"red: max {stats.max_length:,}"
        else:
            where = f"max {stats.max_length:,} > longest row"
        if stats.recommended_max_length <= edges[-1] and stats.recommended_max_length != stats.max_length:
            plt.vline(stats.recommended_max_length, "yellow")
            where += f" · yellow: advised {stats.recommended_max_length:,}"
        plt.title(f"rows per length · {where} · {stats.truncated_share:.1%} cut")
        step = max(1, len(edges) // 6)
        ticks = list(edges[::step])
        plt.xticks(ticks, [f"{tick:,}" for tick in ticks])  # fixed ticks: plotext's own vary with timing
        plt.xlabel("tokens")
        self.refresh()
