"""Helpers for the DS9 tests: drive a real DS9 (menu clicks, Tcl state), decode PNGs."""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits

from ds9claw.ds9.xpa import XpaTransport


class Ds9Driver:
    """A real DS9 seen from a test: XPA transport plus access to its Tcl state."""

    def __init__(self, proc, transport: XpaTransport, scratch: Path):
        self.proc = proc
        self.t = transport
        self.scratch = scratch

    # ------------------------------------------------------------------ raw access
    def get(self, command: str) -> str:
        return self.t.get(command).decode(errors="replace").strip()

    def set(self, command: str, data: bytes | None = None) -> None:
        self.t.set(command, data)

    def tcl(self, expression: str) -> str:
        """Evaluate a Tcl expression inside DS9 and return its value (through a file)."""
        from ds9claw.ds9.actions import _tcl_value

        return _tcl_value(self.t, expression, self.scratch)

    # ------------------------------------------------------------------ state
    def reset(self) -> None:
        """Back to one empty frame, no tiling, no lock, no analysis windows or dialogs."""
        # a parameter dialog left open by a failed test would swallow the next test's
        # click: cancel it (its DialogWait returns when ed(ok) changes)
        if self.tcl("winfo exists .param") == "1":
            self.tcl("after 0 {set ::ed(ok) 0}")
            deadline = time.monotonic() + 10
            while self.tcl("winfo exists .param") == "1" and time.monotonic() < deadline:
                time.sleep(0.05)
        self.tcl("foreach w [winfo children .] {if {[string match .at* $w]} {destroy $w}}")
        self.tcl("if {[winfo exists .ds9clawtxt]} {SimpleTextDestroy ds9clawtxt}; list")
        self.set("tile no")
        self.set("lock frame none")
        self.set("frame delete all")
        self.set("frame new")
        self.set("width 800")
        self.set("height 500")

    def frames(self) -> list[int]:
        return [int(x) for x in self.get("frame all").split()]

    def frame_data(self, frame: int) -> np.ndarray:
        self.set(f"frame {frame}")
        with fits.open(io.BytesIO(self.t.get("fits")), memmap=False) as hdul:
            return np.asarray(hdul[0].data)

    def frame_header(self, frame: int):
        self.set(f"frame {frame}")
        with fits.open(io.BytesIO(self.t.get("fits")), memmap=False) as hdul:
            return hdul[0].header.copy()

    def load(self, path: Path, ext: str = "[SCI]") -> None:
        self.set(f"file {{{path}{ext}}}")

    def draw(self, region_text: str) -> None:
        self.set("regions", region_text.encode())

    def regions(self) -> str:
        return self.get("regions -format ds9 -system image")

    # ------------------------------------------------------------------ analysis menu
    def task_index(self, name: str) -> int:
        for line in self.get("analysis task").splitlines():
            number, _, label = line.partition(" ")
            if label.strip() == name:
                return int(number)
        raise AssertionError(f"no analysis task {name!r} in {self.get('analysis task')!r}")

    def _running(self, index: int) -> bool:
        return self.tcl(f"info exists ianalysis(menu,{index},pid)") == "1"

    def wait_task(self, index: int, timeout: float = 60.0) -> None:
        from ds9claw.ds9.menu import wait_for_analysis_task
        from ds9claw.errors import TransportError

        try:
            wait_for_analysis_task(self.t, index, timeout=timeout, scratch=self.scratch)
        except TransportError as err:
            raise AssertionError(str(err)) from err

    def task(self, name: str, timeout: float = 60.0) -> str:
        """Run a menu entry as a click would (``analysis task <n>``); return its text output."""
        index = self.task_index(name)
        before = self.window_texts(index)
        self.set(f"analysis task {index}")
        self.wait_task(index, timeout)
        return self.task_text(index, before)

    def click_with_dialog(self, name: str, values: dict[int, str], timeout: float = 60.0) -> str:
        """Click a menu entry that opens a parameter dialog, type ``values``, press OK.

        ``values`` maps the dialog's item number (0-based, as in the analysis file) to the
        text typed into it.  The click is scheduled with ``after`` so that DS9's modal
        dialog does not block the XPA request that asked for it (``analysis task`` over
        XPA would: DS9 serves no XPA request while one is inside a dialog).
        """
        index = self.task_index(name)
        before = self.window_texts(index)
        parent = self.tcl(f"set ianalysis(menu,{index},parent)")
        label = self.tcl(f"set ianalysis(menu,{index},item)")
        self.tcl(f"after 0 [list {parent} invoke [{parent} index {{{label}}}]]")
        # Wait for the dialog's grab, not only its window: DS9 (DialogWait) grabs right
        # before 'tkwait variable ed(ok)'.  Pressing OK earlier, while DS9 still waits for
        # the window to become visible (slow X servers), sets ed(ok) before DS9 starts
        # waiting for it, and the dialog then never returns.
        deadline = time.monotonic() + timeout
        while self.tcl("grab current") != ".param":
            if time.monotonic() > deadline:
                raise AssertionError(
                    "the parameter dialog did not open (toplevels: "
                    f"{self.tcl('winfo children .')!r}, grab: {self.tcl('grab current')!r})"
                )
            time.sleep(0.05)
        children = self.tcl("winfo children .param.param").split()
        for item, text in values.items():
            entry = next(n for n in children if re.fullmatch(rf"\.param\.param\.a\d+-0-{item}", n))
            if self.tcl(f"winfo class {entry}") == "TFrame":  # 'open' item: entry + Browse
                entry = f"{entry}.e"
            if self.tcl(f"winfo class {entry}") == "TCheckbutton":
                var = self.tcl(f"{entry} cget -variable")
                self.tcl(f"set {var} {{{text}}}")
            else:
                self.tcl(f"{entry} delete 0 end")
                self.tcl(f"{entry} insert 0 {{{text}}}")
        self.tcl("after 0 {.param.buttons.ok invoke}")
        time.sleep(0.1)
        deadline = time.monotonic() + timeout
        while not self._running(index):
            if self.tcl("winfo exists .param") == "0" and self.task_text(index, before):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"task {name!r} did not start")
            time.sleep(0.05)
        self.wait_task(index, timeout)
        return self.task_text(index, before)

    def window_texts(self, index: int) -> list[str]:
        """Texts of the windows task ``index`` reports in (shared ds9claw window, its own)."""
        from ds9claw.ds9.menu import task_windows

        texts = []
        for window in task_windows(index):
            exists = self.tcl(f"winfo exists {window}") == "1"
            texts.append(self.tcl(f"{window} get 1.0 end") if exists else "")
        return texts

    def task_text(self, index: int, before: list[str]) -> str:
        """What task ``index`` wrote since ``before`` (`window_texts` before the click)."""
        from ds9claw.ds9.menu import new_text

        return new_text(before, self.window_texts(index))


