"""Who is asking: the person and the client address, which only a trusted proxy may name."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from frontend_service import create_app
from frontend_service.identity import ANONYMOUS_PREFIX, Person, current_person


def person_seen(app: Flask, **environ):
    """The person as the app sees them, through its whole WSGI stack (ProxyFix included)."""
    if "whoami" not in app.view_functions:
        app.add_url_rule("/whoami", "whoami", lambda: dataclasses.asdict(current_person()))
    return Person(**app.test_client().get("/whoami", **environ).get_json())


def app_with(adapters, **settings):
    changed = dataclasses.replace(adapters, settings=adapters.settings.model_copy(update=settings))
    return create_app({"TESTING": True, "START_WORKER": False}, changed)


def test_an_anonymous_person_gets_an_id_of_their_own(app):
    person = person_seen(app, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert person.user_id.startswith(ANONYMOUS_PREFIX) and len(person.user_id) == len(ANONYMOUS_PREFIX) + 32
    assert (person.account, person.admin, person.address) == (False, False, "203.0.113.7")


@pytest.mark.parametrize(
    ("trusted", "forwarded", "seen"),
    [
        (0, "198.51.100.1", "203.0.113.7"),  # no proxy: a forged header changes nothing
        (1, "198.51.100.1", "198.51.100.1"),  # Cloud Run's front end appends the caller
        (1, "10.0.0.9, 198.51.100.1", "198.51.100.1"),  # a forged first entry is not the trusted hop
        (2, "198.51.100.2, 198.51.100.1", "198.51.100.2"),
    ],
)
def test_the_address_comes_from_the_trusted_hop_only(adapters, trusted, forwarded, seen):
    app = app_with(adapters, trusted_proxies=trusted)
    person = person_seen(app, environ_base={"REMOTE_ADDR": "203.0.113.7"}, headers={"X-Forwarded-For": forwarded})
    assert person.address == seen


@pytest.mark.parametrize(
    ("remote", "counted"),
    [
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),  # the last address of the same /64
        ("2001:db8:1:3::", "2001:db8:1:3::/64"),  # the first of the next
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("198.51.100.1", "198.51.100.1"),
    ],
)
def test_the_address_the_limits_count_is_an_ipv6_caller_s_64(app, remote, counted):
    assert person_seen(app, environ_base={"REMOTE_ADDR": remote}).address == counted


def test_admin_emails_are_read_from_a_comma_separated_setting(monkeypatch, tmp_path):
    from infra.settings import Settings

    monkeypatch.setenv("ANIMBOOKS_ADMIN_EMAILS", " Ops@Example.com,  editor@example.com ,")
    assert Settings(data_dir=tmp_path).admin_emails == ["ops@example.com", "editor@example.com"]
