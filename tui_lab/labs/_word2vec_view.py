"""Frames of the word2vec lab: one update in detail, and the training view.

Free functions over an UpdateWalk's record (tui_lab/labs/_word2vec_walk.py) and plain
values (the vocabulary's words, the settings); no model call, no Textual, no Rich.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, Text, TopK
from tui_lab.labs._word2vec_walk import TOP_SHOWN, Example, UpdateRecord, UpdateWalk

MAP_WIDTH, MAP_HEIGHT = 56, 15


def update_panels(record: UpdateRecord, t: int, step: Example, words, D: int, softmax: bool):
    """Panels for applied update t (step: its Example; D: the vectors' dimensions)."""
    read, scored = record.read(t), record.scored(t)
    in_before, in_after = record.in_before[read], record.in_after[read]
    dims = in_before.shape[1]
    cols = tuple(f"d{j}" for j in range(dims))
    caption_dims = f"first {dims} of {D} dimensions"
    in_labels = tuple(words[i] for i in step.inputs)
    in_names = in_labels
    panels = []
    in_rows = in_before
    if step.context is None:  # CBOW: show the mean too
        in_rows = np.vstack([in_rows, record.h[t][None, :]])
        in_labels = (*in_labels, "h = mean")
    panels.append(
        Matrix(
            "centre row = h" if step.context is not None else "context rows → h",
            in_rows,
            row_labels=in_labels,
            col_labels=cols,
            units="dim",
            caption=f"rows of W that form h ({caption_dims})",
        )
    )
    if softmax:
        top = zip(record.top_ids[t], record.top_probs[t], strict=True)
        panels.append(
            TopK(
                "softmax p(word | h)",
                tuple((words[i], p) for i, p in top),
                target=words[step.target],
            )
        )
        panels.append(
            Matrix(
                "whole distribution",
                record.probs[t][None, :],
                scale="unit",
                row_labels=("p",),
                col_labels=tuple(words),
                caption="softmax over every word in the vocabulary",
                group="output",
            )
        )
    table = record.table[scored]
    labels = tuple(
        ("+ " if label > 0.5 else "- ") + words[i]
        for i, label in zip(record.scored_ids[scored], table[:, 2], strict=True)
    )
    panels.append(
        Matrix(
            "scores",
            table,
            row_labels=labels,
            col_labels=("u = W'·h", "p" if softmax else "σ(u)", "label", "dL/du"),
            caption="target (+) and " + ("the most likely words" if softmax else "negatives (-)"),
            group="output",
        )
    )
    alpha = record.alpha[t]
    panels += [
        Matrix("W rows before", in_before, row_labels=in_names, col_labels=cols, units="dim",
               group="weights", caption=caption_dims),
        Matrix("W rows after", in_after, row_labels=in_names, col_labels=cols, units="dim",
               group="weights", caption=f"after W -= {alpha:.4g} · dL/dW"),
        Matrix("W' rows before", record.out_before[scored], row_labels=labels, col_labels=cols,
               units="dim", group="weights", caption=caption_dims),
        Matrix("W' rows after", record.out_after[scored], row_labels=labels, col_labels=cols,
               units="dim", group="weights", caption=f"after W' -= {alpha:.4g} · dL/dW'"),
    ]  # fmt: skip
    panels.append(
        Scalars(
            "update",
            {
                "loss": float(record.loss[t]),
                "lr": float(alpha),
                "|dL/dh|": float(record.dh_norm[t]),
            },
        )
    )
    return panels


def shown_scores(trace, target: int, softmax: bool) -> np.ndarray:
    """Which of an update's scored words its panels show (indices into trace.scored): every
    one for negative sampling; the target and the five most likely others for the softmax."""
    if not softmax:
        return np.arange(len(trace.scored))
    top = np.argsort(-trace.probs, kind="stable")[:TOP_SHOWN]
    shown = [int(np.where(trace.scored == target)[0][0])]
    shown += [int(i) for i in top if int(i) != shown[0]][:5]
    return np.asarray(shown)


def sentence_panel(words, sentence, step, architecture):
    """The sentence with the centre marked (position) and the window as a trace."""
    tokens = tuple(words[i] for i in sentence)
    window = np.zeros((len(tokens), 1))
    position = -1
    if step is not None:
        window[step.lo : step.hi, 0] = 0.5
        window[step.centre, 0] = 1.0
        if step.context is not None:
            window[step.context, 0] = 0.75
        position = step.centre
    return Sequence("sentence", tokens, position=position, traces={"window": window})


def describe(step, words, architecture, softmax) -> str:
    if step is None:
        return "press step: one (centre, context) update at a time"
    if architecture == "skipgram":
        head = f"skip-gram: centre '{words[step.centre_id]}' predicts '{words[step.target]}'"
        formula = "h = W[centre]"
    else:
        head = f"CBOW: {len(step.inputs)} context words predict '{words[step.target]}'"
        formula = "h = (1/C) Σ W[context]"
    objective = (
        "loss = -log softmax(W' h)[target]" if softmax else "loss = -log σ(u+) - Σ log σ(-u-)"
    )
    return f"{head}  (window ±{step.reduced})\n{formula};  u = W' h;  {objective}"


def snapshot_panels(record: UpdateRecord, k: int, plot, total: int, vocab: int) -> list:
    """The training view at snapshot k (after k of the walk's updates): the counters, the
    nearest neighbours, the PCA map of the `plot` words and the loss curve."""
    panels = [
        Scalars(
            "training",
            {
                "words/s": round(float(record.words_per_sec[k])),
                "loss": float(record.mean_loss[k]),
                "lr": float(record.lr[k]),
                "epoch": int(record.epoch[k]),
                "update": f"{int(record.train_step[k])}/{total}",
                "vocab": vocab,
            },
        ),
        Text("nearest neighbours", record.neighbours[k] or "(no watched words)"),
    ]
    if len(plot) >= 3:
        coords = record.coords[k]
        panels.append(
            Matrix("PCA of chosen words", coords, row_labels=tuple(plot),
                   col_labels=("pc1", "pc2"), caption="2-D principal components of W rows",
                   group="projection")
        )  # fmt: skip
        panels.append(Text("PCA map", ascii_scatter(plot, coords), group="projection"))
    history = record.history(k)
    if len(history):
        panels.append(Series("loss per pair", {"loss": history}, x_label="update"))
    return panels


def neighbour_text(kv, watched) -> str:
    """Each watched word's five nearest neighbours by cosine, one line each."""
    lines = []
    for word in watched:
        near = ", ".join(f"{w} {s:.2f}" for w, s in kv.most_similar(word, 5))
        lines.append(f"{word:>10}: {near}")
    return "\n".join(lines)


def frame(walk: UpdateWalk, t: int, words, architecture, softmax, D, plot, total, title):
    """The frame of step t of a walk whose update t is applied (t = -1: when walked)."""
    record, T = walk.record, walk.length
    step = walk.examples[t] if t >= 0 else None
    panels = [
        sentence_panel(words, walk.sentence, step, architecture),
        Text("example", describe(step, words, architecture, softmax)),
    ]
    if step is not None:
        panels += update_panels(record, t, step, words, D, softmax)
    panels += snapshot_panels(record, t + 1, plot, total, len(words))
    if step is None:
        loss = float(record.losses_before[-1]) if len(record.losses_before) else None
        return Frame(title, -1, T, panels, train_step=int(record.train_step[0]), loss=loss)
    return Frame(title, t, T, panels, train_step=int(record.train_step[t + 1]),
                 loss=float(record.loss[t]), status=f"update {t + 1} of {T}")  # fmt: skip


def ascii_scatter(labels, coords, width: int = MAP_WIDTH, height: int = MAP_HEIGHT) -> str:
    """Words placed on a character grid by their 2-D coordinates."""
    grid = [[" "] * width for _ in range(height)]
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    span = np.where(hi - lo > 1e-12, hi - lo, 1.0)
    for label, (x, y) in zip(labels, coords, strict=True):
        col = int((x - lo[0]) / span[0] * (width - 1))
        row = int((hi[1] - y) / span[1] * (height - 1))
        text = "•" + label
        col = max(0, min(col, width - len(text)))
        # the nearest free row (up or down) so that labels do not overwrite each other
        for shift in sorted(range(-height, height + 1), key=abs):
            r = row + shift
            if 0 <= r < height and all(c == " " for c in grid[r][col : col + len(text) + 1]):
                row = r
                break
        for k, char in enumerate(text):
            if col + k < width:
                grid[row][col + k] = char
    return "\n".join("".join(line).rstrip() for line in grid)
