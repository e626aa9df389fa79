"""A training job as Saturn sees it: how to build the model, the data, the loss and the optimizer, and how long to train.

``Task(name, model=..., data=..., ...)``:
- ``model``: a callable returning a ``torch.nn.Module`` on the CPU (a "model loader"), or a module itself.
- ``data``: a callable ``data(batch_size)`` (or ``data()``) returning an iterable of ``(inputs, targets)`` batches,
  re-created for every epoch. ``inputs`` may be a tensor, a tuple (``model(*inputs)``) or a dict (``model(**inputs)``).
- ``loss``: ``loss(outputs, targets) -> scalar tensor``; default ``torch.nn.functional.cross_entropy``.
- ``optimizer``: ``"sgd"`` (default), ``"adam"``, ``"adamw"``, or a callable ``optimizer(params, lr=lr)``.
- ``batch_size`` (global: kept whatever the GPU count), ``lr``, and exactly one of ``epochs`` / ``steps``. With
  ``epochs``, steps per epoch are ``hints["steps_per_epoch"]`` or ``len(data(batch_size))``.
- ``hints``: free-form dict (e.g. ``steps_per_epoch``, ``pipeline_chunks``, ``spill_partitions``, ``trial_timeout``,
  ``techniques`` = the technique names to try).
- ``gpu_range``: ``n`` or ``(lo, hi)``: GPU counts the profiler may try.
- ``validate``: ``validate(model) -> {"name": float, ...}``, run in the training process (rank 0, the model whole, in
  eval mode, without gradients) every ``eval_every`` steps (default: every epoch when the steps per epoch are known)
  and always at the end. Its values are the job's validation metrics (``saturn.results()``, the Results view).
- ``keep_best``: the name of a validation metric: the weights of the best validation so far are kept beside the
  final ones (``saturn.load_model(task, which="best")``); ``keep_best_mode`` is ``"min"`` or ``"max"`` (default: min
  for a name with "loss" or "err" in it, else max).
- ``hparams``: the task's hyper-parameters as they should appear in results (``saturn.grid`` fills it with its axes;
  by default the learning rate and the batch size).

The callables travel to other processes with cloudpickle (by value for notebook code, by reference for importable
functions).
"""
from __future__ import annotations

import hashlib
import inspect
import sys
from typing import Any, Callable, Iterator, Optional, Union

import cloudpickle


class TaskError(ValueError):
    """A task that is malformed or cannot be rebuilt; the message names the task and the cause."""


CALLABLE_FIELDS = ("model", "data", "loss", "optimizer", "validate")
OPTIMIZERS = ("sgd", "adam", "adamw")


def _describe_callable(obj: Any) -> Optional[str]:
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    module = getattr(obj, "__module__", None) or type(obj).__module__
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}"


def _is_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


