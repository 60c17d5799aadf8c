"""`summary(model, input_size)`: a network's layers, output shapes and parameter counts, printed
as Keras' `summary()` prints them in the source, in Keras' 65 columns (they fit the code width
of a PDF page and of the HTML book)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

WIDTH = 65


@dataclass
class Summary:
    """The rows of a summary (layer, output shape, parameters) and the totals."""

    rows: list[tuple[str, str, int]]
    trainable: int
    non_trainable: int

    def __str__(self) -> str:
        widths = (28, 22, WIDTH - 28 - 22)
        lines = [_row(("Layer (type)", "Output Shape", "Param #"), widths), "=" * WIDTH]
        lines += [_row((name, shape, f"{count:,}"), widths) for name, shape, count in self.rows]
        lines += ["=" * WIDTH,
                  f"Total params: {self.trainable + self.non_trainable:,}",
                  f"Trainable params: {self.trainable:,}",
                  f"Non-trainable params: {self.non_trainable:,}"]
        return "\n".join(lines)

    __repr__ = __str__


def _row(cells, widths) -> str:
    name, shape, count = (str(c)[:w - 1] for c, w in zip(cells, widths))
    return f"{name:<{widths[0]}}{shape:<{widths[1]}}{count:>{widths[2]}}"


def summary(model: nn.Module, input_size: tuple[int, ...], dtype=torch.float32) -> Summary:
    """Run one batch of zeros of `input_size` through `model` and list its leaf layers in the
    order they run, with their output shapes (batch as None, as Keras prints it) and the
    parameters each holds. Non-trainable parameters include buffers such as running means."""
    rows, hooks = [], []

    def hook(name):
        def record(module, inputs, output):
            output = output[0] if isinstance(output, tuple) else output
            shape = "(None, " + ", ".join(map(str, output.shape[1:])) + ")"
            count = sum(p.numel() for p in module.parameters(recurse=False))
            rows.append((f"{name} ({type(module).__name__})", shape, count))
        return record

    for name, module in model.named_modules():
        own = any(True for _ in module.parameters(recurse=False))
        if name and (own or not any(True for _ in module.children())):
            hooks.append(module.register_forward_hook(hook(name)))
    training = model.training
    model.eval()
    try:
        with torch.no_grad():
            device = next(model.parameters()).device
            model(torch.zeros(input_size, dtype=dtype, device=device))
    finally:
        model.train(training)
        for handle in hooks:
            handle.remove()
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for name, b in model.named_buffers()
                  if not name.endswith("num_batches_tracked"))
    return Summary(rows, trainable, frozen + buffers)
