"""Run commits in forked children so that a test can ``kill -9`` them mid-way.

Started as ``python forkserver.py WARMUP.fits``.  It imports ds9claw and stdatamodels
and opens WARMUP.fits as an ImageModel once (loading the ASDF schemas), then for
each stdin line ``RATE<TAB>MASK`` forks a child that calls `ds9claw.commit.commit_mask`
and prints ``pid N`` at once.  The child is reaped only when the next line, ``reap``,
arrives (until then its pid cannot be reused, so the test's ``kill`` can only reach it),
and ``exit STATUS`` is printed.
Forking keeps the imports warm, so the kill lands inside the commit itself and each
trial takes a fraction of a second instead of a fresh interpreter's two.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    from stdatamodels.jwst.datamodels import ImageModel

    from ds9claw.commit import commit_mask

    ImageModel(sys.argv[1]).close()
    print("ready", flush=True)
    while True:
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            break
        line = line.rstrip("\n")
        rate, mask = line.split("\t")
        pid = os.fork()
        if pid == 0:  # child: commit and leave without cleanup handlers
            code = 0
            try:
                commit_mask(rate, [mask], lock_timeout=30)
            except BaseException as error:
                print(f"child error {type(error).__name__}: {error}", file=sys.stderr, flush=True)
                code = 1
            os._exit(code)
        print(f"pid {pid}", flush=True)
        if sys.stdin.readline().strip() != "reap":
            os.kill(pid, 9)
        _, status = os.waitpid(pid, 0)
        print(f"exit {status}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
