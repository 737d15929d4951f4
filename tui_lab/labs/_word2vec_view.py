"""Frames of the word2vec lab: one update in detail, and the training view.

Pure functions from lab state to panels; no Textual, no Rich.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Matrix, Scalars, Sequence, Series, Text, TopK

MAP_WIDTH, MAP_HEIGHT = 56, 15


def example_panels(step, trace, grads, before, after, words, show_dims, alpha, loss, softmax):
    """Panels for one update. step: the Example; trace/grads: kernels.word2vec.pair results;
    before/after: {"W_in": rows [C, D], "W_out": rows [n, D]} around the update."""
    dims = min(show_dims, before["W_in"].shape[1])
    cols = tuple(f"d{j}" for j in range(dims))
    caption_dims = f"first {dims} of {before['W_in'].shape[1]} dimensions"
    in_labels = tuple(words[i] for i in step.inputs)
    panels = []
    in_rows = before["W_in"][:, :dims]
    if step.context is None:  # CBOW: show the mean too
        in_rows = np.vstack([in_rows, trace.h[None, :dims]])
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
        top = np.argsort(-trace.probs, kind="stable")[:10]
        panels.append(
            TopK(
                "softmax p(word | h)",
                tuple((words[i], trace.probs[i]) for i in top),
                target=words[step.target],
            )
        )
        panels.append(
            Matrix(
                "whole distribution",
                trace.probs[None, :],
                scale="unit",
                row_labels=("p",),
                col_labels=tuple(words),
                caption="softmax over every word in the vocabulary",
                group="output",
            )
        )
        shown = [int(np.where(trace.scored == step.target)[0][0])]
        shown += [int(i) for i in top if int(i) != shown[0]][:5]
    else:
        shown = list(range(len(trace.scored)))
    labels = tuple(
        ("+ " if trace.labels[i] > 0.5 else "- ") + words[trace.scored[i]] for i in shown
    )
    table = np.stack(
        [trace.scores[shown], trace.probs[shown], trace.labels[shown], grads["scores"][shown]],
        axis=1,
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
    out_before = before["W_out"][shown, :dims]
    out_after = after["W_out"][shown, :dims]
    in_before = before["W_in"][:, :dims]
    in_after = after["W_in"][:, :dims]
    in_names = tuple(words[i] for i in step.inputs)
    panels += [
        Matrix("W rows before", in_before, row_labels=in_names, col_labels=cols, units="dim",
               group="weights", caption=caption_dims),
        Matrix("W rows after", in_after, row_labels=in_names, col_labels=cols, units="dim",
               group="weights", caption=f"after W -= {alpha:.4g} · dL/dW"),
        Matrix("W' rows before", out_before, row_labels=labels, col_labels=cols, units="dim",
               group="weights", caption=caption_dims),
        Matrix("W' rows after", out_after, row_labels=labels, col_labels=cols, units="dim",
               group="weights", caption=f"after W' -= {alpha:.4g} · dL/dW'"),
    ]  # fmt: skip
    panels.append(
        Scalars(
            "update",
            {"loss": float(loss), "lr": float(alpha), "|dL/dh|": float(np.linalg.norm(grads["h"]))},
        )
    )
    return panels


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


def training_panels(lab) -> list:
    stats = lab.stats()
    panels = [
        Scalars(
            "training",
            {
                "words/s": round(stats["words_per_sec"]),
                "loss": stats["loss"],
                "lr": stats["lr"],
                "epoch": stats["epoch"],
                "update": f"{lab.train_step}/{lab.total_train_steps()}",
                "vocab": len(lab.vocab),
            },
        )
    ]
    kv = lab.vectors()
    lines = []
    for word in lab.watch_words():
        near = ", ".join(f"{w} {s:.2f}" for w, s in kv.most_similar(word, 5))
        lines.append(f"{word:>10}: {near}")
    panels.append(Text("nearest neighbours", "\n".join(lines) or "(no watched words)"))
    plot = lab.plot_words()
    if len(plot) >= 3:
        coords = lab.projection(plot)
        panels.append(
            Matrix("PCA of chosen words", coords, row_labels=tuple(plot),
                   col_labels=("pc1", "pc2"), caption="2-D principal components of W rows",
                   group="projection")
        )  # fmt: skip
        panels.append(Text("PCA map", ascii_scatter(plot, coords), group="projection"))
    if lab.loss_history:
        history = np.asarray(lab.loss_history[-2000:])
        panels.append(Series("loss per pair", {"loss": history}, x_label="update"))
    return panels


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
