"""The storage port: where a render's files are kept and how a browser gets them.

Keys are relative paths such as "renders/<id>/clip.mp4". Locally they are files
under the data folder, served by the website itself; on Google Cloud, objects in a
bucket reached through signed URLs.
"""

from __future__ import annotations

import abc
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath


class Storage(abc.ABC):
    @abc.abstractmethod
    def put_file(self, key: str, source: Path, content_type: str) -> bool:
        """Stores a file under `key`; readers see the whole file or nothing. The first
        complete copy stays: a retried render never overwrites a finished file. Returns
        False when a copy was already there."""

    @abc.abstractmethod
    def size(self, key: str) -> int | None:
        """The file's size in bytes, or None when there is no such file."""

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def download_url(self, key: str, filename: str | None = None) -> str | None:
        """Where a browser fetches the file directly, or None when the site serves it itself."""
        return None

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def check(self) -> None:
        """Raises when stored files cannot be reached now (readiness)."""


class LocalStorage(Storage):
    """Files under one folder."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """The file behind a key; refuses keys that would leave the folder."""
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"invalid storage key: {key!r}")
        return self.root.joinpath(*relative.parts)

    def put_file(self, key: str, source: Path, content_type: str) -> bool:
        target = self.path_for(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        shutil.copyfile(source, partial)
        try:
            os.link(partial, target)  # fails if the target exists: no clobbering, no half file
            return True
        except FileExistsError:
            return False
        finally:
            partial.unlink(missing_ok=True)

    def size(self, key: str) -> int | None:
        path = self.path_for(key)
        return path.stat().st_size if path.is_file() else None

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-") as probe:
            probe.write(b"ok")
            probe.flush()
            if Path(probe.name).read_bytes() != b"ok":
                raise OSError("a file just written could not be read back")
