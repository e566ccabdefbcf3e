"""Storage on Cloud Storage: the cloud twin of infra.storage.LocalStorage.

Objects are written with `if_generation_match=0`, so an object that exists is never
replaced: a retried render keeps the first finished copy. Browsers download through
V4 signed URLs that expire within the hour and name the file to save as; on Cloud Run
the URL is signed through the service account (IAM signBlob), so no key file exists.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from functools import cache
from pathlib import Path

import google.auth
import google.auth.transport.requests
from google.api_core.exceptions import NotFound, PreconditionFailed
from google.cloud import storage  # type: ignore[attr-defined]  # ships no type information

from infra.storage import Storage

MAX_URL_LIFETIME = timedelta(hours=1)


class GcsStorage(Storage):
    def __init__(self, client: storage.Client, bucket: str, signing: dict | None = None):
        """`signing`: extra arguments for generate_signed_url, e.g. service_account_email and
        access_token on Cloud Run (signBlob), api_access_endpoint for an emulator."""
        self._bucket = client.bucket(bucket)
        self._signing = signing or {}

    def put_file(self, key: str, source: Path, content_type: str) -> bool:
        try:
            self._bucket.blob(key).upload_from_filename(str(source), content_type=content_type, if_generation_match=0)
            return True
        except PreconditionFailed:
            return False

    def size(self, key: str) -> int | None:
        blob = self._bucket.get_blob(key)
        return None if blob is None else blob.size

    def read_bytes(self, key: str) -> bytes | None:
        try:
            return self._bucket.blob(key).download_as_bytes()
        except NotFound:
            return None

    def check(self) -> None:
        list(self._bucket.client.list_blobs(self._bucket, max_results=1))  # the bucket is there and readable

    def delete(self, key: str) -> None:
        with contextlib.suppress(NotFound):
            self._bucket.blob(key).delete()

    def download_url(self, key: str, filename: str | None = None, lifetime: timedelta = MAX_URL_LIFETIME) -> str:
        """A V4 signed URL for one GET of the object, at most an hour long."""
        disposition = f'attachment; filename="{filename}"' if filename else None
        return self._bucket.blob(key).generate_signed_url(
            version="v4",
            expiration=min(lifetime, MAX_URL_LIFETIME),
            method="GET",
            response_disposition=disposition,
            **(self._signing or _service_account_signing()),
        )


def _service_account_signing() -> dict:
    """On Cloud Run: sign through IAM signBlob as the service's own account, no key file."""
    credentials = _default_credentials()
    if not credentials.valid:
        credentials.refresh(google.auth.transport.requests.Request())
    return {"service_account_email": credentials.service_account_email, "access_token": credentials.token}


@cache
def _default_credentials():
    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials
