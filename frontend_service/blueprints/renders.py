"""The render pages, and a render's files: served to its owner, and to anyone once it
is listed in the gallery.

Files are served with HTTP range support, so the video player can seek before the
whole clip has arrived.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import cast

from flask import Blueprint, abort, redirect, render_template, request, send_file
from flask_babel import gettext
from werkzeug.http import parse_range_header
from werkzeug.wrappers import Response

from frontend_service import services
from frontend_service.blueprints.errors import ApiError
from frontend_service.dialogue.language import transliterate
from frontend_service.identity import current_person, current_user
from infra.domain.ids import now
from infra.domain.pricing import egress_cost
from infra.domain.usage import UsageEvent

bp = Blueprint("renders", __name__, url_prefix="/renders")

FILE_TYPES = {"video": "video/mp4", "poster": "image/jpeg", "preview": "image/webp"}
# What a download may ask for: the clip as rendered, or with the book's words burned in.
DOWNLOADS = {"none": "video", "burned": "subtitled"}


@bp.get("")
def index():
    """The person's library: a card per render, newest first, with what can be done to it."""
    person = current_person()
    records, gallery = services.adapters().records, services.gallery_flow()
    items = []
    for render in records.list_renders(person.user_id):
        publication = gallery.publication(render.id) if render.state == "succeeded" else None
        items.append({"render": render, "published": bool(publication and publication.published)})
    renders_left, daily_renders = services.scene_flow().admission.renders_left(person, now())
    return render_template("renders.html", items=items, renders_left=renders_left, daily_renders=daily_renders)


@bp.get("/<render_id>")
def page(render_id: str):
    user = current_user()
    render = services.scene_flow().render(user, render_id)
    gallery = services.gallery_flow()
    owner = services.adapters().records.get_user(user)
    return render_template(
        "render.html",
        render=render,
        publication=gallery.publication(render_id),
        publishing_blocked=bool(owner and owner.publishing_blocked),
    )


@bp.get("/<render_id>/files/<name>")
def file(render_id: str, name: str):
    person = current_person()
    user = person.user_id
    render = services.gallery_flow().viewable(user, render_id, person.admin)  # theirs, or in the gallery
    if name == "subtitles" and name in render.artifacts:
        return _subtitles(render.artifacts[name], shared=render.user_id != user and not person.admin)
    if name not in FILE_TYPES or name not in render.artifacts:
        abort(404)
    # An admin may be looking at a clip held out of the gallery: never for shared caches.
    return _serve(render.artifacts[name], FILE_TYPES[name], shared=render.user_id != user and not person.admin)


@bp.get("/<render_id>/download")
def download(render_id: str):
    user = current_user()  # who downloads pays the egress
    render = services.gallery_flow().viewable(user, render_id)
    subtitles = request.args.get("subtitles", "none")
    if subtitles not in DOWNLOADS:
        raise ApiError(400, "bad_subtitles", gettext("Ask for subtitles=burned or subtitles=none."))
    name = DOWNLOADS[subtitles]
    if name == "subtitled" and name not in render.artifacts:
        raise ApiError(404, "no_subtitles", gettext("This clip has no words on screen to burn in."))
    if name not in render.artifacts:
        abort(404)
    usage = services.adapters().usage

    def record(sent: int) -> None:
        if sent:
            usage.record(
                UsageEvent(
                    kind="download",
                    user_id=user,
                    render_id=render.id,
                    scene_id=render.scene_id,
                    cost_usd=egress_cost(sent),
                    attributes={"bytes": sent},
                )
            )

    suffix = "-subtitled" if name == "subtitled" else ""
    return _serve(
        render.artifacts[name],
        "video/mp4",
        shared=render.user_id != user,
        download_name=f"{slug(render.spec.storyboard.title)}{suffix}.mp4",
        on_sent=record,
    )


