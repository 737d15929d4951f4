"""Word2Vec speed and quality: tui-lab's kernels side by side with gensim on one corpus.

    python scripts/bench_vs_gensim.py [--epochs 20] [--seeds 0 1 2] [--workers 2]

Corpus: gensim's own test data, the Lee background corpus plus the shortened English
Wikipedia dump (about 0.5 M tokens), tokenised once by tui_lab.tasks.corpus and cached as one
document per line; both implementations train on exactly these token lists (lines cut at
10,000 tokens). Settings as the issue: dimension 100, window 5, negative 5, sample 1e-3,
min_count 5, alpha 0.025, skip-gram and CBOW, the same number of workers.

Speed: raw corpus tokens x epochs / training seconds (vocabulary building and JIT compile
excluded for both). Runs alternate (ours, gensim) per seed so that load from other processes
hits both alike, and --speed-reps short runs add more pairs; the median ratio of all pairs is
the figure to read. Quality, scored by the same code for both
(tui_lab.embeddings): Spearman rho on wordsim353 and accuracy on questions-words.txt over
the covered questions, mean and spread over the seeds.

gensim is needed for this script only (tui-lab never imports it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from kernels.word2vec import Trainer
from tui_lab.embeddings import KeyedVectors, read_analogy_questions, read_word_pairs
from tui_lab.tasks.corpus import iter_file_sentences, load_corpus, tokenize

SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025)


def test_data(name: str) -> Path:
    from gensim.test.utils import datapath

    return Path(datapath(name))


def build_corpus(cache: Path) -> Path:
    path = cache / "lee_wiki.txt"
    if path.exists():
        return path
    from gensim.corpora.wikicorpus import WikiCorpus

    cache.mkdir(parents=True, exist_ok=True)
    lines = []
    for line in test_data("lee_background.cor").read_text(encoding="utf-8").splitlines():
        lines.append(" ".join(tokenize(line)))
    wiki = WikiCorpus(
        str(test_data("enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")),
        dictionary={},
        processes=1,
    )
    for tokens in wiki.get_texts():
        lines.append(" ".join(tokenize(" ".join(tokens))))
    path.write_text("\n".join(line for line in lines if line) + "\n", encoding="utf-8")
    return path


def train_ours(vocab, corpus, sg, seed, epochs, workers):
    trainer = Trainer(
        vocab.counts, corpus.ids, corpus.sent_starts, dim=SETTINGS["dim"],
        window=SETTINGS["window"], negative=SETTINGS["negative"], sg=sg,
        sample=SETTINGS["sample"], alpha=SETTINGS["alpha"], epochs=epochs, seed=seed,
        workers=workers, block_words=100_000,
    )  # fmt: skip
    start = time.perf_counter()
    for update in range(trainer.total_blocks):
        trainer.train_block(update)
    seconds = time.perf_counter() - start
    return KeyedVectors(vocab.words, trainer.W_in), seconds


def train_gensim(sentences, sg, seed, epochs, workers):
    from gensim.models import Word2Vec

    model = Word2Vec(
        vector_size=SETTINGS["dim"], window=SETTINGS["window"], negative=SETTINGS["negative"],
        sample=SETTINGS["sample"], min_count=SETTINGS["min_count"], alpha=SETTINGS["alpha"],
        sg=int(sg), hs=0, workers=workers, seed=seed,
    )  # fmt: skip
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    seconds = time.perf_counter() - start
    words = model.wv.index_to_key
    return KeyedVectors(words, model.wv.vectors), seconds


def warm_up():
    """Compile (or load from Numba's cache) both kernels before any timing."""
    for sg in (True, False):
        Trainer(np.array([3, 2, 1]), np.array([0, 1, 2, 0]), np.array([0, 4]), sg=sg).train_block(0)


def summary(values):
    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return mean, spread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--arch", nargs="+", default=["skipgram", "cbow"])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "tui-lab-bench")
    parser.add_argument("--speed-reps", type=int, default=5, help="extra short timed runs")
    parser.add_argument("--speed-epochs", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    path = build_corpus(args.cache)
    vocab, corpus = load_corpus(path, min_count=SETTINGS["min_count"])
    sentences = list(iter_file_sentences(path))
    pairs = read_word_pairs(test_data("wordsim353.tsv"))
    questions = read_analogy_questions(test_data("questions-words.txt"))
    print(f"corpus {path}: {corpus.raw_tokens:,} tokens, {len(vocab):,} words (min_count 5)")
    warm_up()
    results = {}
    for arch in args.arch:
        sg = arch == "skipgram"
        rows = {"ours": [], "gensim": []}
        for seed in args.seeds:
            for name in ("ours", "gensim") if seed % 2 == 0 else ("gensim", "ours"):
                if name == "ours":
                    kv, seconds = train_ours(vocab, corpus, sg, seed, args.epochs, args.workers)
                else:
                    kv, seconds = train_gensim(sentences, sg, seed, args.epochs, args.workers)
                speed = corpus.raw_tokens * args.epochs / seconds
                rho = kv.evaluate_word_pairs(pairs)["spearman"]
                analogies = kv.evaluate_analogies(questions)
                rows[name].append((speed, rho, analogies["accuracy"], analogies["covered"]))
                print(f"{arch:8} seed {seed} {name:6} {speed / 1e6:6.3f} M words/s  "
                      f"wordsim353 rho {rho:.3f}  analogy {analogies['accuracy']:.4f} "
                      f"({analogies['covered']} covered)", flush=True)  # fmt: skip
        results[arch] = {}
        for name, values in rows.items():
            speed, rho, acc = (summary([v[i] for v in values]) for i in range(3))
            results[arch][name] = {"words_per_sec": speed, "spearman": rho, "analogy": acc}
        ratios = [o[0] / g[0] for o, g in zip(rows["ours"], rows["gensim"], strict=True)]
        # Short runs back to back, alternating who goes first: the median ratio is the figure
        # least disturbed by other processes on a shared machine.
        for rep in range(args.speed_reps):
            speeds = {}
            for name in ("ours", "gensim") if rep % 2 == 0 else ("gensim", "ours"):
                if name == "ours":
                    _, seconds = train_ours(vocab, corpus, sg, rep, args.speed_epochs, args.workers)
                else:
                    _, seconds = train_gensim(sentences, sg, rep, args.speed_epochs, args.workers)
                speeds[name] = corpus.raw_tokens * args.speed_epochs / seconds
            ratios.append(speeds["ours"] / speeds["gensim"])
            print(
                f"{arch:8} speed rep {rep}: ours {speeds['ours'] / 1e6:.3f}, gensim "
                f"{speeds['gensim'] / 1e6:.3f} M words/s, ratio {ratios[-1]:.2f}",
                flush=True,
            )
        results[arch]["speed_ratio"] = summary(ratios)
        results[arch]["speed_ratio_median"] = statistics.median(ratios)
        results[arch]["speed_ratios"] = ratios
    print()
    print(f"{'':10}{'':8}{'M words/s':>18}{'wordsim353 rho':>20}{'analogy acc':>20}")
    for arch, table in results.items():
        for name in ("ours", "gensim"):
            row = table[name]
            cells = [f"{m / (1e6 if key == 'words_per_sec' else 1):.3f} ± "
                     f"{s / (1e6 if key == 'words_per_sec' else 1):.3f}"
                     for key, (m, s) in row.items()]  # fmt: skip
            print(f"{arch:10}{name:8}" + "".join(f"{c:>20}" for c in cells))
        mean, spread = table["speed_ratio"]
        print(
            f"{arch:10}speed ratio ours / gensim over {len(table['speed_ratios'])} pairs: "
            f"median {table['speed_ratio_median']:.2f}, mean {mean:.2f} ± {spread:.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
