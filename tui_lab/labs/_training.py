"""Shared training plumbing for labs that train on a fixed set of examples in epochs.

- make_optimizer: Adam, SGD (with momentum) or Graves' RMSProp from a [train] table.
- decayed_lr: the learning rate of update k on a geometric path from lr to lr_final.
- EpochTraining: a Lab mixin. train_one is a clipped step on the kind's loss_and_grads.
  Update k trains on batch k mod (batches per epoch) of epoch k // (batches per epoch),
  in an order drawn from (seed, epoch) alone, so a resumed run sees exactly the batches
  an uninterrupted one would. The optimizer's
  state goes into checkpoints, and a live change of train.lr / train.momentum reaches it.
"""

from __future__ import annotations

import math

import numpy as np

from kernels import optim
from tui_lab.seqnet import clipped_step


def make_optimizer(params: dict, train: dict):
    """train: a scenario's [train] table with "optimizer" and "lr" (and "momentum" for SGD)."""
    if train["optimizer"] == "adam":
        return optim.Adam(params, lr=train["lr"])
    if train["optimizer"] == "sgd":
        return optim.SGD(params, lr=train["lr"], momentum=train.get("momentum", 0.0))
    return optim.RMSPropGraves(params, lr=train["lr"])


def decayed_lr(train: dict, update: int) -> float:
    """train.lr, or with train.lr_final > 0 the geometric path from lr (at update
    lr_decay_start * updates) to lr_final (the last update): late updates then make small
    steps, and a run stops near a minimum instead of wherever Adam's last large step threw
    it. train: a [train] table with lr, lr_final, lr_decay_start and updates."""
    lr, lr_final, updates = train["lr"], train["lr_final"], train["updates"]
    start = int(train["lr_decay_start"] * updates)
    if lr_final <= 0 or updates - 1 <= start:
        return lr
    progress = (min(update, updates - 1) - start) / (updates - 1 - start)
    return lr * (lr_final / lr) ** max(progress, 0.0)


class EpochTraining:
    """Mixin for Lab subclasses that set self.optimizer and define train_size()."""

    optimizer: optim.Optimizer

    def train_size(self) -> int:
        """How many training examples one epoch covers."""
        raise NotImplementedError

    def batches_per_epoch(self) -> int:
        return math.ceil(self.train_size() / self.scenario.get("train.batch_size"))

    def total_train_steps(self) -> int:
        return self.scenario.get("train.epochs") * self.batches_per_epoch()

    def loss_and_grads(self, indices: np.ndarray) -> tuple[float, dict]:
        """Loss and gradients (by parameter name) on the training examples `indices`."""
        raise NotImplementedError

    def train_one(self) -> float:
        """One update on the examples of update k, clipped by train.clip (0 = off)."""
        loss, grads = self.loss_and_grads(self.batch_indices(self.train_step))
        norm = clipped_step(self.optimizer, grads, self.scenario.get("train.clip"))
        return loss if math.isfinite(norm) else math.nan

    def batch_indices(self, update: int) -> np.ndarray:
        """The examples of update k: a pure function of (seed, k), so resume is exact."""
        epoch, position = divmod(update, self.batches_per_epoch())
        order = np.random.default_rng([self.scenario.seed, epoch]).permutation(self.train_size())
        size = self.scenario.get("train.batch_size")
        return order[position * size : (position + 1) * size]

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state) -> None:
        if state:
            self.optimizer.load_state_dict(state)

    def on_live_change(self, dotted: str) -> None:
        if dotted == "train.lr":
            self.optimizer.lr = self.scenario.get("train.lr")
        if dotted == "train.momentum" and hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = self.scenario.get("train.momentum")
