"""Start and stop a real SAOImage DS9, optionally on its own Xvfb display.

Used by the test fixtures, the benchmark and ``ds9claw demo``.  Every wait is bounded,
and `Ds9Process.stop` ends everything that was started here: DS9, the ``xpans`` name
server DS9 spawns for a private XPA directory, and the Xvfb server.

XPA isolation
-------------
By default (``private_xpa=True``) DS9 runs with ``XPA_METHOD=local`` and its own
``XPA_TMPDIR`` (a fresh temporary directory), so it gets its own ``xpans`` that nothing
else shares and that can be stopped with it.  `Ds9Process.xpa_target` is then DS9's
socket path inside that directory: the same string DS9 gives analysis tasks as
``$xpa_method``, and one that `ds9claw.ds9.xpa.XpaTransport` can reach without any
environment (it derives ``XPA_TMPDIR`` from the path).  `Ds9Process.xpa_env` holds the
environment a plain ``xpaget <title> ...`` needs.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import TransportError
from .processes import child_pids, command_line, end_process_group, kill_pid, start_xvfb

__all__ = ["Ds9Process", "start_ds9"]

_log = logging.getLogger(__name__)

#: Options that keep DS9's IIS server (``/tmp/.IMT*`` sockets, port 5137) out of the way
#: of other DS9s on the same machine.
_NO_IIS = ("-fifo", "none", "-port", "0", "-unix", "none")


class Ds9Process:
    """A DS9 started by `start_ds9`; use it as a context manager or call `stop`.

    Attributes
    ----------
    title : str
        DS9's ``-title`` (also its XPA name).
    display : str
        The X display DS9 shows on (``":3"``).
    xpa_target : str or None
        What to pass to ``ds9claw ds9 --target`` or `ds9claw.ds9.xpa.connect`: DS9's
        XPA socket path with a private XPA directory, else its title; None without XPA.
    xpa_env : dict of str to str
        Environment variables (``XPA_METHOD``, ``XPA_TMPDIR``) with which the command-line
        ``xpaget``/``xpaset`` tools reach this DS9 by title.
    env : dict of str to str
        The full environment DS9 runs in (analysis tasks inherit it).
    workdir : pathlib.Path
        Temporary directory of this DS9 (private XPA sockets, logs); removed by `stop`.
    log_path : pathlib.Path
        DS9's standard output and error.
    """

    def __init__(
        self,
        *,
        title: str,
        display: str,
        process: subprocess.Popen,
        xvfb: subprocess.Popen | None,
        env: dict[str, str],
        xpa_env: dict[str, str],
        workdir: Path,
        log_path: Path,
        private_xpa: bool,
    ) -> None:
        self.title = title
        self.display = display
        self.process = process
        self.xvfb = xvfb
        self.env = env
        self.xpa_env = xpa_env
        self.workdir = workdir
        self.log_path = log_path
        self.private_xpa = private_xpa
        self.xpa_target: str | None = None
        self._helpers: set[int] = set()
        self._stopped = False

    @property
    def pid(self) -> int:
        """Process id of DS9 (the ``wish`` interpreter running it)."""
        return self.process.pid

    def alive(self) -> bool:
        """Return True while DS9 is running."""
        return self.process.poll() is None

    def log_text(self) -> str:
        """Return what DS9 printed so far (for error messages)."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def _note_helpers(self) -> None:
        """Remember DS9's own helper processes (``xpans`` of the private XPA directory)."""
        if not self.private_xpa:
            return
        marker = str(self.workdir)
        for pid in child_pids(self.process.pid):
            cmd = command_line(pid)
            if cmd and Path(cmd[0]).name == "xpans" and any(marker in c for c in cmd):
                self._helpers.add(pid)

    def _stray_helpers(self) -> set[int]:
        """``xpans`` processes serving this DS9's private XPA directory, wherever they are."""
        found: set[int] = set()
        if not self.private_xpa:
            return found
        marker = str(self.workdir) + os.sep
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            cmd = command_line(int(entry.name))
            if cmd and Path(cmd[0]).name == "xpans" and any(c.startswith(marker) for c in cmd):
                found.add(int(entry.name))
        return found

    def stop(self, grace: float = 5.0) -> None:
        """Stop DS9, its private ``xpans`` and Xvfb (if started here); idempotent.

        Parameters
        ----------
        grace : float
            Seconds each process gets after SIGTERM before it is killed.
        """
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            self._note_helpers()
        end_process_group(self.process, grace=grace)
        for pid in self._helpers | self._stray_helpers():
            kill_pid(pid, grace=grace)
        end_process_group(self.xvfb, grace=grace)
        shutil.rmtree(self.workdir, ignore_errors=True)
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        _log.debug("stopped DS9 %r", self.title)

    def detach(self) -> None:
        """Leave DS9 (and its Xvfb, xpans) running after this process exits."""
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> Ds9Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.alive() else "stopped"
        return f"<Ds9Process {self.title!r} on {self.display} pid={self.pid} {state}>"


