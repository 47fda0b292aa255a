"""Self-test of the reference lgc host: real plugin components built with
componentize-py (the generator's own templates for the good plugins, small app
modules written here for the faulty ones), plus a few components written in WAT,
run through lgc_host.py as a subprocess the way the TypeScript verifier runs it,
with the templates' test SIEM.

Run: python3 -m pytest -p no:cacheprovider hosts/lgc

The tools live in a venv (env LGC_TEST_VENV, default /tmp/lgc-test-venv) made
on first use with componentize-py (pinned below) and the host's
requirements.txt. The tests are skipped only when componentize-py cannot be
installed; everything else that goes wrong fails them.
"""
import fcntl
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).parent
HOST = HERE / "lgc_host.py"
REQUIREMENTS = HERE / "requirements.txt"
COMPONENTIZE_PY = "componentize-py==0.25.1"
VENV = Path(os.environ.get("LGC_TEST_VENV") or "/tmp/lgc-test-venv")
TEMPLATES = HERE.parent.parent / "templates" / "lgc"
SIEM_TEMPLATE = TEMPLATES / "common" / "test_siem.py.ejs"
SAMPLED = ["validate()", "test SIEM", "ping()", "plan: read() before apply", "apply: create()",
           "plan after apply: read()", "apply changed rule: read(), update()",
           "destroy: read(), delete()"]
STEP_NAMES = ["compile", "instantiate", "load()", "settings()", "schema()", *SAMPLED]

# -- app modules ------------------------------------------------------------------

# Faulty plugins are the template's plugin with one mistake each: a module that
# overrides methods of its Plugin (the template's app.py, imported as Base).
OVERRIDES_HEAD = '''
import json
import os
import sys
import time

from componentize_py_types import Err
from wit_world.exports.plugin import Metadata

from app import Plugin as Base
'''

FAULTY = '''
class Plugin(Base):
    def validate(self, detection):
        raise ValueError("boom from validate")

    def ping(self, config):
        # What the sandbox shows the guest, as ping's error; also writes to stdout/stderr.
        print("GUEST-STDOUT-MARKER")
        print("GUEST-STDERR-MARKER", file=sys.stderr)
        try:
            root = sorted(os.listdir("/"))
        except OSError as e:
            root = "error: " + type(e).__name__
        raise Err(json.dumps({"env": dict(os.environ), "argv": sys.argv, "root": root}))
'''

FORGETFUL = '''
RULES = {}


class Plugin(Base):
    def create(self, config, detection):
        rule = json.loads(detection)
        RULES[rule["title"]] = rule

    def read(self, config, detection):
        rule = RULES.get(json.loads(detection)["title"])
        return None if rule is None else json.dumps(rule).encode()
'''

SPINNER = '''
class Plugin(Base):
    def ping(self, config):
        while True:
            pass
'''

SLEEPER = '''
class Plugin(Base):
    def ping(self, config):
        time.sleep(30)
        return True
'''

MEMORY_HOG = '''
class Plugin(Base):
    def ping(self, config):
        block = bytearray(16 * 1024 * 1024)  # under the 50 MiB cap
        block[-1] = 1
        return super().ping(config)

    def create(self, config, detection):
        block = bytearray(64 * 1024 * 1024)  # past the cap
        block[-1] = 1
'''

# stem -> (the API whose template is built, overrides of its Plugin or None); the
# stem is the plugin name.
COMPONENTS = {
    "good-one": ("1", None),
    # API 0.1's template built with componentize-py 0.25.1: what an API 1 host
    # must call an API 0.1 plugin (lgc 0.1 itself runs in runtime-0.1, tested by e2e-lgc).
    "good-zero": ("0.1", None),
    "bad-json": ("1", '''
class Plugin(Base):
    def settings(self):
        return b"{not json"
'''),
    "bad-name": ("1", '''
class Plugin(Base):
    def load(self):
        return Metadata(name="Foo_Bar", version="1.2.3")
'''),
    "faulty": ("1", FAULTY),
    "forgetful": ("1", FORGETFUL),
    "spinner": ("1", SPINNER),
    "sleeper": ("1", SLEEPER),
    "memory-hog": ("1", MEMORY_HOG),
}

