import pytest

from operators.container_no import ContainerNumberError, check_digit, is_valid, normalize, validate, with_check_digit

# ISO 6346 Annex A letter values: A=10, then +1 skipping multiples of 11 (11, 22, 33)
TABLE = dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                 [10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35, 36,
                  37, 38], strict=True))


def by_hand(prefix: str) -> int:
    total = sum((TABLE[ch] if ch.isalpha() else int(ch)) * 2**i for i, ch in enumerate(prefix))
    return total % 11 % 10


def test_the_standard_example_csqu_305438_3():
    # the worked example of ISO 6346 (BIC): CSQU 305438 has check digit 3
    assert check_digit("CSQU305438") == 3
    assert validate("CSQU 305438-3") == "CSQU3054383"


@pytest.mark.parametrize("prefix", ["MSCU123456", "MAEU765432", "TGHU000001", "ZZZU999999", "HLXJ500000"])
def test_check_digit_agrees_with_the_table_by_hand(prefix):
    assert check_digit(prefix) == by_hand(prefix)
    assert is_valid(with_check_digit(prefix))


def test_remainder_ten_is_written_as_zero():
    # find a prefix whose weighted sum leaves remainder 10 and check the digit is 0
    prefix = next(f"ABCU{n:06d}" for n in range(1000)
                  if sum((TABLE[c] if c.isalpha() else int(c)) * 2**i for i, c in enumerate(f"ABCU{n:06d}")) % 11 == 10)
    assert check_digit(prefix) == 0


@pytest.mark.parametrize("bad", ["CSQU3054384", "CSQ3054383", "CSQX3054383", "CSQU30543833", "", "1SQU3054383"])
def test_wrong_numbers_are_refused(bad):
    assert not is_valid(bad)
    with pytest.raises(ContainerNumberError):
        validate(bad)


def test_normalize():
    assert normalize(" csqu/305438-3 ") == "CSQU3054383"
