"""The SAMP listener: the resident ``ds9claw`` client serving other tools' messages.

`ds9claw.listener.listen.Ds9ClawListener` is the listener behind ``ds9claw samp listen``
(registration and the run loop); `ds9claw.listener.dispatch` queues messages and
replies; the handlers, one module per message family, do the work
(`~ds9claw.listener.detect_handler`, `~ds9claw.listener.commit_handler`,
`~ds9claw.listener.image_handler`, sharing `~ds9claw.listener.handler_settings`);
`ds9claw.listener.image_watch` watches broadcast images for their region files.  The hub
client it shares with `ds9claw.ds9` (finding hubs, every call bounded in time) is
`ds9claw.sampclient`; the DS9 transport over SAMP is `ds9claw.ds9.samp_transport`.  Importing this
package imports nothing else.
"""
