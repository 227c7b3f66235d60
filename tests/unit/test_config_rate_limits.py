"""The `[rate_limits]` settings: environment names, list parsing and start-up checks."""

from __future__ import annotations

import re

import pytest

from hookline.config import RateLimitsSettings, load_settings


def test_rate_limits_are_on_by_default() -> None:
    """Without configuration every limit is on, with X-Forwarded-For believed from loopback only."""
    limits = load_settings().rate_limits
    assert limits == RateLimitsSettings()
    assert limits.enabled
    assert limits.failed_auth_per_minute == 30
    assert limits.trusted_proxies == ("127.0.0.1", "::1")


def test_every_rate_limit_setting_has_an_environment_variable() -> None:
    """HOOKLINE_RATE_LIMITS_<KEY> sets each setting, coerced to its type."""
    limits = load_settings(
        environ={
            "HOOKLINE_RATE_LIMITS_ENABLED": "false",
            "HOOKLINE_RATE_LIMITS_SUBMIT_PER_S": "2.5",
            "HOOKLINE_RATE_LIMITS_SUBMIT_BURST": "7",
            "HOOKLINE_RATE_LIMITS_WORK_PER_S": "0",
            "HOOKLINE_RATE_LIMITS_READ_BURST": "3",
            "HOOKLINE_RATE_LIMITS_FAILED_AUTH_PER_MINUTE": "5",
            "HOOKLINE_RATE_LIMITS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1",
            "HOOKLINE_RATE_LIMITS_MAX_TRACKED": "50",
        }
    ).rate_limits
    assert not limits.enabled
    assert (limits.submit_per_s, limits.submit_burst) == (2.5, 7)
    assert limits.work_per_s == 0
    assert limits.read_burst == 3
    assert limits.failed_auth_per_minute == 5
    assert limits.trusted_proxies == ("10.0.0.0/8", "192.168.1.1")
    assert limits.max_tracked == 50


def test_an_empty_trusted_proxies_list_believes_no_proxy() -> None:
    """`trusted_proxies = []` in the file leaves the list empty."""
    limits = load_settings(file_text="[rate_limits]\ntrusted_proxies = []\n").rate_limits
    assert limits.trusted_proxies == ()


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_SUBMIT_PER_S": "-1"}, "rate_limits.submit_per_s", id="rate-neg"
        ),
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_AUDIT_BURST": "0"}, "rate_limits.audit_burst", id="burst-zero"
        ),
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_FAILED_AUTH_PER_MINUTE": "-3"},
            "rate_limits.failed_auth_per_minute",
            id="failed-auth-negative",
        ),
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_MAX_TRACKED": "0"}, "rate_limits.max_tracked", id="tracked-0"
        ),
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_TRUSTED_PROXIES": "10.0.0.0/8,proxy.example"},
            "rate_limits.trusted_proxies: 'proxy.example'",
            id="proxy-not-an-address",
        ),
        pytest.param(
            {"HOOKLINE_RATE_LIMITS_READ_PER_S": "fast"}, "rate_limits.read_per_s", id="not-a-number"
        ),
    ],
)
def test_bad_rate_limit_settings_fail_naming_the_setting(
    environ: dict[str, str], named: str
) -> None:
    """A rate limit setting out of range stops start-up with a message naming it."""
    with pytest.raises(ValueError, match=re.escape(named)):
        load_settings(environ=environ)


def test_a_zero_rate_needs_no_burst() -> None:
    """A scope whose rate is 0 (no limit) may have any burst."""
    limits = load_settings(
        environ={"HOOKLINE_RATE_LIMITS_WORK_PER_S": "0", "HOOKLINE_RATE_LIMITS_WORK_BURST": "0"}
    ).rate_limits
    assert (limits.work_per_s, limits.work_burst) == (0, 0)
