"""A recording fake DS9 `Transport` for fast, exact tests of what an action sends.

It keeps just enough DS9 state (frames, the current frame, each frame's header cards
and file) to answer the ``get`` commands the actions use; every command is recorded in
``sent`` as ``("get", command)`` or ``("set", command)``.  The real-DS9 tests under
tests/ds9 stay the proof that the commands work in DS9; this fake only pins them down.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ds9claw.errors import TransportError


@dataclass
class FakeFrame:
    """One DS9 frame: header cards (keyword -> value) and the file it shows."""

    cards: dict[str, str] = field(default_factory=dict)
    file: str = ""


@dataclass
class RecordingTransport:
    """A `ds9claw.ds9.transport.Transport` that records and answers from its state."""

    frames: dict[int, FakeFrame] = field(default_factory=dict)
    current: int | None = None
    tasks: list[str] = field(default_factory=list)
    target: str = "fake-ds9"
    timeout: float = 1.0
    sent: list[tuple[str, str]] = field(default_factory=list)

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
        }
        if command not in answers:
            raise AssertionError(f"the fake does not know 'get {command}'")
        return answers[command]()

    def set(self, command: str, data: bytes | None = None) -> None:
        self.sent.append(("set", command))
        words = command.split()
        if words[:2] == ["frame", "delete"]:
            del self.frames[int(words[2])]
            self.current = max(self.frames) if self.frames else None
        elif words[0] == "frame" and len(words) == 2 and words[1].isdigit():
            self.current = int(words[1])
        elif command != "tile no":
            raise AssertionError(f"the fake does not know 'set {command}'")

    def close(self) -> None:
        self.sent.append(("close", ""))

    def sets(self) -> list[str]:
        """The ``set`` commands sent, in order."""
        return [command for kind, command in self.sent if kind == "set"]
