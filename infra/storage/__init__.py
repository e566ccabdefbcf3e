"""The storage port: where a render's files are kept and how a browser gets them.

Keys are relative paths such as "renders/<id>/clip.mp4". Locally they are files
under the data folder, served by the website itself; on Google Cloud, objects in a
bucket reached through signed URLs.
"""

from __future__ import annotations

import abc
from pathlib import Path


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

    def local_file(self, key: str) -> Path | None:
        """The file on this machine that the site serves itself (where there is no download
        URL), or None when the file lives elsewhere or is not there."""
        return None

    @abc.abstractmethod
    def read_bytes(self, key: str) -> bytes | None:
        """A small file's whole content (subtitles the site serves from its own origin, which
        a <track> needs), or None when there is no such file."""

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def check(self) -> None:
        """Raises when stored files cannot be reached now (readiness)."""