class Task:
    def __init__(self, name: str, model: Any = None, data: Any = None, loss: Optional[Callable] = None,
                 optimizer: Union[str, Callable, None] = None, batch_size: int = 32, epochs: Optional[float] = None,
                 steps: Optional[int] = None, hints: Optional[dict] = None,
                 gpu_range: Union[int, tuple, list, None] = None, lr: float = 1e-3,
                 validate: Optional[Callable] = None, eval_every: Optional[int] = None,
                 keep_best: Optional[str] = None, keep_best_mode: Optional[str] = None,
                 hparams: Optional[dict] = None):
        if not isinstance(name, str) or not name.strip() or name != name.strip():
            raise TaskError(f"a task needs a name without surrounding spaces, got {name!r}")
        self.name = name
        if model is None or not (callable(model) or _is_module(model)):
            raise TaskError(f"task {name!r}: model must be a callable that returns a torch.nn.Module")
        if data is None or not callable(data):
            raise TaskError(f"task {name!r}: data must be a callable data(batch_size) returning batches")
        if loss is not None and not callable(loss):
            raise TaskError(f"task {name!r}: loss must be a callable loss(outputs, targets)")
        if isinstance(optimizer, str) and optimizer.lower() not in OPTIMIZERS:
            raise TaskError(f"task {name!r}: optimizer {optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if optimizer is not None and not isinstance(optimizer, str) and not callable(optimizer):
            raise TaskError(f"task {name!r}: optimizer must be a name or a callable optimizer(params, lr=...)")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise TaskError(f"task {name!r}: batch_size must be a positive integer, got {batch_size!r}")
        if (epochs is None) == (steps is None):
            raise TaskError(f"task {name!r}: give exactly one of epochs= or steps=")
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise TaskError(f"task {name!r}: steps must be a positive integer, got {steps!r}")
        if epochs is not None and (not isinstance(epochs, (int, float)) or epochs <= 0):
            raise TaskError(f"task {name!r}: epochs must be positive, got {epochs!r}")
        if not isinstance(lr, (int, float)) or lr <= 0:
            raise TaskError(f"task {name!r}: lr must be a positive number, got {lr!r}")
        if validate is not None and not callable(validate):
            raise TaskError(f"task {name!r}: validate must be a callable validate(model) -> {{name: value}}")
        if eval_every is not None and (not isinstance(eval_every, int) or isinstance(eval_every, bool)
                                       or eval_every < 1):
            raise TaskError(f"task {name!r}: eval_every must be a positive number of steps, got {eval_every!r}")
        if (eval_every is not None or keep_best is not None) and validate is None:
            raise TaskError(f"task {name!r}: eval_every and keep_best need validate=")
        if keep_best is not None and (not isinstance(keep_best, str) or not keep_best):
            raise TaskError(f"task {name!r}: keep_best must be the name of a validation metric, got {keep_best!r}")
        if keep_best_mode not in (None, "min", "max"):
            raise TaskError(f"task {name!r}: keep_best_mode must be 'min' or 'max', got {keep_best_mode!r}")
        if hparams is not None and not isinstance(hparams, dict):
            raise TaskError(f"task {name!r}: hparams must be a dict, got {type(hparams).__name__}")
        self.model, self.data, self.loss, self.optimizer, self.validate = model, data, loss, optimizer, validate
        self.eval_every, self.keep_best = eval_every, keep_best
        self.keep_best_mode = keep_best_mode or (metric_mode(keep_best) if keep_best else None)
        self.hparams = dict(hparams) if hparams is not None else {"lr": float(lr), "batch_size": batch_size}
        self.batch_size, self.epochs, self.steps, self.lr = batch_size, epochs, steps, float(lr)
        self.hints = dict(hints or {})
        self.gpu_range = self._normalise_range(gpu_range)
        # Filled in by verification (registration) or when loaded from the store.
        self.signature: Optional[str] = None
        self.param_count: Optional[int] = None
        self.steps_per_epoch: Optional[int] = self.hints.get("steps_per_epoch")

    def _normalise_range(self, gpu_range) -> tuple[int, Optional[int]]:
        if gpu_range is None:
            return (1, None)
        if isinstance(gpu_range, int) and gpu_range >= 1:
            return (gpu_range, gpu_range)
        if isinstance(gpu_range, (tuple, list)) and len(gpu_range) == 2:
            lo, hi = gpu_range
            if isinstance(lo, int) and lo >= 1 and (hi is None or isinstance(hi, int) and hi >= lo):
                return (lo, hi)
        raise TaskError(f"task {self.name!r}: gpu_range must be n or (lo, hi) with 1 <= lo <= hi, got {gpu_range!r}")

    def __repr__(self) -> str:
        length = f"steps={self.steps}" if self.steps is not None else f"epochs={self.epochs}"
        return f"Task({self.name!r}, batch_size={self.batch_size}, {length}, lr={self.lr})"

    # -- what the task needs at run time -------------------------------------------------------------------------
    @property
    def total_steps(self) -> Optional[int]:
        if self.steps is not None:
            return self.steps
        if self.steps_per_epoch:
            return max(1, int(round(self.epochs * self.steps_per_epoch)))
        return None

    @property
    def eval_steps(self) -> Optional[int]:
        """Steps between validations (None: no validation; the end is always validated)."""
        if self.validate is None:
            return None
        return self.eval_every or self.steps_per_epoch or None

    def gpu_counts(self, available: int) -> list[int]:
        lo, hi = self.gpu_range
        hi = available if hi is None else min(hi, available)
        return list(range(lo, hi + 1))

    def build_model(self):
        if _is_module(self.model):
            import copy
            return copy.deepcopy(self.model)
        model = self.model()
        if not _is_module(model):
            raise TaskError(f"task {self.name!r}: the model loader returned {type(model).__name__}, "
                            "not a torch.nn.Module")
        return model

    def make_loader(self, batch_size: Optional[int] = None):
        batch_size = self.batch_size if batch_size is None else batch_size
        try:
            params = inspect.signature(self.data).parameters
            takes_arg = any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
                            for p in params.values())
        except (TypeError, ValueError):
            takes_arg = True
        return self.data(batch_size) if takes_arg else self.data()

    def batches(self, batch_size: Optional[int] = None) -> Iterator:
        """Batches forever: the loader is re-created at the end of each epoch."""
        while True:
            empty = True
            for batch in self.make_loader(batch_size):
                empty = False
                yield batch
            if empty:
                raise TaskError(f"task {self.name!r}: the data loader produced no batches")

    def loss_fn(self) -> Callable:
        if self.loss is not None:
            return self.loss
        import torch.nn.functional as F
        return F.cross_entropy

    def make_optimizer(self, params):
        import torch
        opt = self.optimizer or "sgd"
        if isinstance(opt, str):
            return {"sgd": lambda p: torch.optim.SGD(p, lr=self.lr),
                    "adam": lambda p: torch.optim.Adam(p, lr=self.lr),
                    "adamw": lambda p: torch.optim.AdamW(p, lr=self.lr)}[opt.lower()](params)
        try:
            accepts_lr = "lr" in inspect.signature(opt).parameters
        except (TypeError, ValueError):
            accepts_lr = False
        return opt(params, lr=self.lr) if accepts_lr else opt(params)

    # -- persistence -------------------------------------------------------------------------------------------
    def payload(self) -> bytes:
        try:
            return cloudpickle.dumps({f: getattr(self, f) for f in CALLABLE_FIELDS})
        except Exception as err:  # noqa: BLE001 - any pickling failure is the user's to fix
            raise TaskError(f"task {self.name!r} cannot be serialised for other processes: "
                            f"{type(err).__name__}: {err}") from err

    def spec(self) -> dict:
        """The JSON description of the task (no code)."""
        return {
            "name": self.name, "batch_size": self.batch_size, "epochs": self.epochs, "steps": self.steps,
            "lr": self.lr, "hints": self.hints, "gpu_range": list(self.gpu_range),
            "steps_per_epoch": self.steps_per_epoch, "total_steps": self.total_steps,
            "signature": self.signature, "param_count": self.param_count,
            "callables": {f: _describe_callable(getattr(self, f)) for f in CALLABLE_FIELDS},
            "eval_every": self.eval_every, "keep_best": self.keep_best, "keep_best_mode": self.keep_best_mode,
            "hparams": self.hparams, "digests": self.digests(),
        }

    def digests(self) -> dict:
        """A short hash of each callable as it travels (cloudpickle), the optimizer's aside (it may hold the
        learning rate): two tasks whose model, data, loss and validate hash alike train alike, step for step, even
        when their callables share a name (two closures of one factory do not)."""
        out = {}
        for f in ("model", "data", "loss", "validate"):
            obj = getattr(self, f)
            if obj is not None and not isinstance(obj, str):
                try:
                    out[f] = hashlib.sha256(cloudpickle.dumps(obj)).hexdigest()[:16]
                except Exception:  # noqa: BLE001 - payload() reports what cannot be pickled
                    out[f] = None
        return out

    @classmethod
    def from_record(cls, spec: dict, payload: bytes) -> "Task":
        name = spec["name"]
        try:
            callables = cloudpickle.loads(payload)
        except Exception as err:  # noqa: BLE001
            raise TaskError(f"task {name!r} cannot be loaded in this process: {type(err).__name__}: {err}") from err
        task = cls(name, batch_size=spec["batch_size"], epochs=spec.get("epochs"), steps=spec.get("steps"),
                   hints=spec.get("hints"), gpu_range=spec.get("gpu_range"), lr=spec.get("lr", 1e-3),
                   eval_every=spec.get("eval_every"), keep_best=spec.get("keep_best"),
                   keep_best_mode=spec.get("keep_best_mode"), hparams=spec.get("hparams"),
                   **{f: callables.get(f) for f in CALLABLE_FIELDS})
        task.signature = spec.get("signature")
        task.param_count = spec.get("param_count")
        task.steps_per_epoch = spec.get("steps_per_epoch")
        return task


