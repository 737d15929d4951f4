"""Drop Numba's on-disk caches when any kernel source changed.

Numba keys a cached function by its own file's size and timestamp only. A kernel that calls
(and inlines) helpers from another file keeps the old machine code after those helpers change:
edit kernels/_common.py or kernels/ntm/linear.py and the NTM episode kernel silently runs the
previous version. A fingerprint of every source under kernels/ is kept next to the caches;
when it differs, every cache file under kernels/ is deleted before anything compiles.

Limits: caches kept elsewhere (NUMBA_CACHE_DIR, or Numba's per-user directory when the package
directory is read-only) are not cleaned; an installed package's files all change together, so
Numba's own timestamp check covers those.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent
STAMP = ROOT / "__pycache__" / "numba-sources.sha1"


def sources_fingerprint(root: Path = ROOT) -> str:
    """sha1 over the relative path and bytes of every .py file under root."""
    digest = hashlib.sha1()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def drop_stale_caches(root: Path = ROOT, stamp: Path = STAMP) -> bool:
    """Delete root's *.nbi / *.nbc files if the sources changed since the stamp; True if so."""
    fingerprint = sources_fingerprint(root)
    try:
        if stamp.read_text() == fingerprint:
            return False
    except OSError:
        pass
    try:
        for cache_file in [*root.rglob("*.nbi"), *root.rglob("*.nbc")]:
            cache_file.unlink(missing_ok=True)
        stamp.parent.mkdir(exist_ok=True)
        tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
        tmp.write_text(fingerprint)
        os.replace(tmp, stamp)
    except OSError:  # a read-only install: nothing to clean here
        return False
    return True
