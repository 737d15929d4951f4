"""Stroke glyphs for one-shot learning: an alphabet of classes made here, no download.

A glyph is 2-4 pen strokes, each a quadratic Bezier curve in the unit square, drawn from a
random generator seeded by (alphabet seed, split, glyph number): the training and held-out
glyphs come from two separate streams, so the two sets of classes are disjoint. As in the
paper's Omniglot episodes, each glyph turned by 0, 90, 180 and 270 degrees is a class of its
own (4 classes per glyph).

A sample of a class is the glyph redrawn with its strokes' control points jittered, turned
by a few degrees, scaled and shifted by up to `shift` pixels, rendered into a size x size
image (ink 0..1, each curve splatted as small Gaussians), plus pixel noise.

An episode (Santoro et al. 2016, section 4.1): `classes` classes drawn from one split, each
given a label 0..classes-1 shuffled for this episode, each presented `presentations` times
in a random order (T = classes x presentations steps). The input at step t is the sample of
step t and the one-hot label of step t - 1 (zeros at t = 0): the label comes one step late,
so the network is told the answer only after it has guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np

from kernels.splat import draw_curves

SPLITS = ("train", "test")
ROTATIONS = 4
CURVE_POINTS = 32  # points splatted per stroke
INK_SIGMA = 0.6  # Gaussian splat width in pixels
INK = 1.2  # ink per pixel of stroke length (1 - exp(-1.8) = 0.83 on a stroke's line)
EVAL_STREAM = 7  # eval episodes: np.random.default_rng([alphabet_seed, EVAL_STREAM, split, i])


@dataclass(frozen=True)
class GlyphSpec:
    """The scenario's [data] table."""

    size: int = 20
    classes: int = 5
    presentations: int = 10
    train_glyphs: int = 1200
    test_glyphs: int = 400
    min_strokes: int = 2
    max_strokes: int = 4
    jitter: float = 0.03
    tilt: float = 8.0
    shift: float = 1.5
    noise: float = 0.05
    alphabet_seed: int = 0

    @property
    def length(self) -> int:
        """T: steps per episode."""
        return self.classes * self.presentations

    @property
    def pixels(self) -> int:
        return self.size * self.size

    @property
    def input_width(self) -> int:
        """X: the flattened sample and the previous step's one-hot label."""
        return self.pixels + self.classes

    def class_count(self, split: str) -> int:
        glyphs = self.train_glyphs if split == "train" else self.test_glyphs
        return glyphs * ROTATIONS


@dataclass(frozen=True)
class Episodes:
    """A batch of B episodes of T steps, sequence-first like the kernels.

    inputs [T, B, X] (float32), samples [T, B, size, size], labels [T, B] (int64, the answer
    of each step), presentation [T, B] (1 = the first time this episode shows the class),
    classes [T, B] (the class number within its split)."""

    inputs: np.ndarray
    samples: np.ndarray
    labels: np.ndarray
    presentation: np.ndarray
    classes: np.ndarray
    split: str


@cache
def glyph_strokes(spec: GlyphSpec, split: str, glyph: int) -> np.ndarray:
    """[S, 3, 2] control points (start, bend, end) in the unit square of glyph `glyph`
    (read-only; cached: an alphabet is a few thousand small arrays)."""
    rng = np.random.default_rng([spec.alphabet_seed, SPLITS.index(split), glyph])
    count = int(rng.integers(spec.min_strokes, spec.max_strokes + 1))
    strokes = np.empty((count, 3, 2))
    pen = rng.uniform(0.2, 0.8, 2)
    for s in range(count):
        if s and rng.random() < 0.5:  # lift the pen: start elsewhere
            pen = rng.uniform(0.2, 0.8, 2)
        angle = rng.uniform(0, 2 * math.pi)
        length = rng.uniform(0.3, 0.6)
        end = np.clip(pen + length * np.array([math.cos(angle), math.sin(angle)]), 0.12, 0.88)
        normal = np.array([-(end - pen)[1], (end - pen)[0]])
        bend = (pen + end) / 2 + normal * rng.normal(0.0, 0.6)
        strokes[s] = pen, np.clip(bend, 0.05, 0.95), end
        pen = end
    strokes.setflags(write=False)
    return strokes


@cache
def class_strokes(spec: GlyphSpec, split: str, cls: int) -> np.ndarray:
    """[max_strokes, 3, 2] control points of class `cls` centred on 0 (glyph cls // 4 turned by
    (cls % 4) x 90 degrees; strokes past the glyph's own are NaN). Read-only, cached."""
    glyph, quarter = divmod(int(cls), ROTATIONS)
    strokes = glyph_strokes(spec, split, glyph) - 0.5
    for _ in range(quarter):  # (x, y) -> (-y, x): a quarter turn, clockwise on screen
        strokes = np.stack([-strokes[..., 1], strokes[..., 0]], -1)
    out = np.full((spec.max_strokes, 3, 2), np.nan)
    out[: strokes.shape[0]] = strokes
    out.setflags(write=False)
    return out


