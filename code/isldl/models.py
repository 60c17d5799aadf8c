"""The networks that the chapters share or that need a class of their own.

Each chapter writes its other networks as an `nn.Sequential` where its text explains them, as
the source writes `keras_model_sequential() %>% layer_…`. Classifiers return logits: the
softmax (or sigmoid) that Keras puts in the last layer lives in the loss here
(`isldl.train.LOSSES`), which is the numerically stable way to compute it. Every builder
applies Keras' initial weights (`keras_init`).
"""

from __future__ import annotations

import torch
from torch import nn

from .train import keras_init


def single_layer_net(n_inputs: int, hidden: int = 50, dropout: float = 0.4) -> nn.Sequential:
    """One hidden layer of ReLU units, dropout, and a linear output: the source's `modnn` for
    Hitters (50 units, dropout 0.4) and its nonlinear AR model `arnnd` (32 units, 0.5)."""
    return keras_init(nn.Sequential(
        nn.Linear(n_inputs, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, 1)))


class KerasSimpleRNN(nn.Module):
    """Keras' `layer_simple_rnn`: h_t = tanh(W x_t + U h_{t-1} + b), with its two dropouts.

    PyTorch's `nn.RNN` has no dropout on the recurrent state, so this layer is written out. As in
    Keras, each sequence draws one dropout mask for its inputs and one for its state, and uses
    them at every time step. Returns the last state, (batch, units).
    """

    def __init__(self, n_inputs: int, units: int, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0):
        super().__init__()
        self.kernel = nn.Parameter(torch.empty(n_inputs, units))
        self.recurrent_kernel = nn.Parameter(torch.empty(units, units))
        self.bias = nn.Parameter(torch.zeros(units))
        self.dropout, self.recurrent_dropout = dropout, recurrent_dropout
        nn.init.xavier_uniform_(self.kernel)
        nn.init.orthogonal_(self.recurrent_kernel)

    def _mask(self, like: torch.Tensor, rate: float) -> torch.Tensor | float:
        if not self.training or rate == 0:
            return 1.0
        return torch.bernoulli(torch.full_like(like, 1 - rate)) / (1 - rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, time, features)
        h = x.new_zeros(x.shape[0], self.bias.shape[0])
        input_mask = self._mask(x[:, 0], self.dropout)
        state_mask = self._mask(h, self.recurrent_dropout)
        for t in range(x.shape[1]):  # the lab's sequences have 5 steps
            h = torch.tanh((x[:, t] * input_mask) @ self.kernel
                           + (h * state_mask) @ self.recurrent_kernel + self.bias)
        return h


class ImdbLSTM(nn.Module):
    """Embedding (10,000 words → 32) → LSTM (32 units) → one logit, on the last state.

    `nn.LSTM` runs the whole sequence in one call (cuDNN on a GPU); like the source's Keras model
    it reads the padding too (no masking). PyTorch's LSTM has two bias vectors per gate where
    Keras has one, hence 4 × 32 more parameters than Keras counts.
    """

    def __init__(self, n_words: int = 10_000, dim: int = 32, units: int = 32):
        super().__init__()
        self.embedding = nn.Embedding(n_words, dim)
        self.lstm = nn.LSTM(dim, units, batch_first=True)
        self.output = nn.Linear(units, 1)
        nn.init.uniform_(self.embedding.weight, -0.05, 0.05)  # Keras' default for embeddings
        keras_init(self)
        with torch.no_grad():  # Keras sets the forget gate's bias to one
            self.lstm.bias_ih_l0[units:2 * units] = 1.0

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        _, (h, _) = self.lstm(self.embedding(words))
        return self.output(h[-1])


def cifar_cnn(n_classes: int = 100) -> nn.Sequential:
    """Four blocks of 3 × 3 "same" convolution + ReLU + 2 × 2 max-pooling (32, 64, 128, 256
    filters), then dropout, a dense layer of 512 and the class logits: the source's CNN.

    Each block pools *before* its ReLU. The two commute (the ReLU of the largest of four values
    is the largest of their ReLUs, and the gradients agree too), so the network computes the
    source's function, with the ReLU and its gradient on a quarter of the values: Keras fuses
    each ReLU into its convolution, which PyTorch's eager mode cannot (see
    `benchmarks/cifar_cnn.py`). `in_source_order` gives the source's order.
    """
    blocks = []
    for c_in, c_out in [(3, 32), (32, 64), (64, 128), (128, 256)]:
        blocks += [nn.Conv2d(c_in, c_out, 3, padding="same"), nn.MaxPool2d(2), nn.ReLU()]
    return keras_init(nn.Sequential(
        *blocks, nn.Flatten(), nn.Dropout(0.5),
        nn.Linear(2 * 2 * 256, 512), nn.ReLU(), nn.Linear(512, n_classes)))


def in_source_order(cnn: nn.Sequential) -> nn.Sequential:
    """The layers of `cifar_cnn` (the same objects, so the same weights) in the source's order:
    each block's ReLU before its pooling."""
    layers = list(cnn)
    blocks = [layers[i + j] for i in range(0, 12, 3) for j in (0, 2, 1)]
    return nn.Sequential(*blocks, *layers[12:])
