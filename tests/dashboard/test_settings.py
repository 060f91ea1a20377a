"""The dashboard's settings: the blog's defaults, the choices the controls offer, and share URLs.

`to_query` / `parse_query` are what a copied link goes through, so they must round-trip every setting the
controls can show, and turn every junk or out-of-range value into the default plus a notice (never raise).
"""

from __future__ import annotations

import itertools
import math
from urllib.parse import parse_qsl, urlencode

import pytest
from conftest import BLOG_ALPHA_MAX
from hypothesis import given, settings
from hypothesis import strategies as st

from gdcore.dashboard.settings import (
    ALPHA_CHOICES,
    DEFAULTS,
    SAMPLE_CHOICES,
    TOL_CHOICES,
    UI_RANGES,
    Settings,
    parse_query,
    to_query,
)

# The keys issue 3 names for the controls and the URL (later settings may add more).
BASE_KEYS = ("samples", "noise", "seed", "alpha", "epochs", "w0", "b0", "stop", "tol")


def valid_settings():
    """Any experiment the sidebar controls can show (every value a control offers)."""
    return st.builds(
        Settings,
        samples=st.sampled_from(SAMPLE_CHOICES),
        noise=st.floats(*UI_RANGES["noise"], allow_nan=False),
        seed=st.integers(*UI_RANGES["seed"]),
        alpha=st.sampled_from(ALPHA_CHOICES),
        epochs=st.integers(*UI_RANGES["epochs"]),
        w0=st.floats(*UI_RANGES["w0"], allow_nan=False),
        b0=st.floats(*UI_RANGES["b0"], allow_nan=False),
        stop=st.booleans(),
        tol=st.sampled_from(TOL_CHOICES),
    )


# ---------------------------------------------------------------- defaults and choices
def test_defaults_are_the_blogs():
    assert (DEFAULTS.samples, DEFAULTS.noise, DEFAULTS.seed) == (100, 20.0, 42)
    assert (DEFAULTS.alpha, DEFAULTS.epochs, DEFAULTS.w0, DEFAULTS.b0) == (0.01, 100, 1.0, 0.0)
    assert DEFAULTS.stop is False
    assert DEFAULTS.run_plan().first.tol is None  # no early stop unless asked for
    assert Settings(stop=True).run_plan().first.tol == DEFAULTS.tol


def test_alpha_choices_hold_001_exactly_and_reach_past_alpha_max():
    assert 0.01 in ALPHA_CHOICES  # the blog's alpha, exactly (not 0.0100000001)
    assert ALPHA_CHOICES.index(0.01) == ALPHA_CHOICES.index(DEFAULTS.alpha)
    assert list(ALPHA_CHOICES) == sorted(set(ALPHA_CHOICES)), "strictly increasing, no duplicates"
    assert ALPHA_CHOICES[0] == pytest.approx(1e-7)  # low enough for raw diabetes's alpha_opt, 1.36e-5
    assert ALPHA_CHOICES[-1] == pytest.approx(10.0)
    above = [a for a in ALPHA_CHOICES if a > BLOG_ALPHA_MAX]
    assert above, "values above alpha_max (0.954 for the blog's data) must be reachable"
    assert max(above) <= 10.0 + 1e-12
    assert min(above) < 1.3, "a value just above alpha_max shows divergence starting"
    assert 1.0 in ALPHA_CHOICES and 2.0 in ALPHA_CHOICES
    # Log scale: neighbouring choices differ by a constant factor (10 a decade).
    ratios = [b / a for a, b in itertools.pairwise(ALPHA_CHOICES)]
    assert max(ratios) < 1.3 and min(ratios) > 1.2


def test_sample_and_tol_choices():
    assert SAMPLE_CHOICES[0] == 10 and SAMPLE_CHOICES[-1] == 1_000_000
    assert DEFAULTS.samples in SAMPLE_CHOICES
    assert list(SAMPLE_CHOICES) == sorted(set(SAMPLE_CHOICES))
    assert all(isinstance(n, int) for n in SAMPLE_CHOICES)
    assert DEFAULTS.tol in TOL_CHOICES and all(t > 0 for t in TOL_CHOICES)


# ---------------------------------------------------------------- round trip
def test_defaults_make_an_empty_query():
    assert to_query(DEFAULTS) == {}
    assert parse_query({}) == (DEFAULTS, [])


@settings(max_examples=300, deadline=None)
@given(valid_settings())
def test_query_round_trip(experiment):
    query = to_query(experiment)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    assert set(query) == set(experiment.changed())  # only what differs from the defaults
    assert parse_query(query) == (experiment, [])


@settings(max_examples=200, deadline=None)
@given(valid_settings())
def test_query_round_trip_through_a_url(experiment):
    """What a copied link does: urlencode, then the browser hands back the decoded pairs."""
    url_query = urlencode(to_query(experiment))
    assert parse_query(dict(parse_qsl(url_query, keep_blank_values=True))) == (experiment, [])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(BASE_KEYS), st.text(max_size=12)))