def distort(spec: GlyphSpec, strokes: np.ndarray, rng) -> np.ndarray:
    """[n, S, 3, 2] centred control points -> the same in pixel coordinates (x across, y
    down), each sample's jittered, tilted, scaled and shifted on its own."""
    n = strokes.shape[0]
    centred = strokes + rng.normal(0.0, spec.jitter, strokes.shape)
    tilt = np.radians(rng.uniform(-spec.tilt, spec.tilt, n))
    scale = rng.uniform(0.9, 1.1, n)
    cos, sin = np.cos(tilt) * scale, np.sin(tilt) * scale
    turn = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)  # [n, 2, 2]
    shift = rng.uniform(-spec.shift, spec.shift, (n, 1, 1, 2))
    return (np.einsum("nij,nskj->nski", turn, centred) + 0.5) * spec.size + shift


def render(strokes: np.ndarray, size: int) -> np.ndarray:
    """[n, S, 3, 2] control points in pixel coordinates (NaN strokes: none) -> [n, size,
    size] ink 0..1 (float32).

    Each curve is CURVE_POINTS points, each adding a Gaussian weighted by the length of curve
    it stands for (kernels/splat.py); ink = 1 - exp(-density) saturates where strokes
    cross."""
    density = np.zeros((strokes.shape[0], size, size), np.float32)
    draw_curves(np.ascontiguousarray(strokes, np.float64), CURVE_POINTS, INK, INK_SIGMA, density)
    return -np.expm1(-density)


def add_noise(spec: GlyphSpec, images: np.ndarray, rng) -> np.ndarray:
    if spec.noise <= 0:
        return images
    noise = rng.standard_normal(images.shape, dtype=np.float32)
    noise *= np.float32(spec.noise)
    return np.clip(images + noise, 0.0, 1.0)


def class_samples(spec: GlyphSpec, split: str, cls: int, count: int, rng) -> np.ndarray:
    """`count` samples [count, size, size] of class `cls` of `split`."""
    strokes = np.broadcast_to(class_strokes(spec, split, cls), (count, spec.max_strokes, 3, 2))
    return add_noise(spec, render(distort(spec, strokes, rng), spec.size), rng)


def make_episodes(spec: GlyphSpec, split: str, rng, batch: int) -> Episodes:
    """`batch` episodes of `split`'s classes, all random choices from `rng`. The samples of
    all episodes are distorted and rendered in one go (a loop per class was most of the
    time a training update took)."""
    T, C, S = spec.length, spec.classes, spec.size
    chosen = np.stack([rng.choice(spec.class_count(split), C, replace=False) for _ in range(batch)])
    label_of = np.stack([rng.permutation(C) for _ in range(batch)])  # [B, C]
    order = np.stack(
        [rng.permutation(np.repeat(np.arange(C), spec.presentations)) for _ in range(batch)], 1
    )  # [T, B]: which of the episode's classes each step shows
    columns = np.arange(batch)[None, :]
    classes = chosen[columns, order]
    labels = label_of[columns, order]
    seen = np.zeros((T, batch, C), np.int64)  # n-th presentation: earlier steps of the class + 1
    seen[np.arange(T)[:, None], columns, order] = 1
    presentation = np.take_along_axis(seen.cumsum(0), order[..., None], -1)[..., 0]
    protos = np.stack(
        [[class_strokes(spec, split, c) for c in row] for row in chosen]
    )  # [B, C, S, 3, 2]
    strokes = protos[columns, order].reshape(T * batch, spec.max_strokes, 3, 2)
    samples = render(distort(spec, strokes, rng), S)
    samples = add_noise(spec, samples, rng).reshape(T, batch, S, S)
    inputs = np.zeros((T, batch, spec.input_width), np.float32)
    inputs[:, :, : spec.pixels] = samples.reshape(T, batch, -1)
    label_in = inputs[1:, :, spec.pixels :]  # the label of step t - 1, one-hot, at step t
    label_in[np.arange(T - 1)[:, None], columns, labels[:-1]] = 1.0
    return Episodes(inputs, samples, labels, presentation, classes, split)


def batch_for_update(spec: GlyphSpec, seed: int, update: int, batch: int) -> Episodes:
    """The training episodes of update k: a pure function of (seed, k)."""
    return make_episodes(spec, "train", np.random.default_rng([seed, update]), batch)


def eval_episodes(spec: GlyphSpec, split: str, first: int, batch: int) -> Episodes:
    """Evaluation episodes first .. first + batch - 1 of `split`: the same for every seed
    of a sweep (they depend on the alphabet only), one generator per episode so that any
    batching gives the same episodes."""
    parts = [
        make_episodes(
            spec,
            split,
            np.random.default_rng([spec.alphabet_seed, EVAL_STREAM, SPLITS.index(split), i]),
            1,
        )
        for i in range(first, first + batch)
    ]
    return Episodes(
        np.concatenate([p.inputs for p in parts], 1),
        np.concatenate([p.samples for p in parts], 1),
        np.concatenate([p.labels for p in parts], 1),
        np.concatenate([p.presentation for p in parts], 1),
        np.concatenate([p.classes for p in parts], 1),
        split,
    )
