"""The app's services, typed, for the blueprints (as flaskr's `get_db`): the adapters and
the flows the app factory built."""

from __future__ import annotations

from flask import Flask, current_app

from frontend_service.book_flow import BookFlow
from frontend_service.flow import SceneFlow
from frontend_service.gallery_flow import GalleryFlow
from infra.bootstrap import Adapters

_ADAPTERS, _SCENE_FLOW, _GALLERY_FLOW, _BOOK_FLOW = "adapters", "scene_flow", "gallery_flow", "book_flow"


def install(app: Flask, adapters: Adapters, scene_flow: SceneFlow, gallery_flow: GalleryFlow) -> None:
    app.extensions[_ADAPTERS] = adapters
    app.extensions[_SCENE_FLOW] = scene_flow
    app.extensions[_GALLERY_FLOW] = gallery_flow
    app.extensions[_BOOK_FLOW] = BookFlow(adapters, scene_flow)


def adapters(app: Flask | None = None) -> Adapters:
    return (app or current_app).extensions[_ADAPTERS]


def scene_flow() -> SceneFlow:
    return current_app.extensions[_SCENE_FLOW]


def gallery_flow() -> GalleryFlow:
    return current_app.extensions[_GALLERY_FLOW]


def book_flow() -> BookFlow:
    return current_app.extensions[_BOOK_FLOW]
