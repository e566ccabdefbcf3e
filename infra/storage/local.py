"""Clips as files under one folder: the embedded twin of Cloud Storage (infra.storage.gcs)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from infra.storage import Storage


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

    def local_file(self, key: str) -> Path | None:
        path = self.path_for(key)
        return path if path.is_file() else None

    def size(self, key: str) -> int | None:
        path = self.path_for(key)
        return path.stat().st_size if path.is_file() else None

    def read_bytes(self, key: str) -> bytes | None:
        path = self.path_for(key)
        return path.read_bytes() if path.is_file() else None

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-") as probe:
            probe.write(b"ok")
            probe.flush()
            if Path(probe.name).read_bytes() != b"ok":
                raise OSError("a file just written could not be read back")
