import os

# Before anything imports huggingface_hub: no test may reach a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
# gRPC's fork handlers ran in ffmpeg's forked child once the emulator tests had made
# clients ("epoll_wait error: Bad file descriptor" as ffmpeg's only output); the processes
# here fork only to exec, which needs no fork support.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The admin of every test app (ANIMBOOKS_ADMIN_EMAILS); `signed_in(app, ADMIN_EMAIL)` is one.
ADMIN_EMAIL = "admin@example.com"
EXAMPLE_STORYBOARD = ROOT / "examples" / "neva-at-dusk.json"


# Under `make mutation` a mutant's run stops at its first failing test (pytest -x), and mutmut
# hands its tests over in no order: the domain's fast unit tests first catch most mutants in
# seconds instead of after the site's tests. The order within a folder is kept (module fixtures).
_MUTATION_ORDER = ("tests/unit/", "tests/contract/", "tests/infra/", "tests/web/")


def pytest_collection_modifyitems(config, items):
    if "MUTANT_UNDER_TEST" not in os.environ:
        return

    def rank(item) -> int:
        path = item.nodeid.removeprefix("mutants/")
        return next((i for i, folder in enumerate(_MUTATION_ORDER) if path.startswith(folder)), len(_MUTATION_ORDER))

    items.sort(key=rank)


@pytest.fixture
def storyboard_data() -> dict:
    """A valid three-shot storyboard as a person would write it."""
    return json.loads(EXAMPLE_STORYBOARD.read_text())


@pytest.fixture(scope="session")
def tiny_renderer():
    """The built-in tiny pipeline on the CPU, loaded once for the session."""
    from animate_job.renderer import Renderer

    return Renderer.load("tiny", device="cpu")


@pytest.fixture
def settings(tmp_path):
    from infra.settings import Settings

    return Settings(data_dir=tmp_path / "data", device="cpu", admin_emails=[ADMIN_EMAIL])


@pytest.fixture
def adapters(settings):
    """The embedded stack (SQLite, a folder, DuckDB) under a temporary data folder."""
    from infra.bootstrap import bootstrap

    return bootstrap(settings)


@pytest.fixture
def make_render(adapters, storyboard_data):
    """Creates a queued render of the example storyboard for a user."""
    from infra.domain.render import Render
    from infra.domain.storyboard import Storyboard, resolve_spec

    def make(user_id: str = "reader-1", **spec_changes) -> Render:
        spec = resolve_spec(Storyboard.model_validate(storyboard_data), **spec_changes)
        render = Render(user_id=user_id, spec=spec)
        adapters.records.create_render(render)
        return render

    return make


@pytest.fixture
def app(adapters):
    """The website over the embedded stack in a temporary folder, without its background worker
    (tests run the worker's steps themselves)."""
    from frontend_service import create_app

    return create_app({"TESTING": True, "START_WORKER": False}, adapters)


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """A script's view of the JSON API: a session cookie and the CSRF header on every change."""

    def __init__(self, client):
        self.client = client
        self.token = client.get("/api/session").get_json()["csrf_token"]

    def __getattr__(self, method):
        def call(path, **kwargs):
            headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kwargs)

        return call


@pytest.fixture
def api(client):
    return ApiClient(client)


def stored_render(records, render_id: str):
    """A render that must be in the records (typed: not None)."""
    render = records.get_render(render_id)
    assert render is not None, f"no render {render_id} in the records"
    return render


def user_of(person: ApiClient) -> str:
    return person.get("/api/session").get_json()["user"]


def signed_in(app, email: str, name: str | None = None, client=None) -> ApiClient:
    """A person signed in through the local sign-in (`make run`'s), in a browser of their
    own or in `client` (whose anonymous work then becomes the account's)."""
    person = ApiClient(client or app.test_client())
    response = person.post("/signin/local", data={"email": email, "name": name or ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    return ApiClient(person.client)  # signing in starts a new session: a new CSRF token


def google_account_session(app, email: str = ADMIN_EMAIL, subject: str = "1001"):
    """A browser whose signed session cookie holds a Google account, as the sign-in with
    Google leaves it (where no local sign-in exists: cloud mode). The sign-in itself is
    tested against a local OpenID provider in tests/web/test_sign_in.py."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["account"] = {"id": f"google:{subject}", "email": email, "name": None, "verified": True}
    return client


@pytest.fixture
def admin(app) -> ApiClient:
    return signed_in(app, ADMIN_EMAIL, "Ada")


# The Google Cloud emulators, each started once per session when a test first needs it.
@pytest.fixture(scope="session")
def firestore_emulator():
    from tests.emulators import gcloud_emulator

    with gcloud_emulator("firestore") as host:
        yield host


@pytest.fixture(scope="session")
def pubsub_emulator():
    from tests.emulators import gcloud_emulator

    with gcloud_emulator("pubsub") as host:
        yield host


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory):
    from tests.emulators import gcs_emulator

    with gcs_emulator(str(tmp_path_factory.mktemp("gcs"))) as url:
        yield url
