"""A recording fake DS9 `Transport` for fast, exact tests of what an action sends.

It keeps just enough DS9 state (frames, the current frame, each frame's header cards,
file, FITS bytes, regions and scale mode, the tiling and canvas settings) to answer the
``get`` commands the actions use; every command is recorded in ``sent`` as
``("get", command)`` or ``("set", command)``, and the data sent with a ``set`` in
``payloads`` as ``(command, bytes)``.  A `ds9claw.ds9.command_batch.CommandBatch` is
recorded as the commands it holds, one by one, as if each were sent alone.  The
real-DS9 tests under tests/ds9 stay the proof that the commands work in DS9; this fake
only pins them down.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ds9claw.ds9.command_batch import BATCH_MARKER
from ds9claw.errors import TransportError

#: The header keywords ds9claw's frames carry (`ds9claw.ds9.frames`).
_CLAW_KEYS = ("CLAWROLE", "CLAWSRCH", "CLAWSRCN")

#: ``set`` commands that only change a setting the fake answers back: prefix -> key.
_SETTINGS = {
    "tile mode": "tile mode",
    "tile grid mode": "tile grid mode",
    "tile grid layout": "tile grid layout",
    "tile": "tile",
    "lock frame": "lock frame",
    "width": "width",
    "height": "height",
}


@dataclass
class FakeFrame:
    """One DS9 frame: header cards (keyword -> value), the file it shows, its pixels."""

    cards: dict[str, str] = field(default_factory=dict)
    file: str = ""
    fits: bytes = b""
    regions: str = ""
    scale_mode: str = "minmax"

    def size(self) -> str:
        """DS9's ``fits size`` answer: ``"0 0"`` for an empty frame."""
        if not self.fits:
            return "0 0"
        from astropy.io import fits

        with fits.open(io.BytesIO(self.fits)) as hdul:
            height, width = hdul[0].data.shape
        return f"{width} {height}"


def _unbraced(word: str) -> str:
    return word[1:-1] if word.startswith("{") and word.endswith("}") else word


