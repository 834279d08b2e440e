"""``python -m ds9claw``: the same as the ``ds9claw`` command."""

from ds9claw.cli import main

raise SystemExit(main())
