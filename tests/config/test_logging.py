from config.logging import mask_phone


def test_mask_phone_keeps_only_the_last_four_digits() -> None:
    assert mask_phone("+525512345678") == "…5678"
    assert "5512" not in mask_phone("+525512345678")
    assert mask_phone("123") == "…"
