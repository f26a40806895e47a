"""Fixtures: a reference server per test, a client of it, and the demo
accounts Alice (10001) and Bob (10002), logged in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import httpqq
from httpqq.testing import Server

ALICE, BOB, CAROL, DAVE, ERIN = 10001, 10002, 10003, 10004, 10005


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def client(server: Server) -> httpqq.Client:
    return server.client(timeout=10)


@pytest.fixture
def alice(client: httpqq.Client) -> Iterator[httpqq.Session]:
    with client.login(ALICE, "demo") as session:
        yield session


@pytest.fixture
def bob(client: httpqq.Client) -> Iterator[httpqq.Session]:
    with client.login(BOB, "demo") as session:
        yield session
