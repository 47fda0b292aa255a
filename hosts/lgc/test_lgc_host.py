"""Self-test of the reference lgc host: real plugin components built with
componentize-py from small app modules written here, plus a few components
written in WAT, run through lgc_host.py as a subprocess the way the
TypeScript verifier runs it.

Run: python3 -m pytest -p no:cacheprovider hosts/lgc

The tools live in a venv (env LGC_TEST_VENV, default /tmp/lgc-test-venv) made
on first use with componentize-py (pinned below) and the host's
requirements.txt. The tests are skipped only when componentize-py cannot be
installed; everything else that goes wrong fails them.
"""
import fcntl
import json
import os
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
STEP_NAMES = ["compile", "instantiate", "load()", "settings()", "schema()",
              "validate()", "validate(broken)", "read()", "create()",
              "update()", "delete()", "ping()"]

# -- WIT: the two plugin API contracts ------------------------------------------

WIT_API1 = """\
package logcraft:lgc@0.1.0;

interface plugin {
    type bytes = list<u8>;

    record metadata {
        name: string,
        version: string,
    }

    load: func() -> metadata;
    settings: func() -> result<bytes, string>;
    schema: func() -> result<bytes, string>;
    validate: func(detection: bytes) -> result<_, string>;
    create: func(config: bytes, detection: bytes) -> result<_, string>;
    read: func(config: bytes, detection: bytes) -> result<option<bytes>, string>;
    update: func(config: bytes, detection: bytes) -> result<_, string>;
    delete: func(config: bytes, detection: bytes) -> result<_, string>;
    ping: func(config: bytes) -> result<bool, string>;
}

world plugins {
    export plugin;
}
"""

WIT_API01 = """\
package logcraft:lgc@0.1.0;

interface plugin {
    record metadata {
        name: string,
        version: string,
        author: string,
        description: string,
    }

    load: func() -> metadata;
    settings: func() -> string;
    schema: func() -> string;
    create: func(config: string, name: string, params: string) -> result<option<string>, string>;
    read: func(config: string, name: string, params: string) -> result<option<string>, string>;
    update: func(config: string, name: string, params: string) -> result<option<string>, string>;
    delete: func(config: string, name: string, params: string) -> result<option<string>, string>;
    ping: func(config: string) -> result<bool, string>;
}

world plugins {
    export plugin;
}
"""

# -- app modules ------------------------------------------------------------------

# Shared by both APIs: schemas and checks, in plain Python.
COMMON = '''
import json
import os
import sys
import time

from wit_world import exports
from wit_world.exports.plugin import Metadata
from componentize_py_types import Err

SETTINGS = {
    "type": "object",
    "required": ["url"],
    "properties": {
        "url": {"type": "string", "format": "uri", "description": "API base URL"},
        "timeout": {"type": "integer", "default": 30, "description": "Timeout (s)"},
        "level": {"$ref": "#/definitions/Level", "default": "info",
                  "description": "Log level"},
    },
    "definitions": {"Level": {"type": "string", "enum": ["info", "debug"]}},
}
RULE = {
    "type": "object",
    "required": ["title", "query"],
    "properties": {"title": {"type": "string"}, "query": {"type": "string"}},
}


def parse(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        raise Err(f"{what} is not JSON: {e}")


def check_rule(text):
    rule = parse(text, "detection")
    if not isinstance(rule, dict):
        raise Err("detection is not an object")
    for key in RULE["required"]:
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise Err(f"detection needs a non-empty string {key!r}")
    return rule


def check_config(text):
    cfg = parse(text, "config")
    if not isinstance(cfg, dict) or not str(cfg.get("url", "")).startswith("https://"):
        raise Err("config needs an https url")
    return cfg
'''

