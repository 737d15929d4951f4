"""Word vectors and the questions people ask them (a small, numpy-only KeyedVectors).

- most_similar(word, k): the k nearest words by cosine similarity (the word itself excluded);
- analogy(a, b, c, k): "a - b + c", e.g. king - man + woman -> queen (3CosAdd: the nearest
  words to unit(a) - unit(b) + unit(c), the three query words excluded);
- evaluate_analogies(questions): accuracy over "a b c d" lines (a : b :: c : d, asked as
  b - a + c == d), counting only questions whose four words are known (as gensim);
- evaluate_word_pairs(pairs): Spearman correlation between cosine similarity and human scores;
- answer_query(kv, text): the query box: "most_similar king", "king - man + woman", ...;
- save/load in the word2vec formats gensim's KeyedVectors.save_word2vec_format /
  load_word2vec_format use: text ("V D" header, then "word v1 ... vD" per line) and binary
  (binary=True: the same header, then per word its UTF-8 bytes, a space and D little-endian
  float32s), and as .npz. load_word2vec_format tells text from binary by itself.

Every query works on one normalised copy of the vectors, made once: a [V, D] @ [D] product.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tui_lab.files import atomic_save_npz, atomic_write_bytes, atomic_write_text


class KeyedVectors:
    """words: [V] strings; vectors: [V, D]."""

    def __init__(self, words, vectors):
        self.words = tuple(str(word) for word in words)
        self.vectors = np.asarray(vectors)
        if self.vectors.ndim != 2 or self.vectors.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words but vectors of shape {self.vectors.shape}")
        self.index = {word: i for i, word in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise ValueError("duplicate words")
        norms = np.linalg.norm(self.vectors.astype(np.float64), axis=1, keepdims=True)
        self.unit = self.vectors / np.maximum(norms, 1e-12)

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self._id(word)]

    def _id(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"{word!r} is not in the vocabulary") from None

    def similarity(self, a: str, b: str) -> float:
        return float(self.unit[self._id(a)] @ self.unit[self._id(b)])

    def nearest(self, query: np.ndarray, k: int = 10, exclude=()) -> list[tuple[str, float]]:
        """The k words whose vectors have the largest cosine with `query` [D]."""
        query = np.asarray(query, dtype=np.float64)
        query = query / max(np.linalg.norm(query), 1e-12)
        scores = self.unit @ query
        for word in exclude:
            scores[self._id(word)] = -np.inf
        k = min(k, len(self.words) - len(set(exclude)))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in top]

    def most_similar(self, word: str, k: int = 10) -> list[tuple[str, float]]:
        return self.nearest(self.unit[self._id(word)], k, exclude=(word,))

    def analogy(self, a: str, b: str, c: str, k: int = 5) -> list[tuple[str, float]]:
        """a - b + c (king - man + woman): the nearest words, query words excluded."""
        query = self.unit[self._id(a)] - self.unit[self._id(b)] + self.unit[self._id(c)]
        return self.nearest(query, k, exclude={a, b, c})

    def evaluate_analogies(self, questions) -> dict:
        """questions: (a, b, c, d) tuples meaning a : b :: c : d; asked as b - a + c.
        Returns {"accuracy", "correct", "covered", "total"} (accuracy over covered ones)."""
        covered = [q for q in questions if all(word in self.index for word in q)]
        if not covered:
            return {"accuracy": 0.0, "correct": 0, "covered": 0, "total": len(questions)}
        ids = np.asarray([[self.index[word] for word in q] for q in covered])
        correct = 0
        for start in range(0, len(ids), 512):  # bounded memory: 512 x V scores at a time
            batch = ids[start : start + 512]
            query = self.unit[batch[:, 1]] - self.unit[batch[:, 0]] + self.unit[batch[:, 2]]
            scores = query @ self.unit.T
            rows = np.arange(len(batch))
            for column in range(3):
                scores[rows, batch[:, column]] = -np.inf
            correct += int((scores.argmax(axis=1) == batch[:, 3]).sum())
        return {
            "accuracy": correct / len(covered),
            "correct": correct,
            "covered": len(covered),
            "total": len(questions),
        }

    def evaluate_word_pairs(self, pairs) -> dict:
        """pairs: (word1, word2, human score). Spearman rho over the pairs both words known."""
        known = [(a, b, s) for a, b, s in pairs if a in self.index and b in self.index]
        if len(known) < 2:
            return {"spearman": float("nan"), "covered": len(known), "total": len(pairs)}
        model = np.asarray([self.similarity(a, b) for a, b, _ in known])
        human = np.asarray([float(s) for _, _, s in known])
        return {"spearman": spearman(model, human), "covered": len(known), "total": len(pairs)}

    # ---- files ---------------------------------------------------------------
    def to_word2vec_text(self) -> str:
        lines = [f"{len(self.words)} {self.vectors.shape[1]}"]
        for word, row in zip(self.words, self.vectors, strict=True):
            lines.append(word + " " + " ".join(f"{value:.6g}" for value in row))
        return "\n".join(lines) + "\n"

    def to_word2vec_binary(self) -> bytes:
        """gensim's binary=True layout: no newline after a vector (readers skip one if
        present, as the original C tool writes it)."""
        rows = np.ascontiguousarray(self.vectors, dtype="<f4")
        parts = [f"{len(self.words)} {rows.shape[1]}\n".encode()]
        for word, row in zip(self.words, rows, strict=True):
            parts.append(word.encode("utf-8") + b" " + row.tobytes())
        return b"".join(parts)

    def save_word2vec_format(self, path: str | Path, binary: bool = False) -> None:
        """Write the word2vec text (or binary) format atomically. Words must not contain
        whitespace. Binary keeps float32 exactly; text prints 6 significant digits."""
        bad = [word for word in self.words if not word or any(ch.isspace() for ch in word)]
        if bad:
            raise ValueError(f"words with whitespace cannot be written: {bad[:3]}")
        if binary:
            atomic_write_bytes(path, self.to_word2vec_binary())
        else:
            atomic_write_text(path, self.to_word2vec_text())

    @classmethod
    def load_word2vec_format(
        cls, path: str | Path, binary: bool | None = None, dtype=np.float32
    ) -> KeyedVectors:
        """Read the word2vec text or binary format (binary=None: tell them apart from the
        file itself). Malformed files are ValueErrors naming the file and the line or word."""
        data = Path(path).read_bytes()
        newline = data.find(b"\n")
        header = data[: newline if newline >= 0 else len(data)].split()
        try:
            count, dim = int(header[0]), int(header[1])
            if len(header) != 2 or count < 0 or dim < 1:
                raise ValueError
        except (ValueError, IndexError):
            raise ValueError(f"{path}: first line must be 'count dim', got {header[:4]}") from None
        body = data[newline + 1 :]
        if binary is None:
            binary = _looks_binary(body, dim)
        if binary:
            words, vectors = _parse_binary(body, count, dim, path)
        else:
            words, vectors = _parse_text(body, count, dim, path)
        return cls(words, vectors.astype(dtype, copy=False))

    def save_npz(self, path: str | Path) -> None:
        atomic_save_npz(path, {"words": np.asarray(self.words, dtype=str), "vectors": self.vectors})

    @classmethod
    def load_npz(cls, path: str | Path) -> KeyedVectors:
        with np.load(path, allow_pickle=False) as data:
            return cls(data["words"].tolist(), data["vectors"])


def _looks_binary(body: bytes, dim: int) -> bool:
    """Text if the first vector line is UTF-8 "word" plus dim numbers; binary otherwise."""
    first = body.split(b"\n", 1)[0]
    try:
        parts = first.decode("utf-8").rstrip().split(" ")
        if len(parts) != dim + 1:
            return True
        [float(value) for value in parts[1:]]
    except (UnicodeDecodeError, ValueError):
        return True
    return False


def _parse_text(body: bytes, count: int, dim: int, path) -> tuple[list[str], np.ndarray]:
    try:
        lines = body.decode("utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text at byte {error.start}") from None
    words, vectors = [], np.empty((count, dim), dtype=np.float64)
    for i in range(count):
        # The C tool ends each line with a space; gensim does not.
        parts = lines[i].rstrip().split(" ") if i < len(lines) else [""]
        if len(parts) != dim + 1:
            raise ValueError(f"{path}: line {i + 2} has {len(parts) - 1} numbers, not {dim}")
        words.append(parts[0])
        try:
            vectors[i] = np.asarray(parts[1:], dtype=np.float64)
        except ValueError:
            raise ValueError(f"{path}: line {i + 2}: not all numbers") from None
    return words, vectors


def _parse_binary(body: bytes, count: int, dim: int, path) -> tuple[list[str], np.ndarray]:
    row_bytes = 4 * dim
    words, vectors = [], np.empty((count, dim), dtype=np.float32)
    position = 0
    for i in range(count):
        while body[position : position + 1] == b"\n":  # the C tool's newline after a vector
            position += 1
        space = body.find(b" ", position)
        if space < 0:
            raise ValueError(f"{path}: word {i + 1} of {count}: the file ends before it")
        try:
            word = body[position:space].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{path}: word {i + 1} of {count} is not UTF-8") from None
        end = space + 1 + row_bytes
        if end > len(body):
            raise ValueError(
                f"{path}: word {i + 1} of {count} ({word!r}): the file ends inside its "
                f"{dim} float32 values"
            )
        words.append(word)
        vectors[i] = np.frombuffer(body, dtype="<f4", count=dim, offset=space + 1)
        position = end
    if body[position:].strip(b"\n"):
        raise ValueError(f"{path}: {len(body) - position} bytes after the {count} vectors")
    return words, vectors


def spearman(x, y) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    rx, ry = _ranks(np.asarray(x, np.float64)), _ranks(np.asarray(y, np.float64))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    denominator = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else float("nan")


def _ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    start = 0
    while start < len(values):
        stop = start
        while stop + 1 < len(values) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2.0
        start = stop + 1
    return ranks


def read_analogy_questions(path: str | Path, lowercase: bool = True) -> list[tuple[str, ...]]:
    """questions-words.txt style: ': section' lines and 'a b c d' lines."""
    questions = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(":") or not line.strip():
                continue
            words = line.lower().split() if lowercase else line.split()
            if len(words) == 4:
                questions.append(tuple(words))
    return questions


def read_word_pairs(path: str | Path, lowercase: bool = True) -> list[tuple[str, str, float]]:
    """wordsim353.tsv style: '#' comments, then 'word1 word2 score' (tab or space)."""
    pairs = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.split()
            if len(parts) >= 3:
                a, b = (parts[0].lower(), parts[1].lower()) if lowercase else parts[:2]
                pairs.append((a, b, float(parts[2])))
    return pairs


def answer_query(kv: KeyedVectors, text: str, k: int = 8) -> str:
    """ "most_similar king", "king", "king - man + woman", "man : king :: woman : ?"."""
    text = text.strip().lower()
    if not text:
        return "ask: most_similar WORD | WORD | a - b + c | a : b :: c : ?"
    try:
        if "::" in text:
            left, right = text.split("::", 1)
            a, b = [w.strip() for w in left.split(":")]
            c = right.split(":")[0].strip()
            return _format(f"{a} : {b} :: {c} : ?", kv.analogy(b, a, c, k))
        if "+" in text or " - " in text:
            tokens = text.replace("+", " + ").replace("-", " - ").split()
            positive, negative, sign = [], [], "+"
            for token in tokens:
                if token in "+-":
                    sign = token
                else:
                    (positive if sign == "+" else negative).append(token)
            query = sum(kv.unit[kv._id(w)] for w in positive) - sum(
                (kv.unit[kv._id(w)] for w in negative), np.zeros(kv.vectors.shape[1])
            )
            return _format(text, kv.nearest(query, k, exclude=set(positive + negative)))
        parts = text.split()
        if parts[0] in ("most_similar", "similar", "nn"):
            parts = parts[1:]
        if len(parts) == 2 and parts[1].isdigit():
            return _format(f"most similar to {parts[0]}", kv.most_similar(parts[0], int(parts[1])))
        if len(parts) == 1:
            return _format(f"most similar to {parts[0]}", kv.most_similar(parts[0], k))
    except KeyError as error:
        return str(error.args[0])
    except ValueError:
        pass
    return f"cannot read {text!r}: try most_similar king, or king - man + woman"


def _format(title: str, hits) -> str:
    return title + "\n" + "\n".join(f"  {word:<16} {score:.3f}" for word, score in hits)
