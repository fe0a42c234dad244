"""A seeded pacing shift on the simulator: the predictive pacer holds the abandon bound."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.pacing import PacingMode, PacingSettings
from dialer.sim.population import AgentCampaignModel, Fate
from dialer.sim.shift import run_shift

START = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Mexico_City"))


def settings(mode: PacingMode, **changes: object) -> PacingSettings:
    return PacingSettings(mode=mode, cps=20.0, burst=20, max_channels=2000).with_changes(**changes)


async def test_predictive_holds_the_abandon_bound_and_beats_progressive() -> None:
    predictive = await run_shift(
        settings(PacingMode.PREDICTIVE), agents=20, start=START, hours=3.0, seed=11
    )
    progressive = await run_shift(
        settings(PacingMode.PROGRESSIVE), agents=20, start=START, hours=3.0, seed=11
    )
    assert predictive.live_answers > 300
    assert predictive.abandon_rate <= 0.03
    assert all(hour.rate <= 0.05 for hour in predictive.by_hour)
    assert len(predictive.by_hour) == 3
    assert progressive.abandons == 0  # one line per ready agent never abandons
    assert predictive.occupancy > progressive.occupancy + 0.10
    assert predictive.connects > progressive.connects


async def test_a_fixed_ratio_abandons_with_a_small_team() -> None:
    result = await run_shift(
        settings(PacingMode.RATIO, ratio=1.3), agents=5, start=START, hours=2.0, seed=3
    )
    assert result.abandon_rate > 0.03  # the reason a fixed ratio is not enough


class TestAgentCampaignModel:
    def test_shares_follow_the_hour(self) -> None:
        model = AgentCampaignModel()
        assert model.human_share(9.0) == pytest.approx(0.12)
        assert model.human_share(19.0) == pytest.approx(0.28)
        assert model.human_share(13.0) < model.human_share(12.0)  # the lunch dip

    def test_a_step_multiplies_from_its_hour(self) -> None:
        model = AgentCampaignModel(step_at=13.0, step=1.5)
        assert model.human_share(12.9) == AgentCampaignModel().human_share(12.9)
        assert model.human_share(16.0) == pytest.approx(
            1.5 * AgentCampaignModel().human_share(16.0)
        )

    def test_draws_match_the_shares(self) -> None:
        import random

        model = AgentCampaignModel()
        rng = random.Random(4)
        at = START.replace(hour=16)  # 22 % human
        fates = [model.script("+525555000000", at, rng) for _ in range(20_000)]
        human = sum(1 for s in fates if s.fate is Fate.HUMAN) / len(fates)
        machine = sum(1 for s in fates if s.fate is Fate.MACHINE) / len(fates)
        assert human == pytest.approx(0.22, abs=0.01)
        assert machine == pytest.approx(0.25, abs=0.01)
        wrong = [s for s in fates if s.fate is Fate.HUMAN and s.detected == "MACHINE"]
        assert len(wrong) / (human * len(fates)) == pytest.approx(0.05, abs=0.01)

    @pytest.mark.parametrize(
        ("changes", "words"),
        [
            ({"machine": 1.5}, "machine must be between 0 and 1"),
            ({"human_by_hour": ((5.0, 0.1), (24.0, 0.1))}, "cover 0–24"),
            ({"machine": 0.6}, "add up to more than 1"),
            ({"zone": "Mars/Olympus"}, "Mars"),
        ],
    )
    def test_bad_models_are_refused(self, changes: dict[str, object], words: str) -> None:
        with pytest.raises((ValueError, KeyError), match=words):
            AgentCampaignModel(**changes)  # type: ignore[arg-type]