API1_BASE = COMMON + '''

class Base(exports.Plugin):
    def load(self):
        return Metadata(name=NAME, version="1.2.3")

    def settings(self):
        return json.dumps(SETTINGS).encode()

    def schema(self):
        return json.dumps(RULE).encode()

    def validate(self, detection):
        check_rule(detection)

    def create(self, config, detection):
        check_config(config)
        check_rule(detection)

    def read(self, config, detection):
        cfg, rule = check_config(config), check_rule(detection)
        return json.dumps({"url": cfg["url"], **rule}).encode()

    def update(self, config, detection):
        check_config(config)
        check_rule(detection)

    def delete(self, config, detection):
        check_config(config)
        check_rule(detection)

    def ping(self, config):
        check_config(config)
        return True
'''

API01_BASE = COMMON + '''

class Base(exports.Plugin):
    def load(self):
        return Metadata(name=NAME, version="0.1.0", author="Tests",
                        description="API 0.1 test plugin")

    def settings(self):
        return json.dumps(SETTINGS)

    def schema(self):
        return json.dumps(RULE)

    def create(self, config, name, params):
        cfg, rule = check_config(config), check_rule(params)
        return json.dumps({"name": name, "url": cfg["url"], **rule})

    def read(self, config, name, params):
        return self.create(config, name, params)

    def update(self, config, name, params):
        return self.create(config, name, params)

    def delete(self, config, name, params):
        check_config(config)
        return None

    def ping(self, config):
        check_config(config)
        return True
'''

PLAIN = "\n\nclass Plugin(Base):\n    pass\n"

FAULTY = '''

class Plugin(Base):
    def validate(self, detection):
        raise ValueError("boom from validate")

    def read(self, config, detection):
        # What the sandbox shows the guest; also writes to stdout/stderr.
        print("GUEST-STDOUT-MARKER")
        print("GUEST-STDERR-MARKER", file=sys.stderr)
        try:
            root = sorted(os.listdir("/"))
        except OSError as e:
            root = "error: " + type(e).__name__
        return json.dumps({"env": dict(os.environ), "argv": sys.argv, "root": root}).encode()

    def update(self, config, detection):
        while True:
            pass

    def delete(self, config, detection):
        cfg = check_config(config)
        time.sleep(cfg.get("sleep", 0))
'''

MEMORY_HOG = '''

class Plugin(Base):
    def read(self, config, detection):
        block = bytearray(30 * 1024 * 1024)  # under the 50 MiB cap
        block[-1] = 1
        return None

    def create(self, config, detection):
        block = bytearray(64 * 1024 * 1024)  # past the cap
        block[-1] = 1
'''

