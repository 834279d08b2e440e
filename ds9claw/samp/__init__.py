"""SAMP: the resident ``ds9claw`` client serving other tools, and hub helpers.

`ds9claw.samp.listen.Ds9ClawListener` is the listener behind ``ds9claw samp listen``;
`ds9claw.samp.hub` finds hubs and bounds every call in time; the DS9 transport over
SAMP is `ds9claw.ds9.samp`.  Importing this package imports nothing else.
"""
