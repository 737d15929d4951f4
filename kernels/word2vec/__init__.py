"""Word2Vec kernels: CBOW and skip-gram, full softmax and negative sampling, Hogwild training.

- core:    the update for one example (shared by training and the stepping UI), update_pair
- pair:    forward/backward of one example as a readable trace (the notes' equations), for the
           screen and tests
- hogwild: the parallel training kernel over chunks of sentences
- tables:  negative-sampling table, subsampling thresholds, sigmoid tables, chunk seeds
- trainer: Trainer, the numpy-level driver that owns W, W' and the tables and trains blocks
"""

from kernels.word2vec.core import update_pair
from kernels.word2vec.pair import PairTrace, backward, forward
from kernels.word2vec.trainer import Trainer

__all__ = ["PairTrace", "Trainer", "backward", "forward", "update_pair"]
