"""Checks applied to SAMP message values (pure functions, no hub)."""

from __future__ import annotations

import os

import pytest

from ds9claw.errors import InputError, ParameterError
from ds9claw.listener.messages import (
    Limits,
    detection_parameters,
    file_url_to_path,
    normalise_keys,
    path_to_file_url,
    text_value,
    truth_value,
)


def test_file_urls_round_trip_and_ds9_forms(tmp_path):
    odd = tmp_path / "a dir" / "x%20y_cal.fits"
    odd.parent.mkdir()
    odd.write_bytes(b"SIMPLE")
    url = path_to_file_url(odd)
    assert url.startswith("file://localhost/") and " " not in url
    assert file_url_to_path(url, what="image", max_bytes=100) == odd
    plain = tmp_path / "plain.fits"
    plain.write_bytes(b"x" * 10)
    for form in (f"file://{plain}", f"file://localhost{plain}", f"file://localhost/{plain}"):
        assert file_url_to_path(form, what="image", max_bytes=100) == plain


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.org/x.fits", "scheme 'http' refused"),
        ("https://example.org/x.fits", "scheme 'https' refused"),
        ("ftp://example.org/x.fits", "scheme 'ftp' refused"),
        ("/plain/path.fits", "scheme 'none' refused"),
        ("file://remote.example.org/x.fits", "only local files"),
        ("file:///x.fits?a=1", "query or fragment"),
        ("file:///x.fits#frag", "query or fragment"),
        ("file:///no/such/file.fits", "does not exist"),
    ],
)
def test_refused_urls(url, message):
    with pytest.raises(InputError, match=message):
        file_url_to_path(url, what="image", max_bytes=1 << 30)


def test_refused_files(tmp_path):
    big = tmp_path / "big.fits"
    big.write_bytes(b"x" * 101)
    with pytest.raises(InputError, match="101 bytes: larger than the 100-byte limit"):
        file_url_to_path(path_to_file_url(big), what="image", max_bytes=100)
    with pytest.raises(InputError, match="not a regular file"):
        file_url_to_path(path_to_file_url(tmp_path), what="image", max_bytes=100)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        file_url_to_path(path_to_file_url(fifo), what="image", max_bytes=100)
    if os.getuid() != 0:  # root reads everything
        secret = tmp_path / "secret.fits"
        secret.write_bytes(b"x")
        secret.chmod(0)
        with pytest.raises(InputError, match="not readable"):
            file_url_to_path(path_to_file_url(secret), what="image", max_bytes=100)


def test_text_values_and_booleans():
    assert text_value({"a": "x"}, "a", limit=1) == "x"
    assert text_value({"a": 2.5}, "a", limit=10) == "2.5"
    assert text_value({}, "a", limit=1) is None
    with pytest.raises(ParameterError, match="'a' is missing"):
        text_value({}, "a", limit=1, required=True)
    with pytest.raises(ParameterError, match="2 characters long: the limit is 1"):
        text_value({"a": "xy"}, "a", limit=1)
    with pytest.raises(ParameterError, match="must be a string, not a list"):
        text_value({"a": ["x"]}, "a", limit=10)
    with pytest.raises(ParameterError, match="must be a string, not a bool"):
        text_value({"a": True}, "a", limit=10)
    with pytest.raises(ParameterError, match="NUL"):
        text_value({"a": "x\x00"}, "a", limit=10)
    assert truth_value("1", "k") and truth_value("TRUE", "k") and not truth_value("no", "k")
    with pytest.raises(ParameterError, match="must be 1 or 0"):
        truth_value("maybe", "k")


def test_detection_parameters_from_strings():
    p = detection_parameters(
        {"sigma": "2", "smooth": "1.5", "ignore-background": "1", "min-area": "10"}
    )
    assert (p.sigma, p.smooth, p.ignore_background, p.min_area) == (2.0, 1.5, True, 10)
    for bad, match in (
        ({"sigma": "inf"}, "must be finite"),
        ({"sigma": "0"}, "sigma must be a positive"),
        ({"min-area": "1.5"}, "whole number"),
        ({"minpixarea": "9"}, "minpixarea counts neighbours"),
        ({"smooth": "x" * 300}, "the limit is 256"),
    ):
        with pytest.raises(ParameterError, match=match):
            detection_parameters(bad)


def test_unknown_and_too_many_keys():
    limits = Limits(max_params=3)
    assert normalise_keys({"image_url": "x"}, {"image-url"}, limits=limits) == {"image-url": "x"}
    with pytest.raises(ParameterError, match="unknown parameter 'cmd'"):
        normalise_keys({"cmd": "quit"}, {"image-url"}, limits=limits)
    with pytest.raises(ParameterError, match="4 parameters: the limit is 3"):
        normalise_keys({str(i): i for i in range(4)}, {"image-url"}, limits=limits)
    with pytest.raises(ParameterError, match="must be a map"):
        normalise_keys("junk", {"image-url"}, limits=limits)