# Components written in WAT (compiled by wasmtime's wat2wasm).
WAT_OTHER_WORLD = """
(component
  (core module $m (func (export "f") (result i32) i32.const 1))
  (core instance $i (instantiate $m))
  (func $f (result u32) (canon lift (core func $i "f")))
  (instance $inst (export "f" (func $f)))
  (export "acme:other/plugin@1.0.0" (instance $inst))
)
"""
CORE_MODULE = b"\0asm\x01\x00\x00\x00"  # a valid, empty core module

# The test SIEM takes the config's token; the host points url at it.
CONFIG = {"url": "http://127.0.0.1:9", "token": "self-test", "timeout": 5, "level": "debug"}
DETECTION = {"title": "Suspicious PowerShell", "query": "process=powershell.exe"}
CHANGED = {**DETECTION, "query": "process=pwsh.exe", "severity": "high"}


# The license the templates' SPDX headers name here.
SPDX = "MIT"
# The bindings modules of componentize-py 0.25.1, as the templates import them.
BINDINGS = {"<%- bindings.componentizePy %>": COMPONENTIZE_PY.split("==")[1],
            "<%- bindings.errors %>": "componentize_py_types", "<%- bindings.world %>": "wit_world"}


def by_api(text: str, api: str) -> str:
    """The branch of each `<% if (api === 'X') { -%>` block (not nested) for `api`."""
    block = re.compile(r"<% if \(api === '([\d.]+)'\) \{ -%>\n(.*?)(?:<% \} else \{ -%>\n(.*?))?<% \} -%>\n", re.S)
    return block.sub(lambda m: m.group(2) if m.group(1) == api else (m.group(3) or ""), text)


def render_template(api: str, stem: str, dest: Path) -> None:
    """The generator's lgc template for `api`, the files a component needs, with
    the few placeholders they hold filled in (the generator renders the rest)."""
    values = {"name": stem, "version": "1.2.3", "author": "Tests", "description": "self-test"}
    sources = {"app.py": TEMPLATES / f"api-{api}" / "app.py.ejs",
               "plugin_logic.py": TEMPLATES / "common" / "plugin_logic.py.ejs",
               "siem_client.py": TEMPLATES / "common" / "siem_client.py.ejs"}
    if api == "0.1":
        sources["kcl_schemas.py"] = TEMPLATES / "api-0.1" / "kcl_schemas.py.ejs"
    for wit_root in (TEMPLATES / "common" / "wit", TEMPLATES / f"wit-{api}" / "wit"):
        for path in wit_root.rglob("*.wit"):
            sources[f"wit/{path.relative_to(wit_root)}"] = path
    for name, path in sources.items():
        text = path.read_text()
        text = re.sub(r"<%- python\((\w+)\) %>", lambda m: json.dumps(values[m.group(1)]), text)
        text = text.replace("<%- spdx %>", SPDX)
        text = by_api(text, api)
        for placeholder, value in BINDINGS.items():
            text = text.replace(placeholder, value)
        assert "<%" not in text, f"{path} has a placeholder this test does not fill"
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text)


# -- tools ------------------------------------------------------------------------

def venv_python() -> Path:
    return VENV / "bin" / "python"


def wanted() -> str:
    """What the venv must hold: componentize-py and the host's requirements."""
    return f"{COMPONENTIZE_PY}\n{REQUIREMENTS.read_text()}"


def installed(python: Path) -> bool:
    marker = VENV / "installed.txt"
    return python.exists() and marker.exists() and marker.read_text() == wanted()


