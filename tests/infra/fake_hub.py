"""A local fake of the model hub's HTTP API, as huggingface_hub's real client speaks it:
the model info with file metadata (GET /api/models/<repo>/revision/<revision>?blobs=true)
and file downloads (HEAD and GET /<repo>/resolve/<commit>/<path>, with the X-Repo-Commit,
ETag, X-Linked-Etag and X-Linked-Size headers the hub sends). It serves tiny files under
the real repo ids and paths, and can publish a checksum that its bytes do not match."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from werkzeug import Request, Response

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeFile:
    content: bytes
    lfs: bool
    published: bytes | None = None  # what the hub's checksum is of, when not the content

    def metadata(self, path: str) -> dict:
        published = self.published if self.published is not None else self.content
        if self.lfs:
            sha256 = hashlib.sha256(published).hexdigest()
            return {"rfilename": path, "size": len(published), "blobId": hashlib.sha1(b"pointer").hexdigest(),
                    "lfs": {"sha256": sha256, "size": len(published), "pointerSize": 134}}  # fmt: skip
        blob = hashlib.sha1(f"blob {len(published)}\0".encode() + published).hexdigest()
        return {"rfilename": path, "size": len(published), "blobId": blob}

    def etag(self) -> str:
        return self.metadata("")["lfs"]["sha256"] if self.lfs else self.metadata("")["blobId"]


@dataclass
class FakeHub:
    repos: dict[str, dict[str, FakeFile]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)

    def add(self, repo_id: str, path: str, content: bytes) -> None:
        lfs = path.endswith(".safetensors")
        self.repos.setdefault(repo_id, {})[path] = FakeFile(content, lfs)

    def downloads(self) -> list[str]:
        return [path for method, path in self.requests if "/resolve/" in path]

    def __call__(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        info = re.fullmatch(r"/api/models/(?P<repo>[^/]+/[^/]+)/revision/(?P<revision>[^/]+)", request.path)
        if info and request.method == "GET":
            files = self.repos.get(info["repo"])
            if files is None:
                return Response(json.dumps({"error": "Repository not found"}), 404, content_type="application/json")
            body = {"id": info["repo"], "sha": COMMIT, "siblings": [f.metadata(p) for p, f in files.items()]}
            return Response(json.dumps(body), content_type="application/json")
        resolve = re.fullmatch(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<path>.+)", request.path)
        if resolve and request.method in ("HEAD", "GET"):
            file = self.repos.get(resolve["repo"], {}).get(resolve["path"])
            if file is None or resolve["revision"] not in (COMMIT, "main"):
                return Response("Entry not found", 404, headers={"X-Error-Code": "EntryNotFound"})
            headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{file.etag()}"', "Accept-Ranges": "bytes"}
            if file.lfs:
                headers |= {"X-Linked-Etag": f'"{file.etag()}"', "X-Linked-Size": str(len(file.content))}
            content = b"" if request.method == "HEAD" else file.content
            response = Response(content, 200, headers=headers, content_type="application/octet-stream")
            response.headers["Content-Length"] = str(len(file.content))
            return response
        return Response("not found", 404)
