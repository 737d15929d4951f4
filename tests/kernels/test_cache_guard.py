"""_cache_guard: Numba cache files go when any kernel source changes, and only then."""

from kernels._cache_guard import drop_stale_caches


def make_tree(root):
    (root / "sub" / "__pycache__").mkdir(parents=True)
    (root / "helper.py").write_text("X = 1\n")
    (root / "sub" / "kernel.py").write_text("Y = 2\n")
    cache = root / "sub" / "__pycache__" / "kernel.f-10.py311.nbi"
    cache.write_text("index")
    return cache


def test_first_sight_drops_caches_then_keeps_them(tmp_path):
    cache = make_tree(tmp_path)
    stamp = tmp_path / "__pycache__" / "stamp"
    assert drop_stale_caches(tmp_path, stamp) is True
    assert not cache.exists()
    cache.write_text("index")  # compiled again with these sources
    assert drop_stale_caches(tmp_path, stamp) is False
    assert cache.exists()


def test_an_edit_in_another_file_drops_the_caches(tmp_path):
    cache = make_tree(tmp_path)
    stamp = tmp_path / "__pycache__" / "stamp"
    drop_stale_caches(tmp_path, stamp)
    cache.write_text("index")
    data = tmp_path / "sub" / "__pycache__" / "kernel.f-10.py311.1.nbc"
    data.write_text("code")
    (tmp_path / "helper.py").write_text("X = 3\n")  # same size, other bytes
    assert drop_stale_caches(tmp_path, stamp) is True
    assert not cache.exists() and not data.exists()
