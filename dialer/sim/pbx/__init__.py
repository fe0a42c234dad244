"""The network face of the built-in PBX simulator: AMI server and FastAGI client of an Asterisk 22.

`PbxSimulator` listens like Asterisk's manager does and plays every Originate as a debtor of the
population model; answered calls reach the FastAGI server as `AGI(agi://…)` would send them.
Layout: `model` (channels, ids, event vocabulary), `originate` (the request and its plan),
`dialplan` (dialling event batches), `agi` (FastAGI commands), `bridges` (ConfBridge and basic
bridges) are sans-I/O; `calls` runs one call in time, `fastagi` is its FastAGI client, `ami`
serves one AMI client, `simulator` holds the sockets and the registry.
"""

from dialer.sim.pbx.simulator import ChannelInfo, PbxSimulator, PbxStartError

__all__ = ["ChannelInfo", "PbxSimulator", "PbxStartError"]