def _subtitles(key: str, shared: bool) -> Response:
    """The WebVTT file from the site's own origin: a <track> from another origin (a signed
    Cloud Storage URL) would need CORS on the bucket and the video element."""
    body = services.adapters().storage.read_bytes(key)
    if body is None:
        abort(404)
    response = Response(body, content_type="text/vtt; charset=utf-8")
    response.headers["Cache-Control"] = f"public, max-age={SHARED_MAX_AGE_S}" if shared else "private, no-store"
    return response


def _serve(
    key: str,
    mimetype: str,
    shared: bool,
    download_name: str | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> Response:
    """A stored file: through a signed URL where storage gives one (Cloud Storage), else
    served here with HTTP ranges; as an attachment when it has a download name.

    Only someone else's clip is ever served here when it is listed in the gallery, so that
    is what shared caches may keep, for a few minutes (a clip taken out of the gallery
    leaves them soon). Everything else, the owner's own copy included, is for the person's
    browser alone and is not stored at all. `on_sent` hears how many bytes of the file
    went out, once the response is over."""
    storage = services.adapters().storage
    url = storage.download_url(key, download_name)
    if url:
        # The signed address expires and may name a private clip: never cached. The bytes go
        # from Cloud Storage, Range and all; counted here as the whole file.
        response = redirect(url)
        response.headers["Cache-Control"] = "private, no-store"
        if on_sent and request.method != "HEAD":
            size = storage.size(key) or 0
            response.call_on_close(lambda: on_sent(size))
        return response
    path = storage.local_file(key)
    if path is None:  # neither a download address nor a file here: nothing to serve
        abort(404)
    _keep_range_if_servable(path.stat().st_size)
    response = send_file(
        path, mimetype=mimetype, conditional=True, as_attachment=bool(download_name), download_name=download_name
    )
    response.headers["Cache-Control"] = f"public, max-age={SHARED_MAX_AGE_S}" if shared else "private, no-store"
    if on_sent:
        # send_file's body is the file's bytes (a FileWrapper), never text.
        response.response = _CountedBody(cast(Iterable[bytes], response.response), on_sent)
    return response


SHARED_MAX_AGE_S = 300
_ZERO_SUFFIX = re.compile(r"\s*bytes\s*=\s*-\s*0+\s*", re.IGNORECASE)


def _keep_range_if_servable(length: int) -> None:
    """Leaves the request's Range header for werkzeug to serve only where RFC 9110 section
    14 says to serve it: one range of bytes. Another unit must be ignored; an invalid
    header may be; a set of several ranges is ignored too (a server MAY ignore Range), so
    all of these get the whole file with 200. One unsatisfiable range stays, for werkzeug's
    416; a suffix longer than the file means the whole file (section 14.1.2), as a 206."""
    header = request.environ.get("HTTP_RANGE")
    if header is None:
        return
    parsed = parse_range_header(header)
    if parsed is None:
        if not _ZERO_SUFFIX.fullmatch(header):  # "-0" is valid but unsatisfiable: 416
            del request.environ["HTTP_RANGE"]
        return
    if parsed.units != "bytes" or len(parsed.ranges) != 1:
        del request.environ["HTTP_RANGE"]
        return
    start = parsed.ranges[0][0]
    if start < 0 and -start > length:
        request.environ["HTTP_RANGE"] = "bytes=0-"


class _CountedBody:
    """A response body that counts the bytes handed to the server and reports them when
    the server closes it: after the last byte, or when the person stopped the download.
    HEAD, 304 and the like close it unread: 0 bytes."""

    def __init__(self, body: Iterable[bytes], on_close: Callable[[int], None]):
        self._body, self._on_close, self._sent = body, on_close, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            if hasattr(self._body, "close"):
                self._body.close()
        finally:
            self._on_close(self._sent)


def slug(title: str) -> str:
    """A safe file name from a title, in ASCII (Раскольников -> raskolnikov)."""
    latin = " ".join(transliterate(word) for word in title.split())
    ascii_text = unicodedata.normalize("NFKD", latin).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80] or "animated-books-clip"
