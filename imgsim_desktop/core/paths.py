# SPDX-License-Identifier: Apache-2.0
"""Where the application keeps its own files.

Everything imgsim makes lives under one root: the platform's user data folder (platformdirs), or
the folder named by the ``IMGSIM_HOME`` environment variable for portable use and tests. Each case
gets its own folder there, keyed by the case folder's absolute path. Nothing is ever written into a
case folder.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import platformdirs

APP_NAME = "imgsim-desktop"
HOME_ENV = "IMGSIM_HOME"


def app_home() -> Path:
    """The root of everything imgsim writes (created with mode 0700)."""
    override = os.environ.get(HOME_ENV)
    root = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    return ensure_dir(root)


def app_cache_dir() -> Path:
    """Disposable files (pasted query images, thumbnails): the user cache folder, or
    ``$IMGSIM_HOME/cache`` when IMGSIM_HOME is set. Marked with a CACHEDIR.TAG."""
    override = os.environ.get(HOME_ENV)
    root = (
        Path(override).expanduser() / "cache"
        if override
        else Path(platformdirs.user_cache_dir(APP_NAME))
    )
    ensure_dir(root)
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# imgsim-desktop cache\n")
    return root


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only; return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def case_key(case_root: Path) -> str:
    """A stable folder name for a case: a readable slug plus a hash of its absolute path."""
    absolute = os.fsencode(os.path.abspath(case_root))
    digest = hashlib.sha256(absolute).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", case_root.name)[:40] or "case"
    return f"{slug}-{digest}"


def case_data_dir(case_root: Path) -> Path:
    """The folder holding one case's catalogue and indexes (not created here)."""
    return app_home() / "cases" / case_key(case_root)


def is_inside(path: Path, folder: Path) -> bool:
    """True when ``path`` is ``folder`` or lies below it, after resolving links."""
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def display_path(relpath: bytes) -> str:
    """A relative path for people and JSON ('/' separated; undecodable bytes escaped)."""
    return relpath.decode("utf-8", errors="backslashreplace")


def to_relpath(path: Path, root: Path) -> bytes:
    """Raw bytes of ``path`` relative to ``root`` with '/' separators."""
    return os.fsencode(os.path.relpath(path, root)).replace(os.fsencode(os.sep), b"/")


def printable(path: str | os.PathLike[str]) -> str:
    """A file system path as text any writer can encode: bytes that are not valid UTF-8 (kept by
    Python as lone surrogates) are shown as ``\\xNN`` escapes, as :func:`display_path` does."""
    return os.fsencode(path).decode("utf-8", errors="backslashreplace")
