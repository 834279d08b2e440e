"""The one gate for file names sent to DS9 (ds9claw.ds9.names), without DS9.

What DS9 8.4.1 does with each kind of name is checked against the real DS9 in
tests/samp/test_hostile_names.py; here: the gate itself, and that the SAMP payload
path and the DS9 actions use it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from ds9claw.ds9.names import check_ds9_name, ds9_word
from ds9claw.errors import InputError, TransportError

LOADABLE = [
    "/data/jw01_cal.fits",
    "/data/a b/x  y_cal.fits",
    "/data/x$(touch pwned).fits",
    "/data/a%20b.fits",
    "/data/ok-+,=@~:'&()!*.fits",
]
REFUSED = {
    '/data/x"; exec touch pwned; ".fits': "'\"'",
    "/data/br{x}.fits": "'{'",
    "/data/br}x.fits": "'}'",
    "/data/sq[x].fits": "'['",
    "/data/x]": "']'",
    "/data/nl\nx.fits": "a newline",
    "/data/tab\tx.fits": "a tab",
    "/data/bs\\x.fits": "a backslash",
    "/data/semi;x.fits": "';'",
    "/data/hash#x.fits": "'#'",
    "/data/uml\u00e4.fits": "the non-ASCII character",
    "/data/del\x7f.fits": "the control character",
}


@pytest.mark.parametrize("name", LOADABLE)
def test_loadable_names_pass_unchanged_between_braces(name):
    assert check_ds9_name(name) == name
    assert ds9_word(Path(name)) == "{" + name + "}"


@pytest.mark.parametrize("name", list(REFUSED))
def test_names_ds9_cannot_load_are_refused_with_the_reason(name):
    with pytest.raises(InputError) as caught:
        ds9_word(name, what="image")
    text = str(caught.value)
    assert text.startswith("DS9 cannot load the image ")
    assert f"its name holds {REFUSED[name]}" in text
    assert "rename it" in text and "\n" not in text.replace(repr(name), "")


def test_empty_name_is_refused():
    for name in ("", "   "):
        with pytest.raises(InputError, match="empty file name"):
            check_ds9_name(name)


class _FakeSession:
    def call_and_wait(self, *args, **kwargs):  # pragma: no cover - never reached
        raise AssertionError("nothing may be sent for an unloadable payload path")


def test_samp_payload_in_a_directory_ds9_cannot_load(tmp_path, monkeypatch):
    from ds9claw.ds9.samp_discovery import Ds9OnHub
    from ds9claw.ds9.samp_transport import SampTransport

    odd = tmp_path / "tmp[1]"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    transport = SampTransport(
        _FakeSession(), Ds9OnHub("cli#1", "ds9", "8.4.1"), timeout=1, owns_session=False
    )
    try:
        with pytest.raises(TransportError, match=r"its name holds '\['.*point TMPDIR"):
            transport.set("fits {x.fits}", b"SIMPLE  = T")
    finally:
        transport.close()
    assert not any(odd.rglob("payload-*"))


class _RecordingTransport:
    """A fake Transport that records commands (for what an action sends, not DS9)."""

    target = "fake"
    timeout = 1.0

    def __init__(self):
        self.sent: list[str] = []

    def get(self, command):
        self.sent.append(f"get {command}")
        return b""

    def set(self, command, data=None):
        self.sent.append(f"set {command}")

    def close(self):
        pass


def test_tcl_round_trip_refuses_a_scratch_directory_ds9_cannot_load(tmp_path):
    from ds9claw.ds9.actions import _tcl_value

    scratch = tmp_path / "scratch{x}"
    scratch.mkdir()
    transport = _RecordingTransport()
    with pytest.raises(InputError, match="DS9 cannot load the scratch file"):
        _tcl_value(transport, "winfo exists .", scratch)
    assert transport.sent == []
