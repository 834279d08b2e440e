"""One module per ``ds9claw`` subcommand: ``register(subparsers)`` and ``run(args)``."""
