"""The book pages as plain forms: start a book, write a scene in it, order the scenes,
ask for the reel; bad input comes back with the form and a message, never a 500."""

import re

import pytest

from tests.web.test_books import BOOK, SCENE, add_scene, new_book


def token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def test_a_book_is_started_from_its_form(client):
    page = client.get("/books").get_data(as_text=True)
    form = {
        "csrf_token": token(page),
        "title": "Anna Karenina",
        "author": "Leo Tolstoy",
        "aspect": "9:16",
        "characters": "Anna: dark-haired woman in a black velvet dress\nVronsky: officer in a white tunic",
        "places": "Moscow station",
        "period": "1870s",
        "style": "pastel",
        "seed_policy": "shared",
        "seed": "7",
    }
    response = client.post("/books", data=form)
    assert response.status_code == 303
    book = client.get(response.headers["Location"])
    assert book.status_code == 200
    text = book.get_data(as_text=True)
    assert "<h1>Anna Karenina</h1>" in text
    assert "Vronsky: officer in a white tunic" in text and "Moscow station</textarea>" in text


def test_a_bad_book_form_comes_back_with_its_messages(client):
    page = client.get("/books").get_data(as_text=True)
    response = client.post(
        "/books", data={"csrf_token": token(page), "title": "", "seed": "minus one", "characters": ": no name"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    errors = dict(re.findall(r'class="error" id="(\w+)-error">([^<]+)<', text))
    assert errors == {
        "title": "this must not be empty",
        "characters": "this must not be empty",
        "seed": "this must be a whole number, written as digits without quotes",
    }
    assert 'value="minus one"' in text  # the form comes back as it was typed


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("²", "this must be a whole number, written as digits without quotes"),  # str.isdigit() takes it, int() not
        ("9" * 5000, "this must be a whole number, written as digits without quotes"),  # past int()'s 4,300 digits
        ("9" * 20, "this must be at most 4294967295"),  # 20 digits: read, and over the largest seed
    ],
)
def test_a_seed_that_is_no_number_the_book_takes_comes_back_with_a_message(client, seed, message):
    page = client.get("/books").get_data(as_text=True)
    response = client.post("/books", data={"csrf_token": token(page), "title": "Anna Karenina", "seed": seed})
    assert response.status_code == 422
    errors = dict(re.findall(r'class="error" id="(\w+)-error">([^<]+)<', response.get_data(as_text=True)))
    assert errors == {"seed": message}
    assert "Anna Karenina" not in client.get("/books").get_data(as_text=True).split("</form>")[-1]  # nothing stored


def test_a_scene_written_on_the_book_page_opens_its_scene_page(api, client):
    book = new_book(api)
    page = client.get(f"/books/{book['id']}").get_data(as_text=True)
    response = client.post(
        f"/books/{book['id']}/scenes", data={"csrf_token": token(page), "text": SCENE, "chapter": "Part One"}
    )
    assert response.status_code == 303 and "/scenes/" in response.headers["Location"]
    scene_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/books/{book["id"]}"' in scene_page
    empty = client.post(f"/books/{book['id']}/scenes", data={"csrf_token": token(page), "text": "  "})
    assert empty.status_code == 422 and 'id="text-error">' in empty.get_data(as_text=True)


def test_a_scene_moves_up_and_its_chapter_is_relabelled(api, client):
    book = new_book(api)
    one, two = add_scene(api, book["id"], "I"), add_scene(api, book["id"], "II")
    page = client.get(f"/books/{book['id']}").get_data(as_text=True)
    response = client.post(
        f"/books/{book['id']}/chapters",
        data={"csrf_token": token(page), "chapter-0": "Part One", "chapter-1": "Part Two", "move": f"{two['id']}:up"},
    )
    assert response.status_code == 303
    chapters = api.get(f"/api/books/{book['id']}").get_json()["chapters"]
    assert [(c["scene_id"], c["chapter"]) for c in chapters] == [(two["id"], "Part Two"), (one["id"], "Part One")]
    too_long = client.post(f"/books/{book['id']}/chapters", data={"csrf_token": token(page), "chapter-0": "x" * 121})
    assert too_long.status_code == 422


def test_the_reel_of_an_empty_book_is_a_page_that_says_why(api, client):
    book = new_book(api)
    page = client.get(f"/books/{book['id']}").get_data(as_text=True)
    response = client.post(f"/books/{book['id']}/reel", data={"csrf_token": token(page)})
    assert response.status_code == 409
    assert "This book has no scenes yet" in response.get_data(as_text=True)


def test_someone_elses_book_page_is_not_found(app, api):
    book = new_book(api)
    assert app.test_client().get(f"/books/{book['id']}").status_code == 404


def test_the_books_page_lists_the_books(api, client):
    new_book(api, title="The Idiot")
    assert BOOK["title"] != "The Idiot"
    assert "The Idiot" in client.get("/books").get_data(as_text=True)
