"""Input and result files: TOML read with one clear message for each way it can be bad, and
results written so that nothing is ever half-written (temp file, fsync, rename)."""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path


def toml_from_bytes(data: bytes, source: str, what: str, error: type[Exception]) -> dict:
    """A ``what`` file's TOML table from its bytes; ``error`` names ``source`` and what is wrong."""
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise error(f"{source}: not UTF-8 text; a {what} file is TOML in UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"{source}: malformed TOML: {err}") from None


def read_toml(path: str | Path, what: str, error: type[Exception]) -> dict:
    """A ``what`` file's TOML table; ``error`` (one line naming the file) if unreadable or not TOML."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise error(f"{path}: cannot read the {what} file ({err.strerror or err})") from None
    return toml_from_bytes(data, str(path), what, error)


def _file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _file_mode()  # what open() would give under the user's umask (mkstemp gives 0600)


def atomic_write_bytes(path: Path, write: Callable[[str], None]) -> None:
    """Write a file through ``write(tmp_path)`` to a dot-named temp file beside it, then rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp-{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    atomic_write_bytes(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8", newline=""))
