"""Pages render; the web process stays free of torch; a restart loses no render."""

import subprocess
import sys
import time

import pytest

from frontend_service import create_app
from tests.conftest import ROOT


def test_each_page_renders(api, client, make_render):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    render = make_render(user_id=client.get("/api/session").get_json()["user"])
    for path, words in [
        ("/", "Write a scene from a book"),
        (f"/scenes/{scene['id']}", "A few questions"),
        ("/renders", render.spec.storyboard.title),
        (f"/renders/{render.id}", "Download the clip"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert words in response.get_data(as_text=True), path


def test_the_demo_model_is_labelled_as_such(client):
    assert "random weights" in client.get("/").get_data(as_text=True)


def _modules_loaded_at_start(*names: str) -> list[str]:
    """Which of `names` a fresh process has imported once the site is built and has answered
    its first page."""
    check = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "from frontend_service import create_app\n"
        "from infra.bootstrap import bootstrap\n"
        "from infra.settings import Settings\n"
        "app = create_app({'TESTING': True, 'START_WORKER': False}, "
        "bootstrap(Settings(data_dir=Path(tempfile.mkdtemp()))))\n"
        "client = app.test_client()\n"
        "assert client.get('/').status_code == 200\n"
        f"print(','.join(sorted({set(names)!r} & set(sys.modules))))"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=ROOT, check=True)
    return [name for name in result.stdout.strip().split(",") if name]


def test_the_web_process_never_imports_torch():
    assert _modules_loaded_at_start("torch", "diffusers", "transformers") == []


def test_the_site_starts_without_the_libraries_only_some_requests_use():
    """Google's sign-in libraries, the email checker and the offline dialogue's dictionaries
    were a third of each start; the requests that use them load them (tests/web/test_sign_in.py,
    tests/dialogue run those)."""
    lazy = ("authlib", "joserfc", "requests", "email_validator", "simplemma", "pymorphy3")
    assert _modules_loaded_at_start(*lazy) == []


@pytest.mark.slow
def test_a_render_queued_before_a_restart_completes_after_it(adapters, api):
    scene = api.post("/api/scenes", json={"text": "A lighthouse."}).get_json()
    api.post(f"/api/scenes/{scene['id']}/finish")
    render_id = api.post(f"/api/scenes/{scene['id']}/renders", json={"preset": "draft"}).get_json()["render_id"]
    # The app above never started its worker: as if stopped with the render queued. Start again:
    restarted = create_app({"TESTING": True}, adapters)
    worker = restarted.extensions["worker"]
    try:
        deadline = time.monotonic() + 180
        while adapters.records.get_render(render_id).state not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, "the render did not finish after the restart"
            time.sleep(0.5)
    finally:
        worker.stop()
    assert adapters.records.get_render(render_id).state == "succeeded"


def test_instances_given_one_secret_key_share_sessions(adapters, tmp_path):
    """On Cloud Run every instance reads the key from Secret Manager: a session made on
    one is good on another, whose data folder holds a different key."""
    import dataclasses

    from pydantic import SecretStr

    from frontend_service import create_app

    def instance(folder):
        settings = adapters.settings.model_copy(
            update={"secret_key": SecretStr("from-secret-manager"), "data_dir": folder}
        )
        return create_app({"TESTING": True, "START_WORKER": False}, dataclasses.replace(adapters, settings=settings))

    first, second = instance(tmp_path / "a").test_client(), instance(tmp_path / "b").test_client()
    user = first.get("/api/session").get_json()["user"]
    second.set_cookie("session", first.get_cookie("session").value)
    assert second.get("/api/session").get_json()["user"] == user
    assert not (tmp_path / "a" / "secret_key").exists()