def _xpa_ready(proc: Ds9Process, xpaaccess: str, timeout: float) -> str:
    """Wait until DS9's XPA access point answers; return its XPA address."""
    deadline = time.monotonic() + timeout
    env = {**proc.env, **proc.xpa_env}
    while time.monotonic() < deadline:
        if not proc.alive():
            raise TransportError(
                f"DS9 {proc.title!r} exited during start-up (status {proc.process.returncode}); "
                f"its output: {proc.log_text().strip()[-500:] or '(none)'}"
            )
        try:
            out = subprocess.run(
                [xpaaccess, "-v", proc.title],
                env=env,
                capture_output=True,
                timeout=max(0.5, min(3.0, deadline - time.monotonic())),
                check=False,
            ).stdout.decode(errors="replace")
        except subprocess.TimeoutExpired:
            out = ""
        lines = [line.strip() for line in out.splitlines() if line.strip()]
        if lines and lines[0] not in ("no", "yes"):
            return lines[0]
        if lines and lines[0] == "yes":
            return proc.title
        time.sleep(0.05)
    raise TransportError(
        f"DS9 {proc.title!r} did not open its XPA access point within {timeout:g} s "
        f"(XPA_METHOD=local); its output: {proc.log_text().strip()[-500:] or '(none)'}"
    )


#: A SAMP lockfile url that can never name a file (nothing can live below /dev/null).
_NO_SAMP_HUB = "std-lockurl:file:///dev/null/no-samp-hub"