@dataclass
class RecordingTransport:
    """A `ds9claw.ds9.transport.Transport` that records and answers from its state."""

    frames: dict[int, FakeFrame] = field(default_factory=dict)
    current: int | None = None
    tasks: list[str] = field(default_factory=list)
    target: str = "fake-ds9"
    timeout: float = 1.0
    sent: list[tuple[str, str]] = field(default_factory=list)
    payloads: list[tuple[str, bytes]] = field(default_factory=list)
    tcl_variables: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(
        default_factory=lambda: {
            "tile": "no",
            "tile mode": "grid",
            "tile grid mode": "automatic",
            "tile grid layout": "",
            "lock frame": "none",
            "width": "738",
            "height": "488",
        }
    )

    def _frame(self) -> FakeFrame:
        if self.current is None:
            raise TransportError("fake DS9: no frame")
        return self.frames[self.current]

    def _header(self) -> bytes:
        if self.current is None or not self.frames[self.current].file:
            raise TransportError("fake DS9: no image in the frame")
        cards = ["SIMPLE  =                    T"]
        for key, value in self.frames[self.current].cards.items():
            cards.append(f"{key:<8}= '{value}'")
        return "\n".join(card.ljust(80) for card in cards).encode("ascii")

    def get(self, command: str) -> bytes:
        self.sent.append(("get", command))
        answers = {
            "frame all": lambda: " ".join(str(f) for f in sorted(self.frames)).encode(),
            "frame": lambda: str(self.current or "").encode(),
            "fits header": self._header,
            "file": lambda: self.frames[self.current].file.encode() if self.current else b"",
            "cd": lambda: b"/",
            "version": lambda: b"ds9 8.4.1",
            "analysis task": lambda: "\n".join(
                f"{i} {name}" for i, name in enumerate(self.tasks)
            ).encode(),
            "fits size": lambda: self._frame().size().encode(),
            "fits depth": lambda: b"1",

            "fits": lambda: self._frame().fits,
            "regions -format ds9 -system image": lambda: self._frame().regions.encode(),
            "scale mode": lambda: self._frame().scale_mode.encode(),
        }
        if command in self.settings:
            return self.settings[command].encode()
        if command.startswith("fits header keyword "):  # "" when absent or no image
            key = command.split()[-1]
            return self._frame().cards.get(key, "").encode() if self.current else b""
        if command not in answers:
            raise AssertionError(f"the fake does not know 'get {command}'")
        return answers[command]()

    def set(self, command: str, data: bytes | None = None) -> None:
        if command == "tcl" and data is not None and data.startswith(BATCH_MARKER.encode()):
            self._run_batch(data.decode())
            return
        self.sent.append(("set", command))
        if data is not None:
            self.payloads.append((command, bytes(data)))
        self._apply(command, data)

    def _apply(self, command: str, data: bytes | None) -> None:
        words = command.split()
        if words[:2] == ["frame", "delete"]:
            del self.frames[int(words[2])]
            self.current = max(self.frames) if self.frames else None
        elif words[0] == "frame" and len(words) == 2 and words[1].isdigit():
            self.current = int(words[1])
        elif command == "frame new":
            self.current = max(self.frames, default=0) + 1
            self.frames[self.current] = FakeFrame()
        elif words[0] == "tcl":
            self._tcl(command)
        elif command in ("zoom to fit", "scale linear"):
            pass  # nothing the fake answers depends on them
        elif words[:2] == ["scale", "mode"]:
            self._frame().scale_mode = words[2]
        elif words[0] == "fits" and data is not None:
            self._load_fits(_unbraced(command[len("fits ") :]), data)
        elif words[0] == "regions":
            self._regions(command, data)
        elif words[0] == "saveimage":
            Path(_unbraced(command.split(None, 2)[2])).write_bytes(b"fake " + words[1].encode())
        elif not self._setting(command):
            raise AssertionError(f"the fake does not know 'set {command}'")

    def _tcl(self, command: str) -> None:
        """Keep what ``tcl {set VARIABLE VALUE}`` assigns; other Tcl changes nothing here."""
        assigned = re.fullmatch(r"tcl \{set (\S+) (\S+)\}", command)
        if assigned:
            self.tcl_variables[assigned[1]] = assigned[2]

    def _tcl_value(self, expression: str) -> str:
        """The Tcl expressions ds9claw evaluates in DS9, as the fake's state answers them."""
        if expression == "set ::ds9(seq)":  # the number DS9 gives the next new frame
            return str(max(self.frames, default=0) + 1)
        variable = re.search(r"info exists (\S+)\]", expression)
        if variable is None:
            raise AssertionError(f"the fake does not know the Tcl value {expression!r}")
        return self.tcl_variables.get(variable[1], "")

    def _run_batch(self, script: str) -> None:
        """Run a `CommandBatch` script step by step; write its answers where it says."""
        answers: list[str] = []
        steps = re.findall(r"^::ds9claw::step (\w+) ([0-9a-f]*) ?([0-9a-f]*)$", script, re.M)
        for verb, encoded, data_file in steps:
            command = bytes.fromhex(encoded).decode()
            if verb == "set":
                self.set(command)
            elif verb == "setfile":
                self.set(command, Path(bytes.fromhex(data_file).decode()).read_bytes())
            elif verb == "value":
                answers.append("ok " + self._tcl_value(command).encode().hex())
            else:
                try:
                    answers.append("ok " + self.get(command).hex())
                except TransportError:
                    if verb != "tryget":
                        raise
                    self.sent.append(("get", command))
                    answers.append("err ")
        target = re.search(r"file rename -force \{(.*?)\} \{(.*?)\}", script)
        if target:
            Path(target[2]).write_text("".join(a + "\n" for a in answers))

    def _setting(self, command: str) -> bool:
        for prefix, key in _SETTINGS.items():
            if command.startswith(prefix + " "):
                # DS9 answers only the row count of 'tile grid layout'
                self.settings[key] = command[len(prefix) + 1 :].split()[-1]
                return True
        return False

    def _load_fits(self, name: str, data: bytes) -> None:
        from astropy.io import fits

        frame = self._frame()
        frame.fits, frame.file = bytes(data), name
        header = fits.Header.fromstring(data[: data.index(b"END" + b" " * 77) + 80])
        frame.cards = {k: str(header[k]) for k in _CLAW_KEYS if k in header}

    def _regions(self, command: str, data: bytes | None) -> None:
        frame = self._frame()
        if command == "regions" and data is not None:
            frame.regions += data.decode()
        elif command == "regions delete all":
            frame.regions = ""
        elif command.startswith("regions group ") and command.endswith(" delete"):
            tag = _unbraced(command[len("regions group ") : -len(" delete")])
            kept = [line for line in frame.regions.splitlines() if f"tag={{{tag}}}" not in line]
            frame.regions = "".join(line + "\n" for line in kept)
        else:
            raise AssertionError(f"the fake does not know 'set {command}'")

    def close(self) -> None:
        self.sent.append(("close", ""))

    def sets(self) -> list[str]:
        """The ``set`` commands sent, in order."""
        return [command for kind, command in self.sent if kind == "set"]

    def payload(self, command: str) -> bytes:
        """The data sent with the one ``set`` whose command starts with ``command``."""
        found = [data for sent, data in self.payloads if sent.startswith(command)]
        assert len(found) == 1, (command, [sent for sent, _ in self.payloads])
        return found[0]


