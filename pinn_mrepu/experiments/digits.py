"""A vision stand-in that needs no download: scikit-learn's bundled 8x8 digits (1797 images, 10 classes).

:func:`load_digits_split` gives a stratified train/test split fixed by a seed; pixels (0..16) are centred on the
training split's mean and divided by 16, so every image lies in [-1, 1]^64: the box the critical first layer of
:class:`pinn_mrepu.nn.MLP` is sized for (MRePU's growth bound holds at its corners).  Until session 5 the pixels
were standardised one by one instead; near-constant border pixels then gave single images a mean x^2 up to 12.5
(test: 42), far outside the box, and deep MRePU nets blew up on them at initialisation.  :func:`run_digits` trains
a deep MLP or a :class:`ResidualMLP` with mini-batch Adam on the cross-entropy and reports train/test accuracy.

Status of a run: ``diverged`` (a non-finite loss; training stops there), ``chance`` (finite, but test accuracy
below :data:`CHANCE_THRESHOLD`, i.e. near the 10 % of guessing), else ``ok``.  Needs scikit-learn (imported when
the data are loaded).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

import torch
from torch import nn

from pinn_mrepu.activations import get_activation
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import MLP, layer_variances

from .regression import params_text

__all__ = ["ARCHS", "CHANCE_THRESHOLD", "ResidualMLP", "load_digits_split", "run_digits"]

ARCHS = ("mlp", "residual")
#: Test accuracy below this counts as "stayed at chance" (10 classes: guessing gives 0.1).
CHANCE_THRESHOLD = 0.2


def load_digits_split(seed: int, *, test_fraction: float = 0.3, dtype: torch.dtype = torch.float64):
    """``(x_train (N, 64), y_train (N,), x_test (M, 64), y_test (M,))``: a stratified split fixed by ``seed``.

    Raises:
        ImportError: scikit-learn is not installed.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(data.data, data.target, test_size=test_fraction,
                                              random_state=int(seed), stratify=data.target)
    mean = x_tr.mean(axis=0)

    def prep(x):  # pixels and their mean lie in [0, 16]: the centred, scaled image lies in [-1, 1]^64
        return torch.as_tensor((x - mean) / 16.0, dtype=dtype)

    return prep(x_tr), torch.as_tensor(y_tr, dtype=torch.long), prep(x_te), torch.as_tensor(y_te, dtype=torch.long)


