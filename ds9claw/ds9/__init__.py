"""Talking to SAOImage DS9: one Transport interface, XPA and SAMP implementations, actions."""