@pytest.fixture(scope="module")
def tools() -> Path:
    """The venv's python, with componentize-py and the host's wasmtime."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(str(VENV) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = venv_python()
        if not installed(python):
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
            pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            got = subprocess.run(pip + [COMPONENTIZE_PY], capture_output=True, text=True)
            if got.returncode != 0:
                pytest.skip(f"cannot install {COMPONENTIZE_PY}: {got.stderr.strip()[-500:]}")
            subprocess.run(pip + ["-r", REQUIREMENTS], check=True)
            (VENV / "installed.txt").write_text(wanted())
    return python


@pytest.fixture(scope="module")
def built(tools, tmp_path_factory) -> dict[str, Path]:
    """Every component of COMPONENTS built with componentize-py (two at a time),
    plus the WAT and core-module files."""
    root = tmp_path_factory.mktemp("components")
    componentize = tools.parent / "componentize-py"

    def build(stem: str) -> tuple[str, Path, float]:
        src = root / stem
        (src / "wit").mkdir(parents=True)
        api, overrides = COMPONENTS[stem]
        render_template(api, stem, src)
        module = "app"
        if overrides:
            (src / "faulty_app.py").write_text(OVERRIDES_HEAD + overrides)
            module = "faulty_app"
        out = root / f"{stem}.wasm"
        start = time.monotonic()
        done = subprocess.run(
            [componentize, "-d", "wit", "-w", "plugins-client", "componentize",
             "-p", ".", module, "-o", out],
            cwd=src, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"building {stem}: {done.stdout}{done.stderr}"
        return stem, out, time.monotonic() - start

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(build, COMPONENTS))
    paths = {stem: path for stem, path, _ in results}
    for stem, path, seconds in results:
        print(f"built {stem}.wasm: {path.stat().st_size} bytes in {seconds:.1f} s")

    other = root / "other-world.wasm"
    subprocess.run([tools, "-c", "import sys, wasmtime; open(sys.argv[1], 'wb')"
                    ".write(wasmtime.wat2wasm(sys.argv[2]))", other, WAT_OTHER_WORLD],
                   check=True)
    paths["other-world"] = other
    core = root / "core-module.wasm"
    core.write_bytes(CORE_MODULE)
    paths["core-module"] = core
    return paths


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("inputs")
    files = {"config": CONFIG, "detection": DETECTION, "changed": CHANGED,
             "broken": {"title": ""}}
    for name, value in files.items():
        (root / f"{name}.json").write_text(json.dumps(value))
    # The template's test SIEM, its one placeholder (the SPDX header) filled in.
    siem = root / "test_siem.py"
    siem.write_text(SIEM_TEMPLATE.read_text().replace("<%- spdx %>", SPDX))
    return {"siem": siem, **{name: root / f"{name}.json" for name in files}}


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@dataclass
class Run:
    code: int
    steps: list[dict]
    stdout: str
    stderr: str
    seconds: float

    def step(self, name: str) -> dict:
        return next(s for s in self.steps if s["name"] == name)

    def failed(self) -> list[str]:
        return [s["name"] for s in self.steps if not s["ok"] and s.get("status") != "skipped"]


def run_host(python: Path, component: Path, *args, env=None) -> Run:
    start = time.monotonic()
    done = subprocess.run([python, HOST, component, *map(str, args)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    seconds = time.monotonic() - start
    steps = []
    for line in done.stdout.splitlines():
        step = json.loads(line)  # every line is one JSON object
        assert set(step) <= {"name", "ok", "ms", "detail", "status"}, step
        assert isinstance(step["name"], str) and isinstance(step["ok"], bool)
        assert isinstance(step["ms"], float) and isinstance(step["detail"], str)
        steps.append(step)
    return Run(done.returncode, steps, done.stdout, done.stderr, seconds)


@pytest.fixture(scope="module")
def host(tools, built, inputs, cache):
    """host(stem, *extra args) runs the host (API 1) on a built component with the
    sample config and rules and the templates' test SIEM."""
    def run(stem, *extra, env=None):
        return run_host(tools, built[stem], "--api", "1", "--config", inputs["config"],
                        "--detection", inputs["detection"],
                        "--changed-detection", inputs["changed"],
                        "--broken-detection", inputs["broken"], "--siem", inputs["siem"],
                        "--cache-dir", cache, *extra, env=env)
    return run


