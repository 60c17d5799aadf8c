"""Pretrained ImageNet classifiers: ResNet-50 and the int8 quantized MobileNetV2."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import pandas as pd
import torch

from .files import DataError, fetch

QUANTIZED_COPY = "torch/mobilenet_v2_quantized_qnnpack.pt"


class Pretrained(NamedTuple):
    """A ready-to-call classifier, the transforms its weights expect, and its class names."""

    model: Callable[[torch.Tensor], torch.Tensor]
    transforms: Callable
    categories: list[str]
    source: str  # where the weights came from, in words


@contextlib.contextmanager
def _quietly():
    """Keep what torch prints out of a rendered page: torch.hub's "Downloading: … to <the
    machine's cache>" (Python's stdout) and the C++ library's deprecation warnings about
    quantized tensors (written straight to the process's stderr)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(io.StringIO()):
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _weights_file(weights) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def load_resnet50() -> Pretrained:
    """ResNet-50 with `IMAGENET1K_V1`, the weights that match Keras' `application_resnet50`.

    Downloaded into `TORCH_HOME` by torchvision on first use.
    """
    from torchvision import models  # here: importing torchvision takes seconds

    weights = models.ResNet50_Weights.IMAGENET1K_V1
    try:
        with _quietly():
            model = models.resnet50(weights=weights, progress=False).eval()
    except Exception as err:
        raise DataError(f"ResNet-50's weights could not be had: torchvision looks for "
                        f"{_weights_file(weights)} and downloads it from {weights.url} "
                        f"({err}).") from err
    return Pretrained(model, weights.transforms(), weights.meta["categories"],
                      f"torchvision {weights}")


def load_quantized_mobilenet() -> Pretrained:
    """The int8 MobileNetV2: torchvision's weights when they are cached or can be downloaded,
    otherwise the TorchScript copy of the same network under the data root."""
    from torchvision import models  # here: importing torchvision takes seconds

    weights = models.quantization.MobileNet_V2_QuantizedWeights.IMAGENET1K_QNNPACK_V1
    transforms, categories = weights.transforms(), weights.meta["categories"]
    torch.backends.quantized.engine = "qnnpack"  # the engine these weights were quantized for
    try:
        path = fetch(QUANTIZED_COPY)
    except DataError as local_error:
        try:
            with _quietly():
                model = models.quantization.mobilenet_v2(weights=weights, quantize=True,
                                                         progress=False).eval()
        except Exception as err:
            raise DataError(
                f"The quantized MobileNetV2 could not be had: torchvision's download of "
                f"{weights.url} failed ({err}), and {local_error}") from err
        return Pretrained(model, transforms, categories, f"torchvision {weights}")
    try:
        with warnings.catch_warnings(), _quietly():  # TorchScript is deprecated; this copy is
            warnings.simplefilter("ignore", FutureWarning)
            model = torch.jit.load(str(path), map_location="cpu").eval()
    except RuntimeError as err:
        raise DataError(f"{path} is not a loadable TorchScript model: {err}") from err
    return Pretrained(model, transforms, categories,
                      f"the TorchScript copy of {weights} in the data folder")


def top_classes(pretrained: Pretrained, paths, k: int = 3) -> pd.DataFrame:
    """The k most probable ImageNet classes of each image: columns image, rank, class, prob."""
    from PIL import Image

    rows = []
    for path in paths:
        image = Image.open(path).convert("RGB")
        with torch.no_grad(), _quietly():
            logits = pretrained.model(pretrained.transforms(image).unsqueeze(0))
        probabilities = torch.softmax(logits[0], dim=0)
        values, indices = probabilities.topk(k)
        rows += [{"image": Path(path).name, "rank": rank + 1,
                  "class": pretrained.categories[int(i)], "prob": float(v)}
                 for rank, (v, i) in enumerate(zip(values, indices))]
    return pd.DataFrame(rows)
