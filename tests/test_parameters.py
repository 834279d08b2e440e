"""The one description per parameter (ds9claw.parameters) and what is derived from it."""

from __future__ import annotations

import argparse
import re
from dataclasses import fields
from pathlib import Path

import pytest

from ds9claw.commands.detect import add_detection_arguments, parameters_from_args
from ds9claw.convert import FALSE_WORDS, TRUE_WORDS, to_bool, to_float, to_int
from ds9claw.ds9.settings import Ds9Settings, _coerce
from ds9claw.errors import ParameterError
from ds9claw.listener.messages import DETECTION_KEYS, detection_parameters
from ds9claw.parameters import (
    DIALOG_PARAMETERS,
    PARAMETERS,
    DetectionParameters,
    describe,
    spec,
)

ANALYSIS_FILE = Path(__file__).parents[1] / "ds9_analysis" / "ds9claw.ans"


def test_every_field_of_detection_parameters_is_described_with_its_default():
    described = [(p.name, p.default) for p in PARAMETERS]
    actual = [(f.name, f.default) for f in fields(DetectionParameters)]
    assert actual == described


def test_provenance_keywords_are_unique_fits_keywords():
    keywords = [p.fits[0] for p in PARAMETERS]
    assert len(set(keywords)) == len(keywords)
    assert all(re.fullmatch(r"[A-Z0-9_-]{1,8}", k) for k in keywords), keywords
    assert all(len(p.fits[1]) < 47 for p in PARAMETERS)


def _param_block(name: str) -> dict[str, tuple[str, str, str, str]]:
    text = ANALYSIS_FILE.read_text(encoding="utf-8")
    block = text.split(f"\nparam {name}\n", 1)[1].split("\nendparam", 1)[0]
    lines = {}
    for line in block.splitlines():
        match = re.fullmatch(r"(\w+) (entry|checkbox) \{([^}]*)\} (\S+) \{([^}]*)\}", line)
        assert match, line
        lines[match.group(1)] = match.groups()[1:]
    return lines


def test_analysis_file_dialog_agrees_with_the_descriptions():
    dialog = _param_block("{Detect claws with parameters}")  # the block is named for its title
    for description in DIALOG_PARAMETERS:
        assert description.dialog is not None
        widget, label, default, hint = dialog[description.dialog.variable]
        assert (widget, label, hint) == (
            description.dialog.widget,
            description.dialog.label,
            description.dialog.hint,
        )
        assert description.convert(default) == description.default
    shown = {p.dialog.variable for p in PARAMETERS if p.dialog is not None}
    assert shown == {p.dialog.variable for p in DIALOG_PARAMETERS if p.dialog is not None}
    # the "with parameters..." entry passes every dialog value under the parameter's flag
    text = ANALYSIS_FILE.read_text(encoding="utf-8")
    command = next(line for line in text.splitlines() if "ds9claw ds9 params" in line)
    for description in DIALOG_PARAMETERS:
        assert f"{description.flags[0]} {{${description.dialog.variable}}}" in command


def test_ds9_settings_remember_exactly_the_dialog_parameters():
    settings = Ds9Settings()
    assert settings.detection_kwargs() == {p.name: p.default for p in DIALOG_PARAMETERS}
    loaded = _coerce(Ds9Settings(), {"sigma": "2.5", "minpixarea": 2.0,
                                     "ignore_background": "yes", "median_filter": "x"})  # fmt: skip
    assert (loaded.sigma, loaded.minpixarea, loaded.ignore_background) == (2.5, 2, True)
    assert loaded.median_filter == 1  # the bad value is ignored (with a warning)


def test_samp_keys_are_the_parameter_names_hyphenated():
    assert {p.name.replace("_", "-"): (p.name, p.kind) for p in PARAMETERS} == DETECTION_KEYS
    params = detection_parameters({"box-size": "32", "ignore-background": "on", "sigma": "2"})
    assert (params.box_size, params.ignore_background, params.sigma) == (32, True, 2.0)


def test_command_line_options_come_from_the_descriptions():
    parser = argparse.ArgumentParser()
    add_detection_arguments(parser)
    defaults = parameters_from_args(parser.parse_args([]))
    assert defaults == DetectionParameters()
    args = parser.parse_args(["--smooth-after", "1.5", "--box-size", "40", "--ignore-background"])
    assert parameters_from_args(args) == DetectionParameters(
        smooth=1.5, box_size=40, ignore_background=True
    )
    with pytest.raises(SystemExit):
        parser.parse_args(["--min-area", "2.5"])


@pytest.mark.parametrize("word", sorted(TRUE_WORDS))
def test_true_spellings(word):
    assert to_bool(word, "x") is True
    assert to_bool(word.upper() + " ", "x") is True


@pytest.mark.parametrize("word", sorted(FALSE_WORDS))
def test_false_spellings(word):
    assert to_bool(word, "x") is False


def test_converters_refuse_with_the_parameter_named():
    with pytest.raises(ParameterError, match=r"^overwrite must be 1 or 0"):
        to_bool("maybe", "overwrite")
    with pytest.raises(ParameterError, match=r"^sigma must be a number"):
        to_float("two", "sigma")
    with pytest.raises(ParameterError, match=r"^sigma must be finite"):
        to_float("nan", "sigma")
    with pytest.raises(ParameterError, match=r"^min_area must be a whole number"):
        to_int("2.5", "min_area")
    with pytest.raises(ParameterError, match="must be a number"):
        to_int(True, "min_area")
    assert (to_int("3.0", "n"), to_int(" +4 ", "n"), to_float("1e-3", "c")) == (3, 4, 1e-3)


def test_ranges_are_the_spec_ranges():
    assert spec("median_filter").maximum == 101 and spec("smooth").maximum == 50.0
    for description in PARAMETERS:
        if description.maximum is not None and not description.open_maximum:
            DetectionParameters(**{description.name: description.maximum}).validate()
            bigger = description.maximum + 1
            with pytest.raises(ParameterError, match=description.name):
                DetectionParameters(**{description.name: bigger}).validate()


def test_one_summary_format():
    text = describe(DetectionParameters(sigma=2.5, smooth=1, minpixarea=2, ignore_background=True))
    assert text == (
        "sigma=2.5, smooth=1, minpixarea=2, ignore background=yes, median filter=1"
    )
