"""Word2Vec speed and quality: tui-lab's kernels side by side with gensim on one corpus.

    python scripts/bench_vs_gensim.py [--epochs 20] [--seeds 0 1 2] [--workers 2]
                                      [--arch skipgram cbow] [--ours-shared on off]

Corpus: gensim's own test data, the Lee background corpus plus the shortened English
Wikipedia dump (about 0.5 M tokens), tokenised once by tui_lab.tasks.corpus and cached as one
document per line. Both implementations start from that file. Settings as issue 16:
dimension 100, window 5, negative 5, sample 1e-3, min_count 5, alpha 0.025, skip-gram and
CBOW, the same number of workers.

Speed is WALL time, start-up and corpus reading included: each training run is a fresh
Python process, timed from just before it is started until it has trained every epoch
(perf_counter is the system-wide monotonic clock on Linux, so parent and child read the same
clock). Inside, ours imports kernels + the corpus reader, reads, tokenises and counts the
file (tui_lab.tasks.corpus.load_corpus) and trains; gensim imports gensim, reads the file
with its LineSentence into memory (gensim's usual form; --gensim-input corpus_file uses its
file-based mode instead), builds its vocabulary and trains. The figure is raw corpus tokens x
epochs / wall seconds. Runs alternate (ours, gensim) per seed, so that load from other
processes hits both alike; the ratio of each pair is reported and their median is the figure
to read. One untimed one-epoch run of each comes first, so that Numba's cache is filled (a
cold cache compiles for a minute) and both read the file from the page cache. Editing any
file under kernels/ while this runs drops Numba's caches (kernels/_cache_guard.py) and the
next run of ours compiles: on a shared checkout, run the script from a copy (git archive).

Quality, scored after the timer stops by the same code for both (tui_lab.embeddings):
Spearman rho on wordsim353 and accuracy on questions-words.txt over the covered questions,
mean and spread over the seeds.

gensim is needed for this script only (tui-lab never imports it).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = dict(dim=100, window=5, negative=5, sample=1e-3, min_count=5, alpha=0.025)


def test_data(name: str) -> Path:
    from gensim.test.utils import datapath

    return Path(datapath(name))


def build_corpus(cache: Path) -> Path:
    path = cache / "lee_wiki.txt"
    if path.exists():
        return path
    from gensim.corpora.wikicorpus import WikiCorpus

    from tui_lab.tasks.corpus import tokenize

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


# ---- one run, in its own process ---------------------------------------------------------


def run_ours(path: Path, sg: bool, seed: int, epochs: int, workers: int, shared: bool):
    import numpy as np  # noqa: F401  (part of what the timed start-up pays for)

    from kernels.word2vec import Trainer
    from tui_lab.tasks.corpus import load_corpus

    vocab, corpus = load_corpus(path, min_count=SETTINGS["min_count"])
    trainer = Trainer(
        vocab.counts, corpus.ids, corpus.sent_starts, dim=SETTINGS["dim"],
        window=SETTINGS["window"], negative=SETTINGS["negative"], sg=sg,
        sample=SETTINGS["sample"], alpha=SETTINGS["alpha"], epochs=epochs, seed=seed,
        workers=workers, block_words=100_000, shared_negatives=shared,
    )  # fmt: skip
    for update in range(trainer.total_blocks):
        trainer.train_block(update)
    return time.perf_counter(), vocab.words, trainer.W_in, corpus.raw_tokens


def run_gensim(path: Path, sg: bool, seed: int, epochs: int, workers: int, gensim_input: str):
    from gensim.models import Word2Vec
    from gensim.models.word2vec import LineSentence

    options = dict(
        vector_size=SETTINGS["dim"], window=SETTINGS["window"], negative=SETTINGS["negative"],
        sample=SETTINGS["sample"], min_count=SETTINGS["min_count"], alpha=SETTINGS["alpha"],
        sg=int(sg), hs=0, workers=workers, seed=seed, epochs=epochs,
    )  # fmt: skip
    if gensim_input == "corpus_file":
        model = Word2Vec(corpus_file=str(path), **options)
    else:
        model = Word2Vec(list(LineSentence(str(path))), **options)
    return time.perf_counter(), model.wv.index_to_key, model.wv.vectors, model.corpus_total_words


def child(args) -> None:
    """Train once, print the end-of-training clock, then score the vectors (untimed)."""
    sg = args.arch == "skipgram"
    if args.child == "ours":
        end, words, vectors, tokens = run_ours(
            args.corpus, sg, args.seed, args.epochs, args.workers, args.shared == "on"
        )
    else:
        end, words, vectors, tokens = run_gensim(
            args.corpus, sg, args.seed, args.epochs, args.workers, args.gensim_input
        )
    from tui_lab.embeddings import KeyedVectors, read_analogy_questions, read_word_pairs

    kv = KeyedVectors(words, vectors)
    rho = kv.evaluate_word_pairs(read_word_pairs(test_data("wordsim353.tsv")))["spearman"]
    analogies = kv.evaluate_analogies(read_analogy_questions(test_data("questions-words.txt")))
    result = {"end": end, "tokens": int(tokens), "spearman": rho, **analogies}
    print(json.dumps(result))


def timed_run(args, name: str, arch: str, seed: int, shared: str, epochs: int = 0) -> dict:
    epochs = epochs or args.epochs
    command = [
        sys.executable, __file__, "--child", name, "--corpus", str(args.corpus_path),
        "--arch", arch, "--seed", str(seed), "--epochs", str(epochs),
        "--workers", str(args.workers), "--shared", shared, "--gensim-input", args.gensim_input,
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} run failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_s"] = result["end"] - start
    result["words_per_sec"] = result["tokens"] * epochs / result["wall_s"]
    return result


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
    parser.add_argument("--ours-shared", nargs="+", default=["on"], choices=["on", "off"],
                        help="Trainer(shared_negatives=...) settings to run")  # fmt: skip
    parser.add_argument("--gensim-input", default="sentences", choices=["sentences", "corpus_file"])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "tui-lab-bench")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    # one run in this process (what the parent starts)
    parser.add_argument("--child", choices=["ours", "gensim"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--shared", default="on", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.arch = args.arch[0]
        child(args)
        return

    args.corpus_path = build_corpus(args.cache)
    print(f"corpus {args.corpus_path}; gensim input: {args.gensim_input}", flush=True)
    results = {}
    for arch in args.arch:
        for shared in args.ours_shared:
            label = f"{arch} shared={shared}"
            rows = {"ours": [], "gensim": []}
            for name in ("ours", "gensim"):  # untimed: fill Numba's cache and the page cache
                timed_run(args, name, arch, 0, shared, epochs=1)
            for seed in args.seeds:
                for name in ("ours", "gensim") if seed % 2 == 0 else ("gensim", "ours"):
                    result = timed_run(args, name, arch, seed, shared)
                    rows[name].append(result)
                    print(
                        f"{label:20} seed {seed} {name:6} wall {result['wall_s']:6.2f} s "
                        f"{result['words_per_sec'] / 1e6:6.3f} M words/s  wordsim353 rho "
                        f"{result['spearman']:.3f}  analogy {result['accuracy']:.4f} "
                        f"({result['covered']} covered)",
                        flush=True,
                    )
            table = {}
            for name, values in rows.items():
                table[name] = {
                    key: summary([v[key] for v in values])
                    for key in ("wall_s", "words_per_sec", "spearman", "accuracy")
                }
            ratios = [
                o["words_per_sec"] / g["words_per_sec"]
                for o, g in zip(rows["ours"], rows["gensim"], strict=True)
            ]
            table["speed_ratios"] = ratios
            table["speed_ratio_median"] = statistics.median(ratios)
            results[label] = table
    print()
    print(f"{'':34}{'wall s':>16}{'M words/s':>16}{'wordsim353 rho':>18}{'analogy acc':>18}")
    for label, table in results.items():
        for name in ("ours", "gensim"):
            cells = []
            for key, (mean, spread) in table[name].items():
                scale = 1e6 if key == "words_per_sec" else 1
                cells.append(f"{mean / scale:.3f} ± {spread / scale:.3f}")
            print(f"{label:26}{name:8}" + "".join(f"{c:>17}" for c in cells))
        ratios = ", ".join(f"{r:.2f}" for r in table["speed_ratios"])
        print(f"{label:26}wall-time ratio ours / gensim: median "
              f"{table['speed_ratio_median']:.2f} ({ratios})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