#: The claw of `one_exposure`: rows 20..25 and columns 30..37 (0-based) are 50 above
#: a +-1 checkerboard (rms 1), and DQ flags pixel (22, 33) DO_NOT_USE.
CLAW_ROWS, CLAW_COLUMNS, FLAGGED_PIXEL = slice(20, 26), slice(30, 38), (22, 33)

#: A square around the claw, in DS9 image coordinates.
REGION_AROUND_CLAW = "image\npolygon(10.5,10.5,50.5,10.5,50.5,50.5,10.5,50.5)\n"


#: What the actions ask DS9 to find the image frame of `one_exposure` and its file (one
#: request).
IMAGE_FRAME_QUERIES = [
    ("get", "frame all"),
    ("get", "frame"),
    ("get", "fits header keyword CLAWROLE"),
    ("get", "fits header keyword CLAWSRCH"),
    ("get", "fits size"),
    ("get", "fits depth"),
    ("get", "file"),
    ("get", "cd"),
]

#: What they then ask to find its seed and mask frames (frames 2 and 3), in one request
#: that ends on the image frame.
PRODUCT_FRAME_QUERIES = [
    ("get", "frame all"),
    ("set", "frame 2"),
    ("get", "fits header keyword CLAWROLE"),
    ("get", "fits header keyword CLAWSRCH"),
    ("set", "frame 3"),
    ("get", "fits header keyword CLAWROLE"),
    ("get", "fits header keyword CLAWSRCH"),
    ("set", "frame 1"),
]


def expected_claw_mask():
    """The 0/1 mask `one_exposure`'s claw gives: the claw without its flagged pixel."""
    import numpy as np

    mask = np.zeros((64, 64), np.uint8)
    mask[CLAW_ROWS, CLAW_COLUMNS] = 1
    mask[FLAGGED_PIXEL] = 0
    return mask


def one_exposure(directory: Path) -> tuple[RecordingTransport, Path]:
    """A DS9 showing ``X_nrcb1_cal.fits[SCI]`` (written in ``directory``) with a region.

    Returns
    -------
    RecordingTransport
        One frame, current, with the file's SCI as DS9 would send it and
        `REGION_AROUND_CLAW` drawn on it.
    pathlib.Path
        The cal file (SCI and DQ extensions).
    """
    import numpy as np
    from astropy.io import fits

    sci = np.where(np.indices((64, 64)).sum(0) % 2 == 0, 1.0, -1.0).astype(np.float32)
    sci[CLAW_ROWS, CLAW_COLUMNS] += 50
    dq = np.zeros((64, 64), np.uint32)
    dq[FLAGGED_PIXEL] = 1
    cal = directory.resolve() / "X_nrcb1_cal.fits"
    fits.HDUList(
        [fits.PrimaryHDU(), fits.ImageHDU(sci, name="SCI"), fits.ImageHDU(dq, name="DQ")]
    ).writeto(cal)
    shown = io.BytesIO()
    fits.PrimaryHDU(sci, header=fits.Header([("EXTNAME", "SCI")])).writeto(shown)
    frame = FakeFrame(file=f"{cal}[SCI]", fits=shown.getvalue(), regions=REGION_AROUND_CLAW)
    return RecordingTransport(frames={1: frame}, current=1), cal
