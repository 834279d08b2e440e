"""ds9claw: find JWST NIRCam claws inside DS9 regions and remove them from the rate DQ.

The package imports nothing heavy at import time; the public API lives in
`ds9claw.api` (detection on files), `ds9claw.detect` (pure arrays),
`ds9claw.commit` (DQ commit) and `ds9claw.ds9` (talking to DS9).
"""

from __future__ import annotations

__all__ = ["__version__"]

from ._version import __version__
