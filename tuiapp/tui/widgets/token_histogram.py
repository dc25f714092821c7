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
        plt.title(f"tokens per row · red: max length {stats.max_length:,} · {stats.truncated_share:.1%} cut")
        plt.xlabel("tokens")
        self.refresh()
