"""Fixtures: a simulator on a free loopback port (50× time), a FastAGI server, a logged-in client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dialer.sim.pbx import PbxSimulator
from tests.dialer.sim.wire import AgiServer, AmiClient, make_pbx


@pytest.fixture
async def agi() -> AsyncIterator[AgiServer]:
    server = await AgiServer().start()
    yield server
    await server.close()


@pytest.fixture
async def pbx(agi: AgiServer) -> AsyncIterator[PbxSimulator]:
    sim = await make_pbx(agi)
    yield sim
    await sim.close()


@pytest.fixture
async def client(pbx: PbxSimulator) -> AsyncIterator[AmiClient]:
    ami = await AmiClient.connect(pbx.ami_port)
    await ami.login()
    yield ami
    await ami.close()
