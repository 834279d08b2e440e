"""Helpers for the commit tests: real stdatamodels rate files and FITS masks."""
