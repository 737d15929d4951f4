"""`tui-lab bench`'s machine line and its plain-numpy LSTM (the yardstick it prints)."""

import numpy as np

from kernels import lstm
from tui_lab import bench_machine


def test_the_numpy_lstm_is_torch_s_lstm_as_our_kernel_computes_it():
    rng = np.random.default_rng(3)
    p = {k: v.astype(np.float64) for k, v in bench_machine.lstm_params(5, 7, rng).items()}
    x = rng.standard_normal((6, 3, 5))
    h0 = rng.standard_normal((3, 7)) * 0.5
    c0 = rng.standard_normal((3, 7)) * 0.5
    want = lstm.forward(x, h0, c0, p).out
    got = bench_machine.numpy_lstm_forward(x, h0, c0, *p.values())
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_blas_info_names_the_library_and_its_threads():
    info = bench_machine.blas_info()
    assert info["library"] in ("openblas", "mkl", "blis", "accelerate", "unknown")
    assert isinstance(info["threads"], int)


def test_rows_per_shape_with_rates(monkeypatch):
    monkeypatch.setattr(bench_machine, "SHAPES", ((1, 4, 8), (2, 3, 5)))
    rows = bench_machine.lstm_rows(quick=True, sgemm=10.0)
    assert [row["B, I, H"] for row in rows] == ["1, 4, 8", "2, 3, 5"]
    for row in rows:
        assert row["fwd ms"] > 0 and row["numpy fwd ms"] > 0 and row["GFLOP/s"] > 0
        assert row["vs numpy"] == f"{row['numpy fwd ms'] / row['fwd ms']:.1f}x"
        assert row["of sgemm"] == f"{100 * row['GFLOP/s'] / 10.0:.0f}%"
    assert bench_machine.sgemm_gflops(size=64, quick=True) > 0
