"""isldl: the helpers of the book *Deep learning with ISLR2, in Python*.

The chapters import what they need from here: the training loop (`fit`, `evaluate`,
`predict`), the lab's networks (`isldl.models`), the data loaders (`isldl.data`), pinned
results (`pinned_fit`, `pinned_result`), the source's numbers (`source_value`,
`comparison_table`), plots, and `start_chapter`, `load_or_stand_in` and `record` for what a
chapter says about its run.

Each name is imported from its module on first use, so that `python -m isldl.run`, which
needs none of them, does not load PyTorch beside the kernel that runs the chapter.
"""

from importlib import import_module

_MODULE_OF = {
    "callout": "chapter", "load_or_stand_in": "chapter", "record": "chapter",
    "start_chapter": "chapter", "saved_benchmark": "chapter",
    "Fit": "pinned", "PinError": "pinned", "pinned_fit": "pinned",
    "pinned_result": "pinned",
    "image_grid": "plots", "network_diagram": "plots", "plot_history": "plots",
    "comparison_table": "source", "source_value": "source",
    "summary": "summary",
    "bf16_is_fast": "train", "Timer": "train", "default_device": "train",
    "evaluate": "train", "fit": "train", "keras_init": "train", "predict": "train",
    "rmsprop": "train", "set_seed": "train", "split_validation": "train",
}
__all__ = [*_MODULE_OF, "n_parameters"]


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'isldl' has no attribute {name!r}")
    value = getattr(import_module(f".{_MODULE_OF[name]}", __name__), name)
    # Kept as the package's own: importing the module `isldl.summary` has just bound that
    # name to the module, in the place of the function of the same name.
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_MODULE_OF])


def n_parameters(model) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
