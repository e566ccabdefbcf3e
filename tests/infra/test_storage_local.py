import pytest

from infra.storage.local import LocalStorage


def test_put_exists_delete(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    source = tmp_path / "clip.mp4"
    source.write_bytes(b"mp4 bytes")
    storage.put_file("renders/abc/clip.mp4", source, "video/mp4")
    assert storage.exists("renders/abc/clip.mp4")
    assert storage.path_for("renders/abc/clip.mp4").read_bytes() == b"mp4 bytes"
    assert [p.name for p in storage.path_for("renders/abc").iterdir()] == ["clip.mp4"]  # no partial left
    storage.delete("renders/abc/clip.mp4")
    assert not storage.exists("renders/abc/clip.mp4")
    storage.delete("renders/abc/clip.mp4")  # deleting twice is fine


@pytest.mark.parametrize("key", ["../secret", "/etc/passwd", "renders/../../x", ""])
def test_keys_cannot_leave_the_folder(tmp_path, key):
    with pytest.raises(ValueError, match="invalid storage key"):
        LocalStorage(tmp_path).path_for(key)
