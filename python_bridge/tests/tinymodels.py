"""Tiny models and data built in code (no downloads), importable by child processes."""
import os
import time

import torch
from torch import nn


def make_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4))


def mlp_data(batch_size):
    g = torch.Generator().manual_seed(1)
    return [(torch.randn(batch_size, 16, generator=g), torch.randint(0, 4, (batch_size,), generator=g))
            for _ in range(4)]


class TokenEmbedding(nn.Module):
    def __init__(self, vocab, dim, length):
        super().__init__()
        self.tok = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.zeros(1, length, dim))

    def forward(self, ids):
        return self.tok(ids) + self.pos[:, : ids.shape[1]]


class MeanPoolHead(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.out = nn.Linear(dim, classes)

    def forward(self, x):
        return self.out(x.mean(dim=1))


def make_transformer(vocab=64, dim=32, length=12, layers=2, classes=4):
    torch.manual_seed(0)
    blocks = [nn.TransformerEncoderLayer(dim, nhead=4, dim_feedforward=64, dropout=0.0, batch_first=True)
              for _ in range(layers)]
    return nn.Sequential(TokenEmbedding(vocab, dim, length), *blocks, MeanPoolHead(dim, classes))


def transformer_data(batch_size, vocab=64, length=12):
    g = torch.Generator().manual_seed(2)
    return [(torch.randint(0, vocab, (batch_size, length), generator=g),
             torch.randint(0, 4, (batch_size,), generator=g)) for _ in range(4)]


def broken_model():
    raise ValueError("this model cannot be built: missing weights file")


def in_trial():
    """True inside a profiling trial (devices assigned), False at registration."""
    import os
    return bool(os.environ.get("SATURN_ASSIGNED"))


class _Fails(nn.Module):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def forward(self, x):
        if in_trial():
            if self.how == "oom":
                raise RuntimeError("CUDA out of memory. Tried to allocate 80.00 GiB (simulated)")
            if self.how == "raise":
                raise ValueError("boom in forward (simulated crash)")
            if self.how == "hang":
                import time
                time.sleep(3600)
        return x


def make_failing(how):
    """A model that builds and passes registration, then fails the way ``how`` says in profiling trials."""
    def build():
        return nn.Sequential(nn.Linear(16, 4), _Fails(how))
    return build


class Residual(nn.Module):
    """A residual MLP block: x + mlp(x)."""

    def __init__(self, dim, hidden=None, dropout=0.0):
        super().__init__()
        hidden = hidden or 2 * dim
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, dim))

    def forward(self, x):
        return x + self.mlp(x)


def make_residual(dim=16, blocks=4, classes=4, dropout=0.0):
    torch.manual_seed(0)
    return nn.Sequential(*[Residual(dim, dropout=dropout) for _ in range(blocks)], nn.Linear(dim, classes))


def make_residual_paused():
    """``make_residual`` with a ``Pause`` first: the same function, steps as slow as SATURN_TEST_STEP_DELAY says."""
    return nn.Sequential(Pause(), *make_residual())


def make_residual_dropout():
    return make_residual(dropout=0.3)


def residual_data(batch_size, dim=16, classes=4, batches=4):
    g = torch.Generator().manual_seed(5)
    return [(torch.randn(batch_size, dim, generator=g), torch.randint(0, classes, (batch_size,), generator=g))
            for _ in range(batches)]


class Pause(nn.Module):
    """Identity that sleeps SATURN_TEST_STEP_DELAY seconds: makes steps slow enough to interrupt."""

    def forward(self, x):
        delay = float(os.environ.get("SATURN_TEST_STEP_DELAY", "0") or 0)
        if delay:
            time.sleep(delay)
        return x


def residual_validate(model):
    """Validation of a residual model: loss and accuracy on a fixed held-out set (no batches shared with training)."""
    g = torch.Generator().manual_seed(99)
    x, y = torch.randn(64, 16, generator=g), torch.randint(0, 4, (64,), generator=g)
    out = model(x)
    return {"val_loss": torch.nn.functional.cross_entropy(out, y).item(),
            "val_acc": (out.argmax(dim=1) == y).float().mean().item()}


def not_a_dict_validate(model):
    return 0.5
