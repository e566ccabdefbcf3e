"""The rules of who is asking, without a web server: which ids are accounts, how the
sign-in settings go together, and what moderation does to a publication."""

from __future__ import annotations

import pytest

from infra.domain.ids import now
from infra.domain.publication import REVIEW_AFTER_REPORTS, Publication
from infra.domain.user import is_account
from infra.settings import ConfigurationError, Settings, load_settings


@pytest.mark.parametrize(
    ("user_id", "account"),
    [
        ("iap:accounts.google.com:1180000001", True),
        ("google:110248495921238986420", True),
        ("local:ann@example.com", True),
        ("anon-" + "a" * 32, False),
        ("a" * 32, False),  # an id from a session older than accounts
        ("google:", False),
        ("telegram:42", True),  # a Telegram user (issue 16)
        ("mastodon:42", False),  # a provider the site does not have
        ("", False),
    ],
)
def test_an_account_id_names_a_known_provider_and_a_subject(user_id, account):
    assert is_account(user_id) is account


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        (
            {"ANIMBOOKS_GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com"},
            "ANIMBOOKS_GOOGLE_CLIENT_ID and ANIMBOOKS_GOOGLE_CLIENT_SECRET go together",
        ),
        ({"ANIMBOOKS_GOOGLE_CLIENT_SECRET": "s"}, "go together: set both or neither"),
        (
            {
                "ANIMBOOKS_GOOGLE_CLIENT_ID": "id",
                "ANIMBOOKS_GOOGLE_CLIENT_SECRET": "s",
                "ANIMBOOKS_IAP_AUDIENCE": "/projects/1/locations/r/services/s",
            },
            "behind IAP people are already signed in",
        ),
    ],
)
def test_sign_in_settings_that_do_not_go_together_stop_the_site(monkeypatch, tmp_path, environment, message):
    monkeypatch.setenv("ANIMBOOKS_DATA_DIR", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message) as raised:
        load_settings()
    assert "=s" not in str(raised.value) and "'s'" not in str(raised.value)  # a secret is never repeated


def test_blank_sign_in_settings_are_unset_and_the_local_sign_in_is_one_machine_s(monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMBOOKS_GOOGLE_CLIENT_ID", " ")
    monkeypatch.setenv("ANIMBOOKS_GOOGLE_CLIENT_SECRET", "")
    monkeypatch.setenv("ANIMBOOKS_IAP_AUDIENCE", "")
    settings = Settings(data_dir=tmp_path)
    assert (settings.google_sign_in, settings.iap_audience, settings.local_sign_in) == (False, None, True)
    cloud = Settings(data_dir=tmp_path, mode="cloud", gcp_project="p", renders_bucket="b")
    assert cloud.local_sign_in is False
    assert Settings(data_dir=tmp_path, iap_audience="/projects/1/x").local_sign_in is False


def clip(**changes) -> Publication:
    return Publication(render_id="r", owner_id="google:1", owner="Sonya", title="t", style="ink", **changes)


def test_a_publication_is_held_from_the_threshold_and_cleared_by_an_admin():
    assert REVIEW_AFTER_REPORTS == 3
    two = clip().counted(0, 0, 2)
    assert (two.held, two.listed, two.needs_review, two.open_reports) == (False, True, True, 2)
    three = clip().counted(0, 0, 3)
    assert (three.held, three.listed, three.moderated) == (True, False, True)
    cleared = three.cleared()
    assert (cleared.held, cleared.listed, cleared.needs_review, cleared.reviewed_reports) == (False, True, False, 3)
    assert cleared.counted(0, 0, 5).held is False and cleared.counted(0, 0, 6).held is True  # three new ones
    hidden = cleared.counted(0, 0, 6).hidden_by_admin()
    assert (hidden.hidden, hidden.held, hidden.listed, hidden.needs_review) == (True, False, False, False)
    appealed = hidden.appealed("a painting of a bridge", now())
    assert (appealed.appeal_open, appealed.needs_review, appealed.listed) == (True, True, False)
    unpublished = clip(published=False).counted(0, 0, 0)
    assert (unpublished.listed, unpublished.moderated) == (False, False)  # out by its owner, not by moderation
