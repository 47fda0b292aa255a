"""Tests of the plugin's logic, in plain Python: no component or runtime needed."""

import json
from pathlib import Path

import pytest

import plugin_logic as logic

SAMPLES = Path(__file__).parent.parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def test_settings_schema_declares_properties_defaults_and_an_enum():
    schema = json.loads(json.dumps(logic.SETTINGS_SCHEMA))
    assert schema["type"] == "object"
    assert schema["properties"]["timeout"]["default"] == 30
    assert all("description" in prop for prop in schema["properties"].values())
    ref = schema["properties"]["severity"]["$ref"].split("/")[-1]
    assert schema["definitions"][ref]["enum"] == ["low", "medium", "high", "critical"]


def test_the_sample_detection_is_valid():
    assert logic.problems(json.loads(sample("detection.json"))) == []


def test_the_broken_detection_names_each_problem():
    found = logic.problems(json.loads(sample("broken-detection.json")))
    assert "query is required" in found
    assert "unknown field color" in found
    assert "title must be a non-empty string" in found
    assert any(problem.startswith("severity must be one of") for problem in found)


def test_bad_json_is_a_plugin_error_not_a_crash():
    with pytest.raises(logic.PluginError, match="not valid JSON"):
        logic.parse_detection(b"{")
    with pytest.raises(logic.PluginError, match="token is required"):
        logic.parse_config(b'{"url": "https://x"}')


def test_read_reports_disabled_rules_as_absent():
    config = logic.parse_config(sample("config.json"))
    rule = logic.parse_detection(sample("detection.json"))
    assert logic.remote_rule(config, rule)["severity"] == "high"
    assert logic.remote_rule(config, {**rule, "enabled": False}) is None


def test_deploy_refuses_plain_http():
    rule = logic.parse_detection(sample("detection.json"))
    with pytest.raises(logic.PluginError, match="plain HTTP"):
        logic.deploy({"url": "http://siem", "token": "t"}, rule)
    assert logic.ping(logic.parse_config(sample("config.json"))) is True