def services_create(tools: Path, schema: dict) -> tuple[bool, str]:
    """lgc_host.lgc_services_create on a settings schema: (passed, detail)."""
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); import lgc_host\n"
            "try:\n    print(json.dumps([True, lgc_host.lgc_services_create(json.loads(sys.argv[2]))]))\n"
            "except lgc_host.StepFailed as e:\n    print(json.dumps([False, str(e)]))")
    done = subprocess.run([tools, "-c", code, HERE, json.dumps(schema)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout))


# -- tests --------------------------------------------------------------------------

def test_the_template_plugin_passes_lgc_s_whole_command_sequence(host):
    run = host("good-one")
    assert [s["name"] for s in run.steps] == STEP_NAMES, run.stdout
    assert run.failed() == [], run.stdout
    assert run.code == 0, run.stderr
    assert run.step("load()")["detail"] == "name='good-one' version='1.2.3'"
    assert 'severity="medium" (one of "low", "medium", "high", "critical")' in run.step("settings()")["detail"]
    assert "the broken one refused" in run.step("validate()")["detail"]
    assert run.step("test SIEM")["detail"].startswith("test_siem.py listening on http://127.0.0.1:")
    assert run.step("plan: read() before apply")["detail"].startswith("none")
    assert "no changes" in run.step("plan after apply: read()")["detail"]
    assert run.step("destroy: read(), delete()")["detail"].endswith("read() finds nothing after it")


def test_without_samples_the_calls_needing_them_are_skipped(tools, built, inputs, cache):
    run = run_host(tools, built["good-one"], "--api", "1", "--cache-dir", cache)
    assert [s["name"] for s in run.steps] == STEP_NAMES, run.stdout
    assert run.failed() == [] and run.code == 0, run.stdout
    assert [s["name"] for s in run.steps if s.get("status") == "skipped"] == SAMPLED
    assert run.step("load()")["ok"] and run.step("settings()")["ok"]


def test_config_without_detection_is_a_usage_error(tools, built, inputs, cache):
    run = run_host(tools, built["good-one"], "--api", "1", "--config", inputs["config"], "--cache-dir", cache)
    assert run.code == 2 and "--config and --detection go together" in run.stderr


@pytest.mark.parametrize("schema, message", [
    ({"type": "object", "required": ["url", "token"], "properties": {
        "url": {"type": "string", "default": "http://x"}, "token": {"type": "string", "default": "t"}}},
     'url: lgc checks {"url": "http://x"} alone against the whole schema and it fails '
     "('token' is a required property), so services create asks again forever; drop the top-level"),
    ({"properties": {"level": {"$ref": "#/definitions/L", "default": "a"}},
      "definitions": {"L": {"type": "string", "enum": ["a", "b"]}}},
     'level: a bare $ref is not followed by lgc'),
    ({"properties": {"level": {"allOf": [{"$ref": "#/$defs/L"}]}}, "$defs": {"L": {"type": "string"}}},
     "level: lgc only follows $ref into #/definitions/"),
    ({"$schema": "http://json-schema.org/draft-07/schema#",
      "properties": {"url": {"type": "string", "format": "uri"}}},
     'url: lgc checks {"url": ""} alone against the whole schema and it fails'),
    ({"properties": {"port": {"type": "integer", "default": "8080"}}},
     'port: lgc checks {"port": "8080"}'),
    ({"properties": {"mode": {"description": "no type"}}}, "mode: no type, so lgc's prompt skips it"),
    ({"properties": {"tags": {"type": ["string", "null"]}}}, "tags: lgc cannot read it (type must be a single string)"),
])
def test_settings_that_lgc_services_create_cannot_take_fail_naming_the_setting(tools, schema, message):
    passed, detail = services_create(tools, schema)
    assert not passed and message in detail, detail


def test_settings_lgc_takes_pass_with_what_it_would_store(tools):
    passed, detail = services_create(tools, {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"url": {"type": "string", "format": "uri", "default": "https://siem"},
                       "token": {"type": "string"},
                       "level": {"allOf": [{"$ref": "#/definitions/L"}], "default": "b"}},
        "definitions": {"L": {"type": "string", "enum": ["a", "b"]}}})
    assert passed, detail
    assert detail == ('lgc services create takes level="b" (one of "a", "b"), token="", '
                      'url="https://siem"; token has no default (lgc takes "")')


