"""isldl: the helpers of the book *Deep learning with ISLR2, in Python*.

The chapters import what they need from here: the training loop (`fit`, `evaluate`,
`predict`), the lab's networks (`isldl.models`), the data loaders (`isldl.data`), pinned
results (`pinned`), the source's numbers (`source_value`, `comparison_table`), plots, and
`record` for the metrics a chapter reports.
"""

from .pinned import Fit, pinned
from .plots import image_grid, network_diagram, plot_history
from .chapter import record
from .source import comparison_table, source_value
from .train import (
    bf16_is_fast,
    Timer,
    default_device,
    evaluate,
    fit,
    keras_init,
    predict,
    rmsprop,
    set_seed,
    split_validation,
)


def summary(model, input_size, **kwargs):
    """The model's layers, output shapes and parameter counts (torchinfo), like Keras' summary."""
    from torchinfo import summary as torchinfo_summary

    kwargs.setdefault("col_names", ("output_size", "num_params"))
    kwargs.setdefault("device", "cpu")
    kwargs.setdefault("verbose", 0)
    return torchinfo_summary(model, input_size=input_size, **kwargs)


def n_parameters(model) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
