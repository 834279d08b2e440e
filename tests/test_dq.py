import numpy as np
import pytest

from ds9claw.dq import (
    DEFAULT_COMMIT_FLAGS,
    DEFAULT_INVALID_FLAGS,
    PIXEL_FLAGS,
    flag_names,
    interpret_flags,
    valid_pixel_mask,
)
from ds9claw.errors import ParameterError


def test_flag_table_is_the_jwst_table():
    from stdatamodels.jwst.datamodels import dqflags

    assert dict(dqflags.pixel) == PIXEL_FLAGS


@pytest.mark.parametrize(
    "text",
    [
        "DO_NOT_USE+OTHER_BAD_PIXEL",
        "DO_NOT_USE,SATURATED,NON_SCIENCE",
        DEFAULT_INVALID_FLAGS,
        DEFAULT_COMMIT_FLAGS,
        "~DO_NOT_USE+NON_SCIENCE",
        "~(DO_NOT_USE,SATURATED)",
        "1073741824",
    ],
)
def test_interpret_flags_agrees_with_astropy(text):
    from astropy.nddata.bitmask import interpret_bit_flags

    expected = interpret_bit_flags(text, flag_name_map=PIXEL_FLAGS)
    assert interpret_flags(text) == (int(expected) & 0xFFFFFFFF)


def test_interpret_flags_values():
    assert interpret_flags(DEFAULT_COMMIT_FLAGS) == 1 + (1 << 23) + (1 << 25) + (1 << 30)
    assert interpret_flags(None) == 0
    assert interpret_flags("") == 0
    assert interpret_flags(1025) == 1025
    assert interpret_flags("do_not_use") == 1
    assert interpret_flags("4+DO_NOT_USE") == 5  # numbers and names may mix
    assert flag_names(1 + (1 << 30)) == ["DO_NOT_USE", "OTHER_BAD_PIXEL"]


@pytest.mark.parametrize("bad", ["NOT_A_FLAG", "DO_NOT_USE++HOT", -1, 1 << 40, True])
def test_interpret_flags_rejects(bad):
    with pytest.raises(ParameterError):
        interpret_flags(bad)


def test_valid_pixel_mask_uses_dq_and_finiteness():
    image = np.ones((4, 4), np.float32)
    image[0, 0] = np.nan
    dq = np.zeros((4, 4), np.uint32)
    dq[1, 1] = PIXEL_FLAGS["DO_NOT_USE"]
    dq[2, 2] = PIXEL_FLAGS["HOT"]  # not an invalid flag by default
    dq[3, 3] = PIXEL_FLAGS["REFERENCE_PIXEL"] | PIXEL_FLAGS["JUMP_DET"]
    valid = valid_pixel_mask(image, dq)
    assert valid.sum() == 13
    assert not valid[0, 0] and not valid[1, 1] and valid[2, 2] and not valid[3, 3]
    assert valid_pixel_mask(image, dq, invalid_flags="HOT").sum() == 14
    assert valid_pixel_mask(image, None).sum() == 15