def services_add(tools: Path, code: str) -> tuple[bool, str]:
    """lgc_host.lgc_services_add (lgc 0.1) on KCL settings: (passed, detail)."""
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import lgc_host\n"
              "try:\n    print(json.dumps([True, lgc_host.lgc_services_add(sys.argv[2])]))\n"
              "except lgc_host.StepFailed as e:\n    print(json.dumps([False, str(e)]))")
    done = subprocess.run([tools, "-c", script, HERE, code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout))


KCL_OK = """schema Configuration:
    url: str = "https://siem"
    @info(sensitive=True)
    token: str
    retries: int = 3
    verbose: bool = False

    check:
        url.startswith("https://"), "url must be https"
"""


@pytest.mark.parametrize("code, message", [
    ('{"properties": {"url": {"type": "string"}}}',
     "defines no `schema Configuration`, so lgc services add fails (kclvm: name 'Configuration' is "
     "not defined) (this looks like JSON Schema: lgc 0.1 reads KCL"),
    ("schema Settings:\n    url: str = \"x\"\n", "defines no `schema Configuration`"),
    ("schema Configuration:\n    url: str =\n", "is KCL that kclvm cannot compile, so lgc services add fails"),
    ("schema Configuration:\n    url: str\n\n    check:\n        len(url) > 0, \"url is required\"\n",
     'lgc services add takes the defaults {"url":""} and kclvm refuses them'),
])
def test_kcl_settings_lgc_0_1_cannot_take_fail_naming_why(tools, code, message):
    passed, detail = services_add(tools, code)
    assert not passed and message in detail, detail


def test_kcl_settings_lgc_0_1_takes_pass_with_what_it_would_store(tools):
    passed, detail = services_add(tools, KCL_OK)
    assert passed, detail
    assert detail.startswith("lgc services add takes ")
    for taken in ('url="https://siem"', 'token=""', "retries=3", "verbose=false"):
        assert taken in detail, detail
    assert 'token has no default (lgc warns, takes "")' in detail


def test_settings_returning_invalid_json_fails_naming_it(host):
    run = host("bad-json")
    assert run.failed() == ["settings()"], run.stdout
    assert run.step("settings()")["detail"].startswith("settings() returned invalid JSON: ")
    assert run.code == 1


def test_non_kebab_case_name_fails_load(host):
    run = host("bad-name")
    assert run.failed() == ["load()"], run.stdout
    assert "load() name 'Foo_Bar' is not kebab-case" in run.step("load()")["detail"]
    assert run.code == 1


def test_a_rule_kept_in_memory_is_lost_in_lgc_s_next_command(host):
    run = host("forgetful")
    assert run.failed() == ["plan after apply: read()"], run.stdout
    assert "lgc runs each command in a new instance" in run.step("plan after apply: read()")["detail"]


def test_a_trap_fails_naming_the_call_and_the_sandbox_is_empty(host):
    run = host("faulty", env={"LGC_TEST_SECRET": "leak-me"})
    assert run.failed() == ["validate()", "ping()"], run.stdout
    detail = run.step("validate()")["detail"]
    assert detail.startswith("trap: validate() raised ValueError: boom from validate"), detail
    seen = json.loads(run.step("ping()")["detail"][len("ping() returned err: "):])
    assert seen["env"] == {}, seen
    assert seen["root"].startswith("error: "), seen  # no preopened directory
    assert len(seen["argv"]) <= 1, seen
    for marker in ("GUEST-STDOUT-MARKER", "GUEST-STDERR-MARKER", "LGC_TEST_SECRET"):
        assert marker not in run.stdout and marker not in run.stderr
    assert run.code == 1


def test_running_past_the_deadline_is_interrupted(host):
    run = host("spinner", "--deadline-seconds", "1")
    assert run.failed() == ["ping()"], run.stdout
    ping = run.step("ping()")
    assert ping["detail"].startswith("deadline exceeded after 1 s"), ping
    assert 900 <= ping["ms"] < 10_000, ping
    assert run.code == 1