class ResidualMLP(nn.Module):
    """``h0 = W_in x + b_in``; ``blocks`` times ``h <- h + W2 sigma(W1 h + b1)``; ``u = W_out sigma(h) + b_out``.

    ``W_in``, every ``W1`` and ``W_out`` take the per-layer variances of ``init`` (as in :class:`MLP`); the
    residual branch's output weights are ``W2 ~ N(0, 1 / (width * blocks))`` with ``b2 = 0``, so the blocks
    together at most about double the kernel.  Shapes: ``(N, in_dim) -> (N, out_dim)``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, width: int, blocks: int, activation: str = "relu",
                 activation_params: Mapping[str, object] | None = None, init: str = "critical",
                 generator: int = 0, dtype: torch.dtype = torch.float64):
        super().__init__()
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
            raise ConfigError("blocks", blocks, "must be an integer >= 1")
        self.activation = get_activation(activation, **dict(activation_params or {}))
        def linear(a: int, b: int) -> nn.Linear:  # no global-RNG draw; filled below from the explicit generator
            return nn.utils.skip_init(nn.Linear, a, b, dtype=dtype)

        self.inp = linear(in_dim, width)
        self.inner = nn.ModuleList(linear(width, width) for _ in range(blocks))
        self.outer = nn.ModuleList(linear(width, width) for _ in range(blocks))
        self.head = linear(width, out_dim)
        chain = [self.inp, *self.inner, self.head]
        variances = layer_variances(init, self.activation, [(a.in_features, a.out_features) for a in chain])
        gen = torch.Generator().manual_seed(int(generator))
        with torch.no_grad():
            for lin, var in zip(chain, variances):
                if var is None:  # Glorot normal
                    c_w, c_b = 2.0 * lin.in_features / (lin.in_features + lin.out_features), 0.0
                else:
                    c_b, c_w = var
                std = math.sqrt(c_w / lin.in_features)
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen, dtype=dtype) * std)
                lin.bias.copy_(torch.randn(lin.bias.shape, generator=gen, dtype=dtype) * math.sqrt(c_b))
            for lin in self.outer:
                lin.weight.copy_(torch.randn(lin.weight.shape, generator=gen, dtype=dtype) / math.sqrt(width * blocks))
                lin.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.inp(x)
        for w1, w2 in zip(self.inner, self.outer):
            h = h + w2(self.activation(w1(h)))
        return self.head(self.activation(h))


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        logits = net(x)
        loss = float(nn.functional.cross_entropy(logits, y))
        acc = float((logits.argmax(dim=1) == y).double().mean()) if torch.all(torch.isfinite(logits)) else math.nan
    return loss, acc


def run_digits(
    arch: str,
    activation: str,
    params: Mapping[str, object] | None = None,
    depth: int = 5,
    width: int = 64,
    seed: int = 0,
    epochs: int = 30,
    lr: float = 1e-3,
    *,
    init: str = "critical",
    batch_size: int = 64,
    dtype: torch.dtype = torch.float64,
) -> dict:
    """Train a classifier on the digits split of ``seed`` with mini-batch Adam on the cross-entropy.

    Args:
        arch: ``mlp`` (``depth`` hidden layers, :class:`pinn_mrepu.nn.MLP`) or ``residual`` (``depth`` blocks,
            :class:`ResidualMLP`).
        activation, params: registry name and parameters (``{"p": 2}``).
        width: neurons per hidden layer.
        seed: the split, the weights and the batch order.
        epochs, lr, batch_size: Adam budget (shuffled mini-batches, constant ``lr``).
        init: ``critical`` or ``glorot_normal``/``lecun_normal``.

    Returns:
        A flat dict (one CSV row): configuration, ``status`` (ok/chance/diverged), ``steps_done``,
        ``train_loss``, ``train_acc``, ``test_acc``, ``seconds``.

    Raises:
        ConfigError: unknown arch, activation or init.  ImportError: no scikit-learn.
    """
    if arch not in ARCHS:
        raise ConfigError("arch", arch, f"must be one of {', '.join(ARCHS)}")
    start = time.perf_counter()
    x_tr, y_tr, x_te, y_te = load_digits_split(seed, dtype=dtype)
    kw = dict(width=width, activation=activation, activation_params=dict(params or {}), init=init,
              generator=int(seed), dtype=dtype)
    net = MLP(64, 10, depth=depth, **kw) if arch == "mlp" else ResidualMLP(64, 10, blocks=depth, **kw)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    order_gen = torch.Generator().manual_seed(2_000_003 + int(seed))
    status, steps_done = "ok", 0
    for _ in range(epochs):
        perm = torch.randperm(len(y_tr), generator=order_gen)
        for i in range(0, len(perm), batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(net(x_tr[idx]), y_tr[idx])
            if not math.isfinite(loss.item()):
                status = "diverged"
                break
            loss.backward()
            opt.step()
            steps_done += 1
        if status != "ok":
            break
    train_loss, train_acc = _accuracy(net, x_tr, y_tr)
    _, test_acc = _accuracy(net, x_te, y_te)
    if status == "ok" and not (math.isfinite(train_loss) and math.isfinite(test_acc)):
        status = "diverged"
    if status == "diverged":
        train_loss = train_acc = test_acc = math.nan
    elif test_acc < CHANCE_THRESHOLD:
        status = "chance"
    return {
        "arch": arch, "activation": activation, "params": params_text(params), "init": init, "depth": depth,
        "width": width, "seed": int(seed), "epochs": epochs, "lr": float(lr), "batch_size": batch_size,
        "status": status, "steps_done": steps_done, "train_loss": train_loss, "train_acc": train_acc,
        "test_acc": test_acc, "seconds": time.perf_counter() - start,
    }
