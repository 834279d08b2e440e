"""Finding and talking to a SAMP hub (standard profile only), every call bounded in time.

`pyvo.samp` does the protocol work (astropy 8 deprecated ``astropy.samp`` in its favour;
``astropy.samp`` is used only when pyvo is not installed).  What this package adds, one
module each:

* `~ds9claw.sampclient.hub_lockfile`: `locate_hub` reads the hub's lockfile named by an
  explicit argument, by ``SAMP_HUB`` (``std-lockurl:file://...``) or ``~/.samp``; only
  local lockfiles are accepted and nothing else is looked at or touched (no scan of
  ``~/.samp-1``, no clean-up of other hubs' lockfiles);
* `~ds9claw.sampclient.bounded_proxy`: `BoundedHubProxy` is a `pyvo.samp.SAMPHubProxy`
  whose XML-RPC connections carry a socket timeout, so no call hangs when the hub dies or
  stalls (and `samp_module`, the SAMP implementation in use);
* `~ds9claw.sampclient.session`: `HubSession` is a non-callable client (it only sends
  ``callAndWait`` requests) used by the DS9 transport and by tests playing "another tool";
* `~ds9claw.sampclient.private_hub`: `start_hub` / `run_hub` start a private hub with its
  own lockfile and without the web profile (``ds9claw samp hub``, test fixtures).

The DS9 transport (`ds9claw.ds9`) and the resident listener (`ds9claw.listener`) both use
it; it imports neither.  Nothing here changes the process environment, and no module-level
code runs on import beyond definitions.
"""

__all__: list[str] = []
