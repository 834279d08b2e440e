"""The SAMP listener: the resident ``ds9claw`` client serving other tools' messages.

`ds9claw.listener.listen.Ds9ClawListener` is the listener behind ``ds9claw samp listen``;
the hub client it shares with `ds9claw.ds9` (finding hubs, every call bounded in time)
is `ds9claw.sampclient`; the DS9 transport over
SAMP is `ds9claw.ds9.samp_transport`.  Importing this package imports nothing else.
"""
