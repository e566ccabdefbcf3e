"""`python -m infra.gallery_reindex`, as an operator runs it after a deploy that changed how
the gallery's search words or keys are worked out (a configuration mistake: test_configuration_errors)."""

from __future__ import annotations

import sqlite3

from infra import gallery_reindex as reindex
from infra.domain.ids import now
from infra.domain.publication import GalleryFilter, Publication


def test_the_command_writes_again_the_publications_stored_without_search_words(
    adapters, make_render, monkeypatch, capsys
):
    monkeypatch.setenv("ANIMBOOKS_MODE", "local")
    monkeypatch.setenv("ANIMBOOKS_DATA_DIR", str(adapters.settings.data_dir))
    gallery = adapters.gallery
    first, second = make_render(), make_render()
    clip = Publication(
        render_id=first.id, owner_id="u1", owner="Sonya", title="Neva at dusk", style="ink", published_at=now()
    )
    with monkeypatch.context() as older:  # as a site from before the search stored it
        older.setattr(Publication, "search_fields", lambda self: [])
        gallery.publish(clip)
    gallery.publish(clip.model_copy(update={"render_id": second.id, "title": "Neva at dawn"}))
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search="neva"), 1)[0]] == [second.id]

    assert reindex.main() == 0
    assert capsys.readouterr().out == "1 publication(s) written again\n"
    found = gallery.page("new", GalleryFilter(search="neva"), 1)[0]
    assert {p.render_id for p in found} == {first.id, second.id}
    assert reindex.main() == 0
    assert capsys.readouterr().out == "0 publication(s) written again\n"


def test_a_publication_that_cannot_be_read_is_left_as_it_is_and_the_rest_are_written(
    adapters, make_render, monkeypatch, caplog
):
    gallery = adapters.gallery
    broken, stale = make_render(), make_render()
    card = {"owner_id": "u1", "owner": "Sonya", "style": "ink", "published_at": now()}
    with monkeypatch.context() as older:
        older.setattr(Publication, "search_fields", lambda self: [])
        for render, title in ((broken, "Neva at dusk"), (stale, "Neva at dawn")):
            gallery.publish(Publication(render_id=render.id, title=title, **card))
    database = adapters.settings.database_path
    with sqlite3.connect(database) as connection:  # as a row no version of this code can read
        connection.execute("UPDATE publications SET data = '{\"title\": 1}' WHERE render_id = ?", (broken.id,))
    assert gallery.reindex() == 1
    assert f"publication {broken.id} cannot be read, left as it is" in caplog.text
    assert [p.render_id for p in gallery.page("new", GalleryFilter(search="neva"), 1)[0]] == [stale.id]
