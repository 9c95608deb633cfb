"""A loopback fake of Fizzy's JSON API for contract and integration tests."""

from tests.fakes.fizzy.server import (
    INACTIVE_TOKEN,
    MEMBER_TOKEN,
    OTHER_SLUG,
    READ_TOKEN,
    SLUG,
    WRITE_TOKEN,
    FakeFizzy,
)

__all__ = [
    "INACTIVE_TOKEN",
    "MEMBER_TOKEN",
    "OTHER_SLUG",
    "READ_TOKEN",
    "SLUG",
    "WRITE_TOKEN",
    "FakeFizzy",
]