def _samp_arguments(samp: bool | None, env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """Return the DS9 options and environment that give the SAMP behaviour asked for.

    DS9 8.4.1 joins a hub at start-up when it finds one, quietly; its ``-samp no``
    option then calls ``SAMPDisconnect``, which opens a modal "SAMP: not connected"
    message box when there was no hub (always, in a private ``HOME``), and
    ``-samp connect`` opens "unable to locate HUB" when there is none.  A modal box
    would sit over the user's DS9 and hold Tk's grab.  So: no SAMP is asked for by
    pointing DS9's ``SAMP_HUB`` at a lockfile that does not exist (DS9 then finds no
    hub and says nothing), and a required hub is checked here before DS9 starts.
    """
    if samp is None:
        return [], {}
    if samp is False:
        return [], {"SAMP_HUB": _NO_SAMP_HUB}
    from ..sampclient.hub_lockfile import locate_hub

    locate_hub(env=env)  # TransportError naming the lockfile when no hub is there
    return ["-samp", "connect"], {}


def start_ds9(
    title: str | None = None,
    *,
    xvfb: bool | None = None,
    xpa: bool = True,
    samp: bool | None = False,
    private_xpa: bool = True,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    ds9: str = "ds9",
    screen: str = "1600x1200x24",
    cwd: str | os.PathLike[str] | None = None,
) -> Ds9Process:
    """Start SAOImage DS9 and wait until it is ready.

    Parameters
    ----------
    title : str or None
        DS9's ``-title`` and XPA name; default a unique ``ds9claw-<pid>-<hex>``.
    xvfb : bool or None
        Run DS9 on a new Xvfb display.  None: only when ``DISPLAY`` is unset (in ``env``,
        else in the process environment).
    xpa : bool
        Open DS9's XPA access points (``-xpa local``); False gives ``-xpa no``.  With XPA,
        this returns once the access point answers.
    samp : bool or None
        False: DS9 joins no SAMP hub.  True: DS9 joins the hub ``SAMP_HUB`` (in ``env``)
        or ``$HOME/.samp`` names, which must be running (else `TransportError`); that
        DS9 has registered is for the caller to check.  None: DS9's own default (it
        joins a running hub if it finds one, quietly).  DS9 8.4.1 shows a modal error
        box for ``-samp no`` ("SAMP: not connected") and for ``-samp connect`` without a
        hub, so neither is left to DS9: see `_samp_arguments`.
    private_xpa : bool
        Give DS9 its own ``XPA_TMPDIR`` (and so its own ``xpans``), stopped with it.
    extra_args : sequence of str
        More DS9 command-line arguments (files to load, ``-geometry`` ...), appended.
    env : mapping or None
        Environment for DS9 (default: this process's); ``XPA_*``, ``DISPLAY`` are set here.
    timeout : float
        Seconds to wait for Xvfb and for DS9's XPA access point.
    ds9 : str
        The DS9 executable.
    screen : str
        Xvfb screen geometry ``WxHxDEPTH``.
    cwd : path-like or None
        Working directory of DS9 (and of its analysis tasks); default this process's.

    Returns
    -------
    Ds9Process
        The running DS9; stop it with `Ds9Process.stop` or a ``with`` block.

    Raises
    ------
    TransportError
        DS9, Xvfb or ``xpaaccess`` is missing, or DS9 is not ready within ``timeout``.
    """
    base = dict(os.environ if env is None else env)
    ds9_exe = shutil.which(ds9, path=base.get("PATH"))
    if ds9_exe is None:
        raise TransportError(
            f"cannot start DS9: {ds9!r} is not on PATH (Debian: apt-get install saods9)"
        )
    xpaaccess = shutil.which("xpaaccess", path=base.get("PATH"))
    if xpa and xpaaccess is None:
        raise TransportError(
            "cannot wait for DS9: xpaaccess is not on PATH (Debian: apt-get install xpa-tools)"
        )
    title = title or f"ds9claw-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if xvfb is None:
        xvfb = not base.get("DISPLAY")
    samp_args, samp_env = _samp_arguments(samp, base)  # a missing hub: before anything starts

    workdir = Path(tempfile.mkdtemp(prefix="ds9claw-ds9-"))
    xvfb_proc = None
    try:
        if xvfb:
            xvfb_proc, display = start_xvfb(base, timeout=timeout, screen=screen)
        else:
            display = base.get("DISPLAY", "")
            if not display:
                raise TransportError("DISPLAY is not set and xvfb=False: nowhere to show DS9")
        run_env = dict(base)
        run_env["DISPLAY"] = display
        xpa_env: dict[str, str] = {}
        if xpa:
            xpa_env["XPA_METHOD"] = "local"
            if private_xpa:
                xpa_dir = workdir / "xpa"
                xpa_dir.mkdir()
                xpa_env["XPA_TMPDIR"] = str(xpa_dir)
            run_env.update(xpa_env)
        args = [ds9_exe, "-title", title]
        args += ["-xpa", "local"] if xpa else ["-xpa", "no"]
        args += samp_args
        run_env.update(samp_env)
        args += [*_NO_IIS, *extra_args]
        log_path = workdir / "ds9.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=run_env,
                cwd=None if cwd is None else str(cwd),
                start_new_session=True,
            )
    except BaseException:
        end_process_group(xvfb_proc, grace=2.0)
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    proc = Ds9Process(
        title=title,
        display=display,
        process=process,
        xvfb=xvfb_proc,
        env=run_env,
        xpa_env=xpa_env,
        workdir=workdir,
        log_path=log_path,
        private_xpa=bool(xpa and private_xpa),
    )
    atexit.register(proc.stop)
    try:
        if xpa:
            assert xpaaccess is not None
            address = _xpa_ready(proc, xpaaccess, timeout)
            proc.xpa_target = address if private_xpa and address.startswith("/") else title
            proc._note_helpers()
        else:
            # nothing to poll without XPA: at least make sure DS9 did not die at once
            time.sleep(0.2)
            if not proc.alive():
                raise TransportError(
                    f"DS9 {title!r} exited during start-up; its output: "
                    f"{proc.log_text().strip()[-500:] or '(none)'}"
                )
    except BaseException:
        proc.stop()
        raise
    _log.debug("started %r", proc)
    return proc
