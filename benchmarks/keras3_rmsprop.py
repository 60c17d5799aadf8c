"""RMSprop as Keras 2.11 and later compute it: the other optimiser of `lstm_rmsprop.py`.

Not the source's (`isldl.rmsprop`, Keras 2.10's), so not in the reader's package: only the study
of chapter 6 and its tests use it.
"""

import torch


class Keras3RMSprop(torch.optim.Optimizer):
    r"""RMSprop as Keras 2.11 and later (Keras 3 included) compute it, with their defaults;
    not the source's (`isldl.rmsprop`), but the one a reader of today's Keras gets.

    It steps by $-\eta\, g / \sqrt{v + \epsilon}$, $\epsilon$ inside the square root. For
    gradients larger than about $\sqrt{\epsilon / (1 - \rho)}$ ($10^{-3}$ with the defaults)
    both forms step alike; they differ for smaller ones, as for the embedding of a rare word,
    whose $v$ has decayed: Keras 2.10's step stays near $\eta / \sqrt{1 - \rho}$, this one
    shrinks with the gradient.
    """

    def __init__(self, params, lr: float = 1e-3, rho: float = 0.9, eps: float = 1e-7):
        bad = [f"{name}={value} (expected {rule})" for name, value, rule, ok in (
            ("lr", lr, "> 0", lr > 0), ("rho", rho, "in [0, 1)", 0 <= rho < 1),
            ("eps", eps, "> 0", eps > 0)) if not ok]
        if bad:
            raise ValueError("Keras3RMSprop: " + ", ".join(bad))
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every weight that has a gradient; `closure`, if given, recomputes the
        loss first and its value is returned (PyTorch's optimizer protocol)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                if "square_avg" not in self.state[param]:
                    self.state[param]["square_avg"] = torch.zeros_like(param)
                square_avg = self.state[param]["square_avg"]
                square_avg.mul_(group["rho"]).addcmul_(grad, grad, value=1 - group["rho"])
                param.addcdiv_(grad, (square_avg + group["eps"]).sqrt_(), value=-group["lr"])
        return loss
