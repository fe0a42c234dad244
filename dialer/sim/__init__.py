"""The built-in PBX simulator: a debtor population model with two faces.

In-process (`dialer.sim.backend`) it runs on a virtual clock so a campaign day takes seconds;
over the network (`dialer.sim.pbx`) it speaks AMI and FastAGI like Asterisk 22 does.
"""

from dialer.sim.population import CallScript, Fate, PopulationModel, lab_script

__all__ = ["CallScript", "Fate", "PopulationModel", "lab_script"]