def message_boxes(transport: XpaTransport, scratch: Path) -> list[str]:
    """Return the texts of the Tk message boxes (DS9's modal error boxes) open in a DS9."""
    from ds9claw.ds9.actions import _tcl_value

    windows = _tcl_value(transport, "winfo children .", scratch).split()
    return [
        _tcl_value(transport, f"{w}.msg cget -text", scratch)
        for w in windows
        if w.startswith(".__tk__messagebox")
    ]


def read_png(path: Path) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA/grey, non-interlaced PNG (what DS9 writes) to an array."""
    raw = Path(path).read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    pos = 8
    idat = b""
    width = height = depth = ctype = interlace = None
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        kind = raw[pos + 4 : pos + 8]
        body = raw[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    assert depth == 8 and interlace == 0, (depth, interlace)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    stride = width * channels
    data = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(height):
        ftype, line = data[y, 0], data[y, 1:].astype(np.int32)
        cur = np.zeros(stride, np.int32)
        if ftype == 0:
            cur = line
        elif ftype == 1:
            cur = np.cumsum(line.reshape(-1, channels), axis=0).reshape(-1) & 255
        elif ftype == 2:
            cur = (line + prev) & 255
        else:
            for x in range(stride):
                a = cur[x - channels] if x >= channels else 0
                b = prev[x]
                c = prev[x - channels] if x >= channels else 0
                if ftype == 1:
                    pred = a
                elif ftype == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 255
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels).astype(np.uint8)
