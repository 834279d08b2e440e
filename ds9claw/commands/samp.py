"""``ds9claw samp``: the resident SAMP client, its status, and a private hub.

``ds9claw samp listen``  register on the hub as ``ds9claw`` and serve other tools
``ds9claw samp status``  list the hub's clients (DS9s with their titles, ds9claw)
``ds9claw samp hub``     run a standard-profile hub (no web profile) until Ctrl-C
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

from ..errors import ParameterError

__all__ = ["register", "run"]

_log = logging.getLogger(__name__)

_LISTEN_EPILOG = """\
Messages served (SAMP MTypes; every value a string):
  image.load.fits   another tool shows an exposure: ds9claw remembers it; when a region
                    file is found for it by --region-template (at once, or later while
                    --watch lasts) it detects the claws and shows image, seed and mask in
                    DS9 (--ds9 TITLE, --samp).
  ds9claw.detect    image-url, region (DS9 region text) or region-url, detection
                    parameters (sigma, smooth, ignore-background ...), overwrite
                    (0: replace nothing; a message cannot widen --overwrite).
                    Reply: seed-url, mask-url, seed-path, mask-path, n-masked, rms.
  ds9claw.commit    rate-url, mask-url, flags, fill-value, dry-run.
                    Reply: status, n-flagged, n-masked, backup-url.
Only file:// urls of readable local files are accepted; errors come back as samp.error.

Example (TOPCAT or Aladin running, or `ds9claw samp hub &`):
  ds9claw samp listen --region-template '{stem}_claws.pix.reg' --sigma 2 --smooth 1 \\
      --ignore-background --overwrite
