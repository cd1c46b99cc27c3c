"""A scenario in the page's URL: encoding the settings and reading them back, with what is not allowed named."""

from __future__ import annotations

import pytest

from sim.inputs.levers import LEVERS_BY_ID
from sim.ui import link

LANGS, VIEWS, PRESETS = ("zh", "en"), ("scorecard", "charts", "compare", "downloads"), ("baseline", "plan")


def test_settings_round_trip_through_the_query_parameters():
    params = link.encode("en", "compare", "plan", {"dual_random_share": 70.0, "compulsory_deregistration_months": 24},
                         {"gdp_growth": 4.5}, {("Wenzhou", "credit_penalty_severity"): 3.0},
                         {"seeds": 20, "scale": 8000, "horizon": 2030}, {"seeds": 10, "scale": 8000, "horizon": 2025},
                         "point")
    assert params == {"lang": "en", "view": "compare", "preset": "plan", "dual_random_share": "70",
                      "compulsory_deregistration_months": "24", "gdp_growth": "4.5",
                      "Wenzhou.credit_penalty_severity": "3", "seeds": "20", "horizon": "2030", "parameters": "point"}
    back = link.decode(params, LANGS, VIEWS, PRESETS)
    assert not back.errors
    assert (back.lang, back.view, back.preset) == ("en", "compare", "plan")
    assert back.levers == {"dual_random_share": 70.0, "compulsory_deregistration_months": 24}
    assert isinstance(back.levers["compulsory_deregistration_months"], int)
    assert back.uncertainties == {"gdp_growth": 4.5}
    assert back.city == {("Wenzhou", "credit_penalty_severity"): 3.0}
    assert back.run == {"seeds": 20, "horizon": 2030} and back.parameters == "point"


@pytest.mark.parametrize("key, raw, fragment", [
    ("lang", "fr", "lang='fr' is not allowed; allowed: zh, en"),
    ("parameters", "best", "parameters='best' is not allowed; allowed: posterior, point"),
    ("view", "map", "view='map' is not allowed"),
    ("preset", "upload:mine", "preset='upload:mine' is not on this server"),
    ("seeds", "1000", "seeds='1000' is not allowed; allowed: a whole number from 1 to 100"),
    ("scale", "-5", "scale='-5' is not allowed"),
    ("dual_random_share", "lots", "dual_random_share='lots' is not a number; allowed: a number from 0 to 100"),
    ("dual_random_share", "nan", "dual_random_share='nan' is out of range"),
    ("compulsory_deregistration_months", "24.5", "is out of range; allowed: a whole number from"),
    ("Atlantis.fine_level", "2", "'Atlantis.fine_level' is not a setting"),
    ("no_such_lever", "1", "'no_such_lever' is not a setting"),
])
def test_a_setting_that_is_not_allowed_is_named_and_the_rest_is_kept(key, raw, fragment):
    back = link.decode({key: raw, "fine_level": "2"}, LANGS, VIEWS, PRESETS)
    assert len(back.errors) == 1 and fragment in back.errors[0], back.errors
    assert back.levers.get("fine_level") == 2.0
    assert LEVERS_BY_ID["fine_level"].low <= 2.0 <= LEVERS_BY_ID["fine_level"].high