def metric_mode(name: str) -> str:
    """Whether a smaller (``min``) or a larger (``max``) value of the metric ``name`` is better, by its name."""
    lowered = name.lower()
    return "min" if any(w in lowered for w in ("loss", "err", "perplexity", "mse", "mae")) else "max"


def model_signature(model) -> tuple[str, int]:
    """(signature, parameter count): the same for two builds of one architecture, whatever the weights or the lr."""
    digest = hashlib.sha256()
    count = 0
    for name, module in model.named_modules():
        digest.update(f"{name}:{type(module).__name__};".encode())
        for pname, param in module.named_parameters(recurse=False):
            count += param.numel()
            digest.update(f"{pname}{tuple(param.shape)}{param.dtype};".encode())
        for bname, buf in module.named_buffers(recurse=False):
            digest.update(f"b:{bname}{tuple(buf.shape)};".encode())
    return f"p{count}-{digest.hexdigest()[:16]}", count


def forward(model, inputs):
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def split_batch(batch) -> tuple[Any, Any]:
    if isinstance(batch, dict) and "inputs" in batch:
        return batch["inputs"], batch.get("targets")
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(f"a batch must be (inputs, targets), got {type(batch).__name__}"
                    + (f" of length {len(batch)}" if isinstance(batch, (tuple, list)) else ""))


