"""The pre-gen hook: every invalid answer stops generation with one clear line naming the question."""

from __future__ import annotations

from typing import Any

import pytest
from baking import KIT, Cookies
from cookiecutter.exceptions import FailedHookException

from hooks import pre_gen_project as hook

VALID: dict[str, Any] = {
    "exchange": "acme",
    "display_name": "Acme",
    "description": "Acme's user stream",
    "archetype": "login_message",
    "ws_url": "wss://ws.acme.example/private",
    "rest_url": "https://api.acme.example",
    "passphrase": False,
    "signature_encoding": "hex",
    "ping_style": "json",
    "ping_interval": "20",
    "run_tests": "skip",
    "_protocol": "generic",
}

INVALID: list[tuple[dict[str, Any], str]] = [
    ({"exchange": "Acme"}, "exchange: 'Acme' is not a lowercase Python module name"),
    ({"exchange": "1exchange"}, "exchange: '1exchange' is not a lowercase Python module name"),
    ({"exchange": "acme-x"}, "exchange: 'acme-x' is not a lowercase Python module name"),
    ({"exchange": "class"}, "exchange: 'class' is a Python keyword"),
    ({"exchange": "a" * 33}, f"exchange: '{'a' * 33}' is longer than 32 characters"),
    ({"exchange": "match"}, "exchange: 'match' is a Python keyword"),
    ({"exchange": "json"}, "exchange: 'json' would shadow the standard library module of that name"),
    ({"exchange": "asyncio"}, "exchange: 'asyncio' would shadow the standard library module of that name"),
    ({"exchange": "aiohttp"}, "exchange: 'aiohttp' would shadow a module the connector or its tests import"),
    ({"exchange": "userstream"}, "exchange: 'userstream' would shadow a module the connector or its tests import"),
    ({"display_name": "   "}, "display_name: must not be empty"),
    ({"archetype": "carrier_pigeon"}, "archetype: must be one of login_message, listen_key"),
    ({"ws_url": "https://ws.acme.example"}, "ws_url: 'https://ws.acme.example' must start with ws:// or wss://"),
    ({"ws_url": "wss://"}, "ws_url: 'wss://' has no host"),
    ({"ws_url": "wss://ws.acme.example/private?token=1"}, "ws_url: 'wss://ws.acme.example/private?token=1' must not"),
    ({"ws_url": "wss://ws acme"}, "ws_url: 'wss://ws acme' is not a URL"),
    ({"rest_url": "ftp://api.acme.example"}, "rest_url: 'ftp://api.acme.example' must start with http:// or https://"),
    ({"rest_url": "https://api.acme.example:99999"}, "rest_url: 'https://api.acme.example:99999' is not a URL"),
    ({"passphrase": "maybe"}, "passphrase: must be true or false"),
    ({"signature_encoding": "rot13"}, "signature_encoding: must be one of hex, base64"),
    ({"ping_style": "smoke"}, "ping_style: must be one of json, text, protocol"),
    ({"ping_interval": "0"}, "ping_interval: must be a positive number of seconds, got '0'"),
    ({"ping_interval": "-5"}, "ping_interval: must be a positive number of seconds"),
    ({"ping_interval": "soon"}, "ping_interval: must be a number of seconds, got 'soon'"),
    ({"ping_interval": "nan"}, "ping_interval: must be a positive number of seconds"),
    ({"ping_interval": "inf"}, "ping_interval: must be a positive number of seconds"),
    ({"run_tests": "always"}, "run_tests: must be one of auto, venv, current, skip"),
    ({"_protocol": "mtgox"}, "_protocol: unknown exchange protocol 'mtgox'"),
    ({"_protocol": "okx"}, "passphrase: okx uses True, got False"),
    ({"_protocol": "binance_futures", "archetype": "rest_token"}, "archetype: binance_futures uses 'listen_key'"),
]


@pytest.mark.parametrize(("change", "message"), INVALID, ids=[message.split(":")[0] for _, message in INVALID])
def test_an_invalid_answer_is_named_in_one_line(change: dict[str, Any], message: str) -> None:
    problems = hook.problems({**VALID, **change})
    assert any(problem.startswith(message) for problem in problems), problems
    assert all("\n" not in problem for problem in problems)


def test_valid_answers_and_every_preset_pass() -> None:
    from baking import PRESETS, preset_answers

    assert hook.problems(VALID) == []
    for preset in PRESETS:
        assert hook.problems({**VALID, **preset_answers(preset)}) == [], preset.name


def test_several_problems_are_all_reported(capsys: pytest.CaptureFixture[str]) -> None:
    assert hook.main({**VALID, "exchange": "json", "ws_url": "http://x", "ping_interval": "-1"}) == 1
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:3]] == ["exchange", "ws_url", "ping_interval"]
    assert "nothing was generated" in lines[-1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"exchange": "json"}, "exchange: 'json' would shadow the standard library module of that name"),
        ({"ws_url": "http://ws.acme.example"}, "ws_url: 'http://ws.acme.example' must start with ws:// or wss://"),
        ({"ping_interval": "-1"}, "ping_interval: must be a positive number of seconds, got '-1'"),
        ({"_protocol": "okx", "archetype": "listen_key"}, "archetype: okx uses 'login_message', got 'listen_key'"),
    ],
)
def test_cookiecutter_stops_before_generating_anything(
    cookies: Cookies, change: dict[str, Any], message: str, capfd: pytest.CaptureFixture[str]
) -> None:
    result = cookies.bake(template=str(KIT), extra_context={"run_tests": "skip", **change})
    assert result.exit_code != 0
    assert isinstance(result.exception, FailedHookException)
    assert f"userstream-kit: {message}" in capfd.readouterr().err