def test_any_text_gives_valid_settings_and_never_raises(params):
    parsed, notices = parse_query(params)
    assert len(notices) <= len(params)
    assert parsed.samples in SAMPLE_CHOICES
    assert parsed.alpha in ALPHA_CHOICES
    assert parsed.tol in TOL_CHOICES
    assert isinstance(parsed.stop, bool)
    for key in ("noise", "seed", "epochs", "w0", "b0"):
        low, high = UI_RANGES[key]
        value = getattr(parsed, key)
        assert math.isfinite(value) and low <= value <= high, (key, value)
    assert isinstance(parsed.seed, int) and isinstance(parsed.epochs, int)
    # Each key either took the URL's value (no notice) or kept its default with a notice naming it.
    for key in params:
        named = [n for n in notices if n.startswith(f"Link ignored a value: {key}")]
        assert len(named) <= 1
        if named:
            assert getattr(parsed, key) == getattr(DEFAULTS, key)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ALPHA_CHOICES), st.floats(0.97, 1.03))
def test_alpha_snaps_to_the_nearest_choice(choice, factor):
    """A hand-edited alpha inside the slider's range lands on the log-nearest value the slider offers,
    and the link says so unless the value was (within 0.1%) the slider's own."""
    value = min(max(choice * factor, ALPHA_CHOICES[0]), ALPHA_CHOICES[-1])
    parsed, notices = parse_query({"alpha": repr(value)})
    assert parsed.alpha == min(ALPHA_CHOICES, key=lambda c: abs(math.log(c / value)))
    if math.isclose(parsed.alpha, value, rel_tol=1e-3):
        assert notices == []
    else:
        expected = (
            f"Link value snapped: alpha '{value!r}' is between the slider's values, "
            f"so the nearest one, {parsed.alpha:g}, is used."
        )
        assert notices == [expected]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"alpha": "0.01"}, {"alpha": 0.01}),
        ({"alpha": " 0.1 "}, {"alpha": 0.1}),
        ({"alpha": "1e-2"}, {"alpha": 0.01}),
        ({"alpha": "2"}, {"alpha": 2.0}),
        ({"epochs": "1e5"}, {"epochs": 100_000}),
        ({"epochs": "250.0"}, {"epochs": 250}),
        ({"seed": "0"}, {"seed": 0}),
        ({"seed": str(2**32 - 1)}, {"seed": 2**32 - 1}),
        ({"samples": "1000000"}, {"samples": 1_000_000}),
        ({"noise": "0"}, {"noise": 0.0}),
        ({"w0": "-100", "b0": "100"}, {"w0": -100.0, "b0": 100.0}),
        ({"stop": "TRUE", "tol": "1e-9"}, {"stop": True, "tol": 1e-9}),
        ({"tol": "0.001"}, {"tol": 1e-3}),
        ({"tol": "1e-10"}, {"tol": 1e-10}),
        ({"stop": "0"}, {"stop": False}),
        ({"unknown": "x", "utm_source": "mail"}, {}),
    ],
)
def test_good_values(params, expected):
    parsed, notices = parse_query(params)
    assert notices == []
    for key, value in expected.items():
        assert getattr(parsed, key) == value
        assert type(getattr(parsed, key)) is type(value)
    untouched = {k for k in BASE_KEYS if k not in expected}
    assert all(getattr(parsed, k) == getattr(DEFAULTS, k) for k in untouched)


JUNK = [
    ("samples", "abc"),
    ("samples", ""),
    ("samples", "0"),
    ("samples", "-100"),
    ("samples", "5"),
    ("samples", "2000000"),
    ("samples", "nan"),
    ("noise", "-1"),
    ("noise", "100.5"),
    ("noise", "nan"),
    ("noise", "inf"),
    ("noise", "lots"),
    ("seed", "1.5"),
    ("seed", "-1"),
    ("seed", str(2**32)),
    ("seed", "x"),
    ("alpha", "0"),
    ("alpha", "-0.01"),
    ("alpha", "1e-8"),  # below the slider's smallest value, 1e-7
    ("alpha", "11"),
    ("alpha", "junk"),
    ("alpha", "nan"),
    ("alpha", "inf"),
    ("epochs", "0"),
    ("epochs", "-5"),
    ("epochs", "100001"),
    ("epochs", "10.5"),
    ("epochs", "1e9"),
    ("w0", "101"),
    ("w0", "-1e9"),
    ("w0", "one"),
    ("b0", "-100.5"),
    ("b0", "inf"),
    ("b0", "-inf"),
    ("stop", "maybe"),
    ("stop", ""),
    ("stop", "2"),
    ("tol", "0.1"),
    ("tol", "1e-12"),
    ("tol", "0"),
    ("tol", "x"),
]


@pytest.mark.parametrize(("key", "raw"), JUNK, ids=[f"{k}={v!r}" for k, v in JUNK])
def test_junk_falls_back_to_the_default_with_a_notice(key, raw):
    parsed, notices = parse_query({key: raw})
    assert parsed == DEFAULTS
    assert len(notices) == 1
    notice = notices[0]
    assert key in notice and repr(raw) in notice, notice  # says which value was bad
    assert repr(getattr(DEFAULTS, key)) in notice and "default" in notice  # and what is used instead


def test_junk_keeps_the_good_values_next_to_it():
    parsed, notices = parse_query({"alpha": "junk", "epochs": "250", "seed": "1.5", "w0": "-3"})
    assert (parsed.alpha, parsed.epochs, parsed.seed, parsed.w0) == (0.01, 250, 42, -3.0)
    assert len(notices) == 2


@pytest.mark.parametrize("tol", TOL_CHOICES)
def test_every_tol_choice_survives_a_url(tol):
    """Every value the tolerance slider offers must come back from a shared link."""
    shared = Settings(stop=True, tol=tol)
    assert parse_query(to_query(shared)) == (shared, [])
