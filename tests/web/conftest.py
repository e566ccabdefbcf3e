"""What the website's tests share: finished renders with stand-in files."""

from __future__ import annotations

import pytest

from infra.domain.render import Render
from infra.domain.scene import Scene
from infra.domain.storyboard import Storyboard, resolve_spec
from tests.conftest import ApiClient, user_of


@pytest.fixture
def owner(app):
    """A person with a clip (of the test's `app`)."""
    return ApiClient(app.test_client())


@pytest.fixture
def visitor(app):
    """Another person, in a browser of their own."""
    return ApiClient(app.test_client())


@pytest.fixture
def finished_render(adapters, storyboard_data, tmp_path):
    """A succeeded render of the person's own scene, with small stand-in files (the video's
    bytes may be given)."""

    def make(
        person: ApiClient, video: bytes | None = None, files: dict[str, bytes] | None = None, **storyboard_changes
    ) -> Render:
        storyboard = Storyboard.model_validate(storyboard_data | storyboard_changes)
        user = user_of(person)
        scene = Scene(user_id=user, text="Raskolnikov crosses the bridge.", storyboard=storyboard, state="ready")
        adapters.records.save_scene(scene)
        render = Render(user_id=user, scene_id=scene.id, spec=resolve_spec(storyboard))
        adapters.records.create_render(render)
        artifacts = {}
        for name, file in (("video", "clip.mp4"), ("poster", "clip.poster.jpg"), ("preview", "clip.preview.webp")):
            source = tmp_path / f"{render.id}-{file}"
            source.write_bytes(video if name == "video" and video is not None else f"{name} of {render.id}".encode())
            artifacts[name] = f"renders/{render.id}/{file}"
            adapters.storage.put_file(artifacts[name], source, "application/octet-stream")
        for name, content in (files or {}).items():  # more of the job's files: subtitles, subtitled
            source = tmp_path / f"{render.id}-{name}"
            source.write_bytes(content)
            artifacts[name] = f"renders/{render.id}/{name}"
            adapters.storage.put_file(artifacts[name], source, "application/octet-stream")
        adapters.records.mark_running(render.id, 1, "r")
        adapters.records.mark_succeeded(render.id, "r", artifacts, {"render_s": 12.5})
        return adapters.records.get_render(render.id)

    return make
