"""`isldl.summary`: Keras' summary of a network, in Keras' 65 columns."""

import torch
from torch import nn

from isldl import models, summary


def test_summary_lists_layers_shapes_and_counts_like_keras():
    table = str(summary(models.single_layer_net(10, 50, 0.4), input_size=(1, 10)))
    lines = table.splitlines()
    assert lines[0].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert lines[2].split() == ["0", "(Linear)", "(None,", "50)", "550"]
    assert lines[3].split()[1:] == ["(ReLU)", "(None,", "50)", "0"]
    assert lines[5].split() == ["3", "(Linear)", "(None,", "1)", "51"]
    assert "Total params: 601" in lines and "Non-trainable params: 0" in lines
    assert max(len(line) for line in lines) == 65


def test_summary_counts_buffers_as_non_trainable_and_takes_integer_inputs():
    net = nn.Sequential(nn.Embedding(100, 4), nn.Flatten(), nn.BatchNorm1d(12))
    result = summary(net, input_size=(2, 3), dtype=torch.long)
    assert result.trainable == 100 * 4 + 2 * 12
    assert result.non_trainable == 2 * 12  # running mean and variance
    assert [row[1] for row in result.rows] == ["(None, 3, 4)", "(None, 12)", "(None, 12)"]
    assert net.training  # left as it was