"""


def register(subparsers, parents=()) -> None:
    """Add the ``samp`` subcommand with ``listen``, ``status`` and ``hub``."""
    parser = subparsers.add_parser(
        "samp",
        parents=list(parents),
        help="SAMP: serve other tools (listen), list the hub's clients, run a hub",
        description="Talk to other astronomy tools over a SAMP hub (standard profile).",
    )
    sub = parser.add_subparsers(dest="samp_command", metavar="ACTION")
    parser.set_defaults(func=_no_action, samp_parser=parser)

    listen = sub.add_parser(
        "listen",
        parents=list(parents),
        help="register as 'ds9claw' and serve image.load.fits, ds9claw.detect, ds9claw.commit",
        description=(
            "Register on the SAMP hub as 'ds9claw' and serve other tools until Ctrl-C or "
            "until the hub stops."
        ),
        epilog=_LISTEN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_hub(listen)
    listen.add_argument(
        "--region-template",
        default="{stem}_claws.pix.reg",
        help="region file of a broadcast image, relative to its directory "
        "({stem}, {dataset}, {name}, {dir}; '{{' and '}}' are literal braces; "
        "default {stem}_claws.pix.reg)",
    )
    listen.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="write products here (default: beside each input)",
    )
    listen.add_argument(
        "--overwrite",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="also replace files ds9claw did not write at the product paths (its own "
        "earlier products are always replaced; a SAMP message cannot ask for this)",
    )
    listen.add_argument(
        "--ds9",
        dest="ds9_target",
        default=None,
        metavar="TITLE",
        help="DS9 to show broadcast images in (default: the only one)",
    )
    listen.add_argument(
        "--samp-ds9",
        dest="ds9_samp",
        action="store_true",
        default=None,
        help="reach that DS9 over SAMP only (default: XPA, else SAMP)",
    )
    listen.add_argument(
        "--no-show", dest="show", action="store_false", help="do not show products in DS9"
    )
    listen.add_argument(
        "--watch",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="keep looking for the region file of a broadcast image this "
        "long (default 600; 0: only when it arrives)",
    )
    listen.add_argument(
        "--reconnect",
        action="store_true",
        help="when the hub stops, wait for a new one instead of ending",
    )
    listen.add_argument(
        "--workers", type=int, default=2, help="messages processed at the same time (default 2)"
    )
    from .detect import add_detection_arguments

    add_detection_arguments(listen)
    listen.set_defaults(func=_run_listen)

    status = sub.add_parser(
        "status",
        parents=list(parents),
        help="list the clients of the SAMP hub (DS9s with titles, ds9claw)",
        description="List the clients registered on the SAMP hub.",
    )
    _add_hub(status)
    status.add_argument(
        "--timeout", type=float, default=5.0, help="seconds each client gets to answer (default 5)"
    )
    status.set_defaults(func=_run_status)

    hub = sub.add_parser(
        "hub",
        parents=list(parents),
        help="run a private SAMP hub (standard profile only) until Ctrl-C",
        description=(
            "Run a SAMP hub (standard profile only, no web profile) writing LOCKFILE. "
            "Point other tools at it with SAMP_HUB=std-lockurl:file://LOCKFILE."
        ),
    )
    hub.add_argument(
        "--lockfile",
        type=Path,
        default=None,
        help="lockfile to write (default: the one $SAMP_HUB names, else ~/.samp)",
    )
    hub.set_defaults(func=_run_hub)


def _say(text: str, *, flush: bool = True) -> None:
    """Write a line of output (results go to standard output, messages to the log)."""
    sys.stdout.write(f"{text}\n")
    if flush:
        sys.stdout.flush()


def _add_hub(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--hub",
        default=None,
        metavar="LOCKFILE",
        help="SAMP hub lockfile (path or std-lockurl:file://...; default $SAMP_HUB, else ~/.samp)",
    )


def _no_action(args: argparse.Namespace) -> int:
    args.samp_parser.print_help()
    return 2


def run(args: argparse.Namespace) -> int:
    """Run the chosen ``ds9claw samp`` action; return the exit status."""
    return int(args.func(args) or 0)


@contextlib.contextmanager
def _stop_on_sigterm(event: threading.Event):
    """Let SIGTERM end the loop cleanly (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda *_: event.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_listen(args: argparse.Namespace) -> int:
    from ..listener.handler_settings import HandlerSettings
    from ..listener.image_watch import ShowSettings
    from ..listener.listen import Ds9ClawListener
    from .detect import parameters_from_args

    if args.workers < 1:
        raise ParameterError(f"--workers must be 1 or more, got {args.workers}")
    if args.watch < 0:
        raise ParameterError(f"--watch must be 0 or more seconds, got {args.watch}")
    if args.output_dir is not None and not args.output_dir.is_dir():
        raise ParameterError(f"output directory {args.output_dir} does not exist: create it")
    settings = HandlerSettings(
        region_template=args.region_template,
        params=parameters_from_args(args),
        output_dir=args.output_dir,
        overwrite=args.overwrite,
        invalid_flags=args.dq_invalid,
    )
    if args.dq_invalid is not None:
        from ..dq import interpret_flags

        interpret_flags(args.dq_invalid)
    show = ShowSettings(enabled=args.show, target=args.ds9_target, samp=args.ds9_samp)
    listener = Ds9ClawListener(
        hub=args.hub,
        settings=settings,
        show=show,
        workers=args.workers,
        reconnect=args.reconnect,
        watch_seconds=args.watch,
    )
    stop = threading.Event()
    with _stop_on_sigterm(stop):
        try:
            # a Ctrl-C right after registering (before the loop runs) unregisters too
            listener.start()
            _say(
                f"ds9claw listening on {listener.hub} as {listener.public_id} (Ctrl-C to stop)",
                flush=True,
            )
            reason = listener.run(stop)
        except KeyboardInterrupt:
            reason = "interrupted"
        finally:
            listener.close()
    messages = {
        "stopped": "ds9claw listener stopped",
        "interrupted": "ds9claw listener interrupted, unregistered",
        "hub-stopped": "the SAMP hub stopped: ds9claw listener ended",
    }
    _say(messages.get(reason, reason), flush=True)
    return 0


def _run_status(args: argparse.Namespace) -> int:
    from ..ds9.samp_discovery import list_ds9
    from ..sampclient.hub_lockfile import locate_hub
    from ..sampclient.session import HubSession

    info = locate_hub(args.hub)
    with HubSession(info, name="ds9claw (status)", timeout=args.timeout) as session:
        _say(f"{info}")
        ds9s = {d.client_id: d for d in list_ds9(session, timeout=args.timeout)}
        for client_id in session.registered_clients():
            if client_id == session.public_id:
                continue
            meta = session.metadata(client_id)
            name = meta.get("samp.name", "?")
            line = f"  {client_id:8s} {name}"
            if client_id in ds9s:
                line += f"  {ds9s[client_id].describe()}"
            elif meta.get("ds9claw.version"):
                line += f"  (ds9claw {meta['ds9claw.version']})"
            _say(line)
    return 0


def _run_hub(args: argparse.Namespace) -> int:
    from ..sampclient.private_hub import run_hub

    lockfile = args.lockfile
    if lockfile is None:
        from ..sampclient.hub_lockfile import default_lockfile

        lockfile = default_lockfile()
    stop = threading.Event()
    with _stop_on_sigterm(stop):
        _say(f"SAMP hub: lockfile {lockfile} (Ctrl-C to stop)", flush=True)
        return run_hub(lockfile, stop_event=stop)