def verify_in_child(record: dict) -> dict:
    """Run in a fresh process at registration: load the callables, build the model, take one batch, run the loss."""
    import torch
    torch.set_num_threads(1)
    task = Task.from_record(record["spec"], record["payload"])
    model = task.build_model()
    signature, count = model_signature(model)
    loader = task.make_loader()
    steps_per_epoch = task.hints.get("steps_per_epoch")
    if steps_per_epoch is None:
        try:
            steps_per_epoch = len(loader)
        except TypeError:
            steps_per_epoch = None
    batch = next(iter(loader), None)
    if batch is None:
        raise TaskError("the data loader produced no batches")
    inputs, targets = split_batch(batch)
    if task.hints.get("verify_forward", True) and count <= 200_000_000:
        with torch.no_grad():
            loss = task.loss_fn()(forward(model, inputs), targets)
        if not torch.is_tensor(loss) or loss.numel() != 1:
            raise TaskError("the loss must return a scalar tensor")
    task.make_optimizer(list(model.parameters()))
    if task.validate is not None and task.hints.get("verify_validate", True):
        run_validate(task, model)  # fails now, with what is wrong, rather than after the first epoch of every job
    return {"signature": signature, "param_count": count, "steps_per_epoch": steps_per_epoch}


def run_validate(task: Task, model) -> dict:
    """``task.validate(model)`` with the model in eval mode and no gradients (its training mode is restored);
    returns ``{name: float}`` or raises ``TaskError`` naming what is wrong with the result."""
    import torch
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = task.validate(model)
    finally:
        model.train(was_training)
    if not isinstance(out, dict) or not out:
        raise TaskError(f"task {task.name!r}: validate must return a non-empty dict of metric name -> number, "
                        f"got {type(out).__name__}")
    metrics = {}
    for name, value in out.items():
        if torch.is_tensor(value):
            value = value.detach().float().item() if value.numel() == 1 else None
        if not isinstance(name, str) or not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TaskError(f"task {task.name!r}: validate returned {name!r}: {out[name]!r}; every metric must be "
                            "a name -> a number (or a one-element tensor)")
        metrics[name] = float(value)
    return metrics
