"""lgc 0.1 reads settings() and schema() as KCL: checked here with kclvm (kcl-lib of
the line lgc 0.1.x embeds), the way `lgc services add` and `lgc validate` use it."""

import json
import re
from pathlib import Path

import kcl_lib.api as kcl

import kcl_schemas
import plugin_logic as logic

SAMPLES = Path(__file__).parent.parent / "samples"
KCL = kcl.API()


def problem(code: str, data, schema: str):
    """kclvm's error for `data` against `schema`, None when it passes."""
    result = KCL.validate_code(kcl.ValidateCode_Args(code=code, data=json.dumps(data), schema=schema, format="json"))
    return None if result.success else re.sub(r"\x1b\[[0-9;]*m", "", result.err_message)


def attributes(code: str, schema: str) -> dict:
    args = kcl.GetSchemaTypeMapping_Args(exec_args=kcl.ExecProgram_Args(k_filename_list=["plugin.k"], k_code_list=[code]), schema_name=schema)
    return dict(KCL.get_schema_type_mapping(args).schema_type_mapping[schema].properties)


def value(literal: str):
    """A KCL default as lgc turns it into a setting."""
    return {"True": True, "False": False}.get(literal) if literal in ("True", "False") else json.loads(literal)


def test_services_add_takes_every_default_and_they_pass_the_checks():
    # Without --configure lgc sets each attribute to its default, then validates.
    settings = attributes(kcl_schemas.CONFIGURATION, "Configuration")
    assert all(attr.default for attr in settings.values()), "lgc warns for an attribute without a default"
    defaults = {name: value(attr.default) for name, attr in settings.items()}
    assert problem(kcl_schemas.CONFIGURATION, defaults, "Configuration") is None


def test_configuration_declares_the_settings_the_plugin_reads():
    settings = attributes(kcl_schemas.CONFIGURATION, "Configuration")
    assert set(settings) == set(logic.SETTINGS_SCHEMA["properties"])
    for name, prop in logic.SETTINGS_SCHEMA["properties"].items():
        assert value(settings[name].default) == prop["default"], name


def test_the_sample_settings_pass_and_a_bad_url_does_not():
    config = json.loads((SAMPLES / "config.json").read_text())
    assert problem(kcl_schemas.CONFIGURATION, config, "Configuration") is None
    assert "url must start with" in problem(kcl_schemas.CONFIGURATION, {**config, "url": "ftp://siem"}, "Configuration")


def test_lgc_validate_passes_the_rule_files_and_refuses_the_broken_one():
    for sample in ("detection.json", "detection-updated.json"):
        params = json.loads((SAMPLES / sample).read_text())["rules"][logic.PLUGIN_NAME]
        assert problem(kcl_schemas.RULE, params, "Rule") is None, sample
    broken = json.loads((SAMPLES / "broken-detection.json").read_text())
    assert "Cannot add member 'color'" in problem(kcl_schemas.RULE, broken, "Rule")


def test_rule_declares_the_parameters_the_plugin_reads():
    # The rule's name is lgc's own field (the title), not a parameter.
    assert set(attributes(kcl_schemas.RULE, "Rule")) == set(logic.DETECTION_SCHEMA["properties"]) - {"title"}
