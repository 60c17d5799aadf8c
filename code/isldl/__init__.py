"""isldl: the helpers of the book *Deep learning with ISLR2, in Python*.

The chapters import what they need from here: the training loop (`fit`, `evaluate`,
`predict`), the data loaders (`isldl.data`), the lab's networks (`isldl.models`), pinned
results (`pinned_fit`, `pinned_result`, which shrink in a fast run: `isldl.fast`), the
source's numbers (`source_value`, `comparison_table`), plots, and `start_chapter` and
`load_or_stand_in` for what a chapter says about its run (`isldl.state`).
"""

from .chapter import callout, load_or_stand_in, saved_benchmark, start_chapter
from .machine import bf16_is_fast, default_device
from .pinned import Fit, PinError, pinned_fit, pinned_result
from .plots import image_grid, network_diagram, plot_history
from .source import comparison_table, source_history, source_value
from .summary import summary
from .train import (
    Timer,
    evaluate,
    fit,
    keras_init,
    predict,
    rmsprop,
    set_seed,
    split_validation,
)

__all__ = [
    "Fit", "PinError", "Timer", "bf16_is_fast", "callout", "comparison_table",
    "default_device", "evaluate", "fit", "image_grid", "keras_init", "load_or_stand_in",
    "n_parameters", "network_diagram", "pinned_fit", "pinned_result", "plot_history",
    "predict", "rmsprop", "saved_benchmark", "set_seed", "source_history", "source_value",
    "split_validation", "start_chapter", "summary",
]


def n_parameters(model) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
