"""The Fizzy agent: boards, cards and collaboration on Fizzy's JSON API."""
