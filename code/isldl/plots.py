"""Figures the chapters share: training histories, a network diagram, image grids."""

from __future__ import annotations

import matplotlib.patheffects as patheffects
import matplotlib.pyplot as plt
import matplotlib.ticker as ticker
import numpy as np
import pandas as pd

_OUTLINED = [patheffects.withStroke(linewidth=3, foreground="white")]  # a source's curve


def plot_history(history: pd.DataFrame, title: str | None = None, log_loss: bool = False,
                 source: pd.DataFrame | None = None):
    """Keras' `plot(history)`: one panel per quantity (loss, then each metric), training and
    validation curves against the epoch. `source`, a history that the source printed
    (`isldl.source_history`), is drawn beside ours, dashed, in the same colours."""
    names = [c for c in history.columns if not c.startswith("val_")]
    fig, axes = plt.subplots(len(names), 1, figsize=(6, 2.2 * len(names)), sharex=True,
                             squeeze=False)
    for ax, name in zip(axes[:, 0], names):
        for column, label, colour in ((name, "training", "C0"),
                                      (f"val_{name}", "validation", "C1")):
            if column in history:
                ax.plot(history.index, history[column], "o-", ms=2, lw=1, color=colour,
                        label=label)
            if source is not None and column in source:  # on top: ours often hide it
                ax.plot(source.index, source[column], "--", lw=1.6, color=colour,
                        zorder=3, path_effects=_OUTLINED, label=f"{label}, source")
        ax.set_ylabel(name)
        if log_loss and name == "loss":
            ax.set_yscale("log")
            # ticks at 1, 2 and 5 times each power of ten, labelled in full
            ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
            ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.grid(alpha=0.3)
    axes[0, 0].legend(frameon=False, ncols=2 if source is not None else 1, fontsize=8)
    axes[-1, 0].xaxis.set_major_locator(ticker.MaxNLocator(integer=True))  # whole epochs
    axes[-1, 0].set_xlabel("epoch")
    if title:
        axes[0, 0].set_title(title)
    fig.tight_layout()
    return fig


def network_diagram(n_inputs: int = 4, n_hidden: int = 5):
    """The single-layer network of ISLR2's figure 10.1: inputs X_j, activations A_k, output."""
    fig, ax = plt.subplots(figsize=(6, 4))
    layers = [
        [(0.0, y) for y in _spread(n_inputs)],
        [(1.0, y) for y in _spread(n_hidden)],
        [(2.0, 0.0)],
    ]
    for left, right in zip(layers, layers[1:]):
        for x0, y0 in left:
            for x1, y1 in right:
                ax.plot([x0, x1], [y0, y1], color="0.6", lw=0.8, zorder=1)
    colours = ["tab:orange", "tab:blue", "tab:green"]
    labels = [[f"$X_{j + 1}$" for j in range(n_inputs)],
              [f"$A_{k + 1}$" for k in range(n_hidden)], ["$f(X)$"]]
    for nodes, colour, names in zip(layers, colours, labels):
        for (x, y), name in zip(nodes, names):
            ax.scatter(x, y, s=900, color=colour, zorder=2)
            ax.text(x, y, name, ha="center", va="center", fontsize=10, zorder=3)
    half = max(n_inputs, n_hidden) / 2
    for x, text in zip((0, 1, 2), ("input layer", "hidden layer", "output layer")):
        ax.text(x, -half - 0.6, text, ha="center", fontsize=10)
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-half - 0.8, half + 0.3)  # room for the outer nodes and the layer names
    ax.axis("off")
    return fig


def _spread(n: int) -> np.ndarray:
    return np.linspace(-(n - 1) / 2, (n - 1) / 2, n)[::-1]


def image_grid(images, titles, rows: int, cols: int, cmap=None, size: float = 1.3):
    """Images in a rows × cols grid, each with its title (a class name, a label, a file)."""
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.2),
                             squeeze=False)
    for ax, image, title in zip(axes.flat, images, titles):
        if hasattr(image, "draft"):  # a JPEG photograph: decoded at about the size shown
            image.draft("RGB", (400, 400))
        ax.imshow(image, cmap=cmap)
        ax.set_title(str(title), fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    return fig