def test_guest_blocked_in_host_call_is_stopped_after_deadline(host):
    run = host("sleeper", "--deadline-seconds", "1")
    last = run.steps[-1]
    assert last["name"] == "ping()" and not last["ok"], run.stdout
    assert last["detail"].startswith("deadline exceeded after 1 s"), last
    assert run.code == 1
    assert run.seconds < 20


def test_allocation_past_50_mib_hits_the_memory_limit(host):
    run = host("memory-hog")
    assert run.failed() == ["apply: create()"], run.stdout
    assert run.step("apply: create()")["detail"].startswith("memory limit: "), run.stdout
    assert run.step("ping()")["ok"]  # 16 MiB fits under the cap
    assert run.code == 1


def test_core_module_fails_compile(host):
    run = host("core-module")
    assert len(run.steps) == 1 and run.failed() == ["compile"], run.stdout
    assert "not a component" in run.steps[0]["detail"]
    assert run.code == 1


def test_wrong_world_fails_instantiate(host):
    run = host("other-world")
    assert [s["name"] for s in run.steps] == ["compile", "instantiate"], run.stdout
    detail = run.step("instantiate")["detail"]
    assert detail.startswith("wrong world:") and "logcraft:lgc/plugin@0.1.0" in detail
    assert "acme:other/plugin@1.0.0" in detail
    assert run.code == 1


def test_wrong_api_fails_instantiate_naming_the_interface(host):
    run = host("good-zero")
    detail = run.step("instantiate")["detail"]
    assert not run.step("instantiate")["ok"]
    assert detail.startswith("wrong interface:") and "try --api 0.1" in detail, detail
    assert run.code == 1


def test_second_run_is_cached_and_faster_and_a_slow_cold_compile_warns(tools, built, inputs, tmp_path):
    def run(*extra):
        return run_host(tools, built["good-one"], "--api", "1", "--cache-dir", tmp_path, *extra)
    cold, warm = run(), run()
    assert cold.code == warm.code == 0, cold.stdout + warm.stdout
    assert cold.step("compile")["detail"].startswith("compiled in ")
    assert re.fullmatch(r"cached \(a cold compile took \d+\.\d s\)", warm.step("compile")["detail"])
    assert warm.step("compile")["ms"] < cold.step("compile")["ms"]
    assert warm.seconds < cold.seconds
    print(f"cold run {cold.seconds:.2f} s (compile {cold.step('compile')['ms']:.0f} ms), "
          f"cached run {warm.seconds:.2f} s (compile {warm.step('compile')['ms']:.0f} ms)")

    # lgc's deadline covers the cold compile: past half of it is a warning, not a failure.
    short = run("--deadline-seconds", "2")
    assert short.code == 0, short.stdout
    step = short.step("compile")
    assert step["ok"] and step["status"] == "warned", step
    assert "of lgc's 2 s deadline (more than 50%)" in step["detail"]

    # A corrupt entry is detected, rebuilt, and then served again.
    entry, = tmp_path.glob("*.cwasm")
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(data)
    rebuilt = run()
    assert rebuilt.code == 0
    assert "cache entry was corrupt" in rebuilt.step("compile")["detail"]
    assert run().step("compile")["detail"].startswith("cached")
    assert not list(tmp_path.glob(".tmp-*"))


def test_usage_errors_exit_2(tools, built, inputs):
    bad_api = run_host(tools, built["good-one"], "--api", "2", "--config", inputs["config"],
                       "--detection", inputs["detection"])
    assert bad_api.code == 2 and bad_api.steps == []
    missing = run_host(tools, built["good-one"], "--api", "1", "--config", "/nonexistent.json",
                       "--detection", inputs["detection"])
    assert missing.code == 2 and missing.steps == []
    no_siem = run_host(tools, built["good-one"], "--api", "1", "--config", inputs["config"],
                       "--detection", inputs["detection"], "--siem", "/nonexistent/test_siem.py")
    assert no_siem.code == 2 and "no such test SIEM script" in no_siem.stderr
