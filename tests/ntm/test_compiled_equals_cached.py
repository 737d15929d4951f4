"""The NTM kernels give the same bits whether this process compiled them or loaded them from
Numba's cache: the first run after a fresh install must train to the numbers of every later
run (kernels/ntm/flags.py says why "contract" is not among the flags)."""

import os
import subprocess
import sys

import numpy as np

SCRIPT = """
import sys
import numpy as np
from kernels.ntm import NTMShape, backward, forward, init_params

shape = NTMShape(9, 8)  # the copy preset: smaller shapes did not show the difference
rng = np.random.default_rng(0)
flat = init_params(shape, rng, np.float32)
x = rng.integers(0, 2, (41, 1, 9)).astype(np.float32)
y = rng.integers(0, 2, (41, 1, 8)).astype(np.float32)
trace = forward(shape, flat, x)
_, grads = backward(trace, y, np.ones((41, 1), np.float32), threaded=False)
np.save(sys.argv[1], np.concatenate([trace.logits.ravel(), grads["flat"]]))
"""


def test_fresh_compile_and_cache_load_agree_bit_for_bit(tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), PYTHONPATH=root)
    outputs = []
    for run in ("compiled", "cached"):
        out = tmp_path / f"{run}.npy"
        subprocess.run([sys.executable, "-c", SCRIPT, str(out)], env=env, check=True, timeout=600)
        outputs.append(np.load(out))
    assert any((tmp_path / "cache").rglob("*.nbi")), "the second run had no cache to load"
    np.testing.assert_array_equal(outputs[0], outputs[1])