# stem -> (WIT, app module source); the stem is the plugin name.
COMPONENTS = {
    "good-one": (WIT_API1, API1_BASE + PLAIN),
    "good-zero": (WIT_API01, API01_BASE + PLAIN),
    "bad-json": (WIT_API1, API1_BASE + '''

class Plugin(Base):
    def settings(self):
        return b"{not json"
'''),
    "bad-name": (WIT_API1, API1_BASE + '''

class Plugin(Base):
    def load(self):
        return Metadata(name="Foo_Bar", version="1.2.3")
'''),
    "faulty": (WIT_API1, API1_BASE + FAULTY),
    "memory-hog": (WIT_API1, API1_BASE + MEMORY_HOG),
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

CONFIG = {"url": "https://siem.example.com", "timeout": 5, "level": "debug"}
DETECTION = {"title": "Suspicious PowerShell", "query": "process=powershell.exe"}
DETECTION_01 = {"name": "suspicious-powershell",
                "rules": {"good-zero": {"title": "Suspicious PowerShell",
                                        "query": "process=powershell.exe"}}}


# -- tools ------------------------------------------------------------------------

def venv_python() -> Path:
    return VENV / "bin" / "python"


def installed(python: Path) -> bool:
    probe = ("import importlib.metadata as m, sys; "
             "sys.exit(0 if m.version('componentize-py') == sys.argv[1] else 1)")
    want = COMPONENTIZE_PY.split("==")[1]
    if not python.exists():
        return False
    probe_wasmtime = "import wasmtime.component"
    return (subprocess.run([python, "-c", probe, want], capture_output=True).returncode == 0
            and subprocess.run([python, "-c", probe_wasmtime], capture_output=True).returncode == 0)


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
        assert installed(python)
    return python


@pytest.fixture(scope="module")
def built(tools, tmp_path_factory) -> dict[str, Path]:
    """Every component of COMPONENTS built with componentize-py (two at a time),
    plus the WAT and core-module files."""
    root = tmp_path_factory.mktemp("components")
    componentize = tools.parent / "componentize-py"

    def build(stem: str) -> tuple[str, Path, float]:
        wit, app = COMPONENTS[stem]
        src = root / stem
        (src / "wit").mkdir(parents=True)
        (src / "wit" / "plugin.wit").write_text(wit)
        (src / "app.py").write_text(f"NAME = {stem!r}  # the plugin name is the file stem\n" + app)
        out = root / f"{stem}.wasm"
        start = time.monotonic()
        done = subprocess.run(
            [componentize, "-d", "wit", "-w", "plugins", "componentize",
             "-p", ".", "app", "-o", out],
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
    files = {"config": CONFIG, "detection": DETECTION, "detection01": DETECTION_01,
             "broken": {"title": ""}, "sleepy": {**CONFIG, "sleep": 30}}
    for name, value in files.items():
        (root / f"{name}.json").write_text(json.dumps(value))
    return {name: root / f"{name}.json" for name in files}


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
    """host(stem, *extra args, api="1", detection=...) runs the host on a built component."""
    def run(stem, *extra, api="1", config="config", detection=None, env=None):
        detection = detection or ("detection01" if api == "0.1" else "detection")
        return run_host(tools, built[stem], "--api", api, "--config", inputs[config],
                        "--detection", inputs[detection], "--cache-dir", cache, *extra,
                        env=env)
    return run


# -- tests --------------------------------------------------------------------------

def test_good_api1_plugin_passes_every_step(host, inputs):
    run = host("good-one", "--broken-detection", inputs["broken"])
    assert [s["name"] for s in run.steps] == STEP_NAMES, run.stdout
    assert run.failed() == [], run.stdout
    assert run.code == 0, run.stderr
    assert run.step("load()")["detail"] == "name='good-one' version='1.2.3'"
    assert "properties: url, timeout, level" in run.step("settings()")["detail"]
    assert "err as expected" in run.step("validate(broken)")["detail"]
    read = run.step("read()")["detail"]
    assert read.startswith("ok: some: ") and "Suspicious PowerShell" in read
    assert run.step("ping()")["detail"] == "ok: true"


def test_without_samples_the_calls_needing_them_are_skipped(tools, built, inputs, cache):
    run = run_host(tools, built["good-one"], "--api", "1", "--cache-dir", cache)
    assert [s["name"] for s in run.steps] == STEP_NAMES, run.stdout
    assert run.failed() == [] and run.code == 0, run.stdout
    sampled = [s["name"] for s in run.steps if s.get("status") == "skipped"]
    assert sampled == ["validate()", "validate(broken)", "read()", "create()", "update()", "delete()", "ping()"]
    assert run.step("load()")["ok"] and run.step("settings()")["ok"]


def test_config_without_detection_is_a_usage_error(tools, built, inputs, cache):
    run = run_host(tools, built["good-one"], "--api", "1", "--config", inputs["config"], "--cache-dir", cache)
    assert run.code == 2 and "--config and --detection go together" in run.stderr


def test_good_api01_plugin_passes_and_skips_validate(host):
    run = host("good-zero", api="0.1")
    assert [s["name"] for s in run.steps] == STEP_NAMES, run.stdout
    assert run.code == 0, run.stdout
    for name in ("validate()", "validate(broken)"):
        step = run.step(name)
        assert step["status"] == "skipped" and step["ok"] is False
    assert all(s["ok"] for s in run.steps if "status" not in s), run.stdout
    assert "author='Tests'" in run.step("load()")["detail"]
    # create() got the detection's name and the JSON of rules["good-zero"].
    created = json.loads(run.step("create()")["detail"][len("ok: some: "):])
    assert created == {"name": "suspicious-powershell", "url": CONFIG["url"], **DETECTION}
    assert run.step("delete()")["detail"] == "ok: none"


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


def test_trap_and_deadline_fail_naming_the_call(host):
    run = host("faulty", "--deadline-seconds", "1")
    assert run.failed() == ["validate()", "validate(broken)", "update()"], run.stdout
    detail = run.step("validate()")["detail"]
    assert detail.startswith("trap: validate() raised ValueError: boom from validate"), detail
    update = run.step("update()")
    assert update["detail"].startswith("deadline exceeded after 1 s"), update
    assert 900 <= update["ms"] < 10_000, update
    assert run.code == 1


def test_sandbox_has_no_env_args_preopens_or_inherited_output(host):
    run = host("faulty", "--deadline-seconds", "1", env={"LGC_TEST_SECRET": "leak-me"})
    seen = json.loads(run.step("read()")["detail"][len("ok: some: "):])
    assert seen["env"] == {}, seen
    assert "LGC_TEST_SECRET" not in json.dumps(seen)
    assert seen["root"].startswith("error: "), seen  # no preopened directory
    assert len(seen["argv"]) <= 1, seen
    for marker in ("GUEST-STDOUT-MARKER", "GUEST-STDERR-MARKER"):
        assert marker not in run.stdout and marker not in run.stderr


def test_guest_blocked_in_host_call_is_stopped_after_deadline(host):
    run = host("faulty", "--deadline-seconds", "1", config="sleepy")
    last = run.steps[-1]
    assert last["name"] == "delete()" and not last["ok"], run.stdout
    assert last["detail"].startswith("deadline exceeded after 1 s"), last
    assert run.code == 1
    assert run.seconds < 20


def test_allocation_past_50_mib_hits_the_memory_limit(host):
    run = host("memory-hog")
    assert run.failed() == ["create()"], run.stdout
    assert run.step("create()")["detail"].startswith("memory limit: "), run.stdout
    assert run.step("read()")["ok"]  # 30 MiB fits under the cap
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
    run = host("good-zero", api="1", detection="detection")
    detail = run.step("instantiate")["detail"]
    assert not run.step("instantiate")["ok"]
    assert detail.startswith("wrong interface:") and "try --api 0.1" in detail, detail
    assert run.code == 1


def test_second_run_is_cached_and_faster(tools, built, inputs, tmp_path):
    def run():
        return run_host(tools, built["good-one"], "--api", "1", "--config", inputs["config"],
                        "--detection", inputs["detection"], "--cache-dir", tmp_path)
    cold, warm = run(), run()
    assert cold.code == warm.code == 0, cold.stdout + warm.stdout
    assert cold.step("compile")["detail"].startswith("compiled in ")
    assert warm.step("compile")["detail"] == "cached"
    assert warm.step("compile")["ms"] < cold.step("compile")["ms"]
    assert warm.seconds < cold.seconds
    print(f"cold run {cold.seconds:.2f} s (compile {cold.step('compile')['ms']:.0f} ms), "
          f"cached run {warm.seconds:.2f} s (compile {warm.step('compile')['ms']:.0f} ms)")

    # A corrupt entry is detected, rebuilt, and then served again.
    entry, = tmp_path.glob("*.cwasm")
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(data)
    rebuilt = run()
    assert rebuilt.code == 0
    assert "cache entry was corrupt" in rebuilt.step("compile")["detail"]
    assert run().step("compile")["detail"] == "cached"
    assert not list(tmp_path.glob(".tmp-*"))


def test_usage_errors_exit_2(tools, built, inputs):
    bad_api = run_host(tools, built["good-one"], "--api", "2", "--config", inputs["config"],
                       "--detection", inputs["detection"])
    assert bad_api.code == 2 and bad_api.steps == []
    missing = run_host(tools, built["good-one"], "--api", "1", "--config", "/nonexistent.json",
                       "--detection", inputs["detection"])
    assert missing.code == 2 and missing.steps == []
