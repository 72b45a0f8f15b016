"""Rendered files compared with the files checked into tests/expected/ (with UPDATE_EXPECTED
set, written there first)."""

import os


def assert_match_expected(files, expected_root):
    """Rendered files ({path: ManagedFile}) are those in expected_root, no more, no less
    (with UPDATE_EXPECTED set, write them there first)."""
    for path, file in files.items():
        expected_path = os.path.join(expected_root, os.path.relpath(path, "/etc/keepalived"))
        if os.environ.get("UPDATE_EXPECTED"):
            os.makedirs(os.path.dirname(expected_path), exist_ok=True)
            with open(expected_path, "w") as f:
                f.write(file.content)
        with open(expected_path) as f:
            assert file.content == f.read(), f"{path} differs from {expected_path}"
    expected = {os.path.join(dirpath, name) for dirpath, _, names in os.walk(expected_root)
                for name in names}
    assert len(expected) == len(files), "expected/ has files the deploy no longer renders"
