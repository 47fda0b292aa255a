#!/usr/bin/env python3
"""Reference LogCraft `lgc` host: runs a plugin component (world
`logcraft:lgc/plugins@0.1.0`, interface `plugin`) the way lgc does and reports
every step as one JSON line on stdout:
    {"name": str, "ok": bool, "ms": float, "detail": str}
plus "status": "skipped" on a step that cannot run (then "ok" is false), or
"status": "warned" on a step that passed but where lgc would misbehave.

Usage: lgc_host.py COMPONENT.wasm --api 1|0.1 [--runtime-0-1 BINARY]
                   [--config CONFIG.json --detection DETECTION.json
                   [--changed-detection FILE] [--broken-detection FILE]
                   [--siem test_siem.py]]
                   [--deadline-seconds N] [--cache-dir DIR | --no-cache]
Exit status: 0 when every step that ran passed (skipped ones aside), 1 when a
step failed, 2 for bad usage.

How it mirrors lgc 1.1.1 (API 1; wasmtime 30, async, pooling allocator):
- Engine: component model on, epoch interruption on. A background thread
  increments the epoch every EPOCH_TICK seconds; each Store gets a deadline of
  --deadline-seconds (default 60) worth of ticks, so wasm running past it traps
  ("wasm trap: interrupt"). A guest blocked inside a host call (e.g. a long
  sleep) cannot be interrupted by epochs: the same thread then reports the step
  as failed and ends the host DEADLINE_GRACE seconds after the deadline.
- Limits (lgc's pooling caps, applied per Store with the public
  Store.set_limits; every Store here holds exactly one component instance):
  each linear memory at most 50 MiB, at most 20 memories, 20 tables of at most
  20,000 elements, 200 core instances. memory.grow past 50 MiB returns -1, the
  CPython inside raises MemoryError, componentize-py turns the uncaught
  exception into a trap, and the step reports "memory limit: ...".
- WASI 0.2 via Linker.add_wasip2() (+ wasi-http, as lgc links it): a default
  WasiConfig, so no env, no args, no preopened directories. stdout/stderr are
  captured into bounded buffers (never inherited); they are used only to name
  the Python exception behind a trap.
- Compiled code is cached: Component.serialize() written to the cache dir keyed
  by (sha256 of the .wasm, wasmtime version, engine settings), atomically
  (temp file + rename), with a sha256 of the payload in a header, so a corrupt
  or truncated entry is detected and rebuilt. The cache dir must be private to
  the user (it holds native code that is loaded as is).
  A cold compile's time is kept beside the entry: lgc's deadline starts before
  it compiles, so one over half the deadline is a warning.
- The plugin name is the file stem; load() must return it, in kebab-case.
- Every instance gets load() first, as lgc's load_plugin does. settings(),
  schema() and validate() each get a fresh one; ping, plan, apply and destroy
  share one, as one lgc command calls one instance for every rule; the plan
  after apply gets a fresh one, as a new lgc process would.
- settings() is replayed the way `lgc services create` takes it (see
  lgc_services_create); the commands run against --siem (a test SIEM started
  on a free port, the config's url pointed at it) or the --config service.

How it mirrors lgc 0.1.x (API 0.1; lgc 0.1.3's source): the component runs in
lgc 0.1's own runtime, runtime-0.1 (wasmtime 22 with lgc 0.1's engine settings,
pooling limits and 60 s deadline; --runtime-0-1), one child process per lgc
command, driven over a pipe (see Runner). Its compiled code is kept in the cache
dir with a checksum beside it. load()'s name is the plugin's identity (the file
lgc plugins install writes, the key of rule files' rules). settings() and
schema() are KCL, read with kcl-lib (kclvm 0.9, as lgc 0.1 embeds): settings()
is replayed as `lgc services add` takes it (lgc_services_add) and "lgc validate
(KCL)" checks the samples as `lgc validate` does. destroy hands delete() the
applied rule, and a none from delete() is a warning (lgc prints "not found").

Steps, in order: compile, instantiate, load(), settings(), schema(), validate()
(API 0.1: lgc validate (KCL)), test SIEM, ping(), plan: read() before apply,
apply: create(), plan after apply: read(), apply changed rule: read(), update(),
destroy: read(), delete(). A failed compile or instantiate ends the run, and so
does a failed command step.

Requires the packages pinned in requirements.txt (wasmtime, jsonschema with a
uri format checker, kcl-lib; Python 3.11+).
"""
import sys

# The host writes nowhere but its cache dir, not even __pycache__.
sys.dont_write_bytecode = True

import argparse
import hashlib
import json
import math
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

try:
    from wasmtime import Config, Engine, ExitTrap, Store, WasiConfig, WasmtimeError
    from wasmtime.component import (
        Bool, Char, Component, ComponentInstanceType, EnumType, F32, F64,
        FlagsType, FuncType, Linker, ListType, OptionType, RecordType,
        ResultType, S8, S16, S32, S64, String, TupleType, U8, U16, U32, U64,
        Variant, VariantType,
    )
    from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, Draft202012Validator
    from jsonschema.validators import validator_for
    from jsonschema.exceptions import SchemaError
    import kcl_lib.api as kcl
except ImportError as exc:  # pragma: no cover - depends on the machine
    print(f"lgc_host: the wasmtime (with wasmtime.component) and jsonschema packages are needed: {exc}; "
          f"pip install -r {Path(__file__).with_name('requirements.txt')}", file=sys.stderr)
    sys.exit(2)

MIB = 1 << 20
WORLD = "logcraft:lgc/plugins@0.1.0"
INTERFACE = "logcraft:lgc/plugin@0.1.0"
# lgc's PoolingAllocationConfig, as far as Store limits can express it.
LIMITS = dict(memory_size=50 * MIB, memories=20, tables=20,
              table_elements=20_000, instances=200)
DEFAULT_DEADLINE = 60.0
EPOCH_TICK = 0.01          # seconds per epoch increment
DEADLINE_GRACE = 2.0       # watchdog margin for guests blocked in host calls
OUTPUT_CAP = 64 * 1024     # bytes of guest stdout/stderr kept (the tail)
DETAIL_CAP = 300           # characters of a call's result shown in a detail
CACHE_MAGIC = b"LGC-HOST-CWASM-1\n"
# Engine settings that change compiled code: part of the cache key.
ENGINE_TAG = "cm1-epoch1"

KEBAB = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(-((0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(\.(0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?")
DEFAULT_BROKEN = b"lgc-host: this detection is not JSON {"
# A cold compile longer than this share of the deadline gets a warning.
COMPILE_WARN_SHARE = 0.5
# What lgc puts in a setting that has no default (JsonProperty::type_default).
TYPE_DEFAULTS = {"string": "", "boolean": False, "integer": 0, "array": [], "object": {}}
# Steps that need sample settings and rules.
SAMPLED_STEPS = ("validate()", "test SIEM", "ping()", "plan: read() before apply",
                 "apply: create()", "plan after apply: read()",
                 "apply changed rule: read(), update()", "destroy: read(), delete()")
PING_FALSE = ("lgc reports a ping without an error as a success (lgc 1.1.1 prints \"connection "
              "successful\", lgc 0.1 \"OK\"): report an unreachable service as err(reason)")
# Child processes (test SIEMs, lgc 0.1 runtimes): stopped before the host exits.
CHILDREN: list = []

BYTES = "list<u8>"
# Expected export signatures per API (parameter names are shown, not compared:
# the component model checks parameter types only).
API_SIGS = {
    "1": {
        "load": ([], "record { name: string, version: string }"),
        "settings": ([], f"result<{BYTES}, string>"),
        "schema": ([], f"result<{BYTES}, string>"),
        "validate": ([("detection", BYTES)], "result<_, string>"),
        "create": ([("config", BYTES), ("detection", BYTES)], "result<_, string>"),
        "read": ([("config", BYTES), ("detection", BYTES)], f"result<option<{BYTES}>, string>"),
        "update": ([("config", BYTES), ("detection", BYTES)], "result<_, string>"),
        "delete": ([("config", BYTES), ("detection", BYTES)], "result<_, string>"),
        "ping": ([("config", BYTES)], "result<bool, string>"),
    },
    "0.1": {
        "load": ([], "record { name: string, version: string, author: string, description: string }"),
        "settings": ([], "string"),
        "schema": ([], "string"),
        **{op: ([("config", "string"), ("name", "string"), ("params", "string")],
                "result<option<string>, string>")
           for op in ("create", "read", "update", "delete")},
        "ping": ([("config", "string")], "result<bool, string>"),
    },
}


class UsageError(Exception):
    pass


class StepFailed(Exception):
    """A step's check failed; the message is the step's detail."""


class StepWarning(Exception):
    """The step passed, but lgc would misbehave: the message says how."""


class RunnerTrap(Exception):
    """wasmtime failed a call in lgc 0.1's runtime (a trap, the deadline, a limit)."""

    def __init__(self, message: str, stage: str = "") -> None:
        super().__init__(message)
        self.stage = stage


TRAPS = (WasmtimeError, ExitTrap, RunnerTrap)


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def stop_children() -> None:
    for proc in CHILDREN:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def truncate(text: str, cap: int = DETAIL_CAP) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= cap else text[:cap - 3] + "..."


def show(value) -> str:
    """A call result as text for a detail."""
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return repr(bytes(value))
    return str(value)


# ---------------------------------------------------------------- reporting

class Reporter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failed = False
        self.closed = False

    def emit(self, name: str, ok: bool, ms: float, detail: str, skipped: bool = False,
             warned: bool = False) -> None:
        line = {"name": name, "ok": bool(ok), "ms": round(ms, 3), "detail": detail}
        if skipped:
            line["status"] = "skipped"
        elif warned:
            line["status"] = "warned"
        with self.lock:
            if self.closed:
                return
            if not ok and not skipped:
                self.failed = True
            try:
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
            except (BrokenPipeError, ValueError, OSError):
                # Nobody reads the report any more: stop without a traceback.
                stop_children()
                os._exit(1)

    def close(self) -> None:
        with self.lock:
            self.closed = True


class Ticker(threading.Thread):
    """Increments the engine's epoch; ends the host when a step is stuck in a
    host call well past the deadline (epochs only interrupt running wasm)."""

    def __init__(self, engine: Engine, reporter: Reporter, deadline: float) -> None:
        super().__init__(name="epoch-ticker", daemon=True)
        self.engine = engine
        self.reporter = reporter
        self.deadline = deadline
        self.step = None  # (name, monotonic start)

    def run(self) -> None:
        while True:
            time.sleep(EPOCH_TICK)
            self.engine.increment_epoch()
            step = self.step
            if step and time.monotonic() - step[1] > self.deadline + DEADLINE_GRACE:
                name, start = step
                self.reporter.emit(
                    name, False, (time.monotonic() - start) * 1000,
                    f"deadline exceeded after {self.deadline:g} s: the guest is blocked "
                    f"in a host call that epochs cannot interrupt; host stopped")
                self.reporter.close()
                sys.stdout.flush()
                stop_children()
                os._exit(1)


# ---------------------------------------------------------------- types

def wit(ty) -> str:
    """A component value type written the way WIT writes it."""
    simple = {Bool: "bool", S8: "s8", S16: "s16", S32: "s32", S64: "s64",
              U8: "u8", U16: "u16", U32: "u32", U64: "u64", F32: "f32",
              F64: "f64", Char: "char", String: "string"}
    for cls, name in simple.items():
        if isinstance(ty, cls):
            return name
    if isinstance(ty, ListType):
        return f"list<{wit(ty.element)}>"
    if isinstance(ty, OptionType):
        return f"option<{wit(ty.payload)}>"
    if isinstance(ty, ResultType):
        ok = wit(ty.ok) if ty.ok is not None else "_"
        err = wit(ty.err) if ty.err is not None else None
        if err is None:
            return "result" if ok == "_" else f"result<{ok}>"
        return f"result<{ok}, {err}>"
    if isinstance(ty, RecordType):
        return "record { " + ", ".join(f"{n}: {wit(t)}" for n, t in ty.fields) + " }"
    if isinstance(ty, TupleType):
        return "tuple<" + ", ".join(wit(t) for t in ty.elements) + ">"
    if isinstance(ty, VariantType):
        return "variant { " + ", ".join(
            n if t is None else f"{n}({wit(t)})" for n, t in ty.cases) + " }"
    if isinstance(ty, EnumType):
        return "enum { " + ", ".join(ty.names) + " }"
    if isinstance(ty, FlagsType):
        return "flags { " + ", ".join(ty.names) + " }"
    return type(ty).__name__


def signature(params, result, names: bool = True) -> str:
    args = ", ".join(f"{n}: {t}" if names else t for n, t in params)
    return f"func({args})" + (f" -> {result}" if result else "")


def check_exports(component: Component, engine: Engine, api: str) -> None:
    """Raise StepFailed unless the component exports the plugin interface
    with the signatures of `api`."""
    exports = component.type.exports(engine)
    if INTERFACE not in exports:
        names = sorted(exports)
        hint = [n for n in names if n.endswith("/plugin") or "/plugin@" in n]
        raise StepFailed(
            f"wrong world: the component does not export interface {INTERFACE} "
            f"(world {WORLD}); it exports {names}"
            + (f" - {hint[0]} is a different package or version" if hint else ""))
    iface = exports[INTERFACE].ty
    if not isinstance(iface, ComponentInstanceType):
        raise StepFailed(f"wrong world: export {INTERFACE} is a {type(iface).__name__}, not an interface")
    funcs = {}
    for name, ext in iface.exports(engine).items():
        ty = ext.ty
        if isinstance(ty, FuncType):
            params = [(n, wit(t)) for n, t in ty.params]
            funcs[name] = (params, wit(ty.result) if ty.result is not None else None)
    problems, other_api_matches = [], 0
    other = "0.1" if api == "1" else "1"
    for name, (params, result) in API_SIGS[api].items():
        if name not in funcs:
            problems.append(f"{name} is missing")
            continue
        got = funcs[name]
        if signature(got[0], got[1], False) != signature(params, result, False):
            problems.append(f"{name} is {signature(*got)}, API {api} expects {signature(params, result)}")
            want_other = API_SIGS[other].get(name)
            if want_other and signature(got[0], got[1], False) == signature(*want_other, False):
                other_api_matches += 1
    if problems:
        hint = f" (it looks like an API {other} plugin: try --api {other})" if other_api_matches else ""
        raise StepFailed(truncate(f"wrong interface: {INTERFACE} does not match lgc API {api}"
                                  f"{hint}: " + "; ".join(problems), 1000))


def instantiate_failure(text: str, api: str) -> str:
    """A failed instantiate's detail."""
    if "resource limit exceeded" in text or "exceeds memory limits" in text \
            or "exceeds table limits" in text or "Insufficient resources" in text:
        return truncate(f"memory limit: instantiation refused: {text}")
    if "not found in the linker" in text or "matching implementation was not found" in text:
        return truncate(f"instantiate failed: unsatisfied import (lgc provides WASI 0.2 and "
                        f"wasi:http only): {text}", 600)
    if api == "0.1" and INTERFACE in text:
        return truncate(f"wrong interface: lgc 0.1 needs world {WORLD} exporting {INTERFACE} "
                        f"as lgc 0.1.3's wit/plugin.wit has it (load() -> metadata of four "
                        f"strings, settings()/schema() -> string, create/read/update/delete("
                        f"config, name, params) -> result<option<string>, string>, ping(config) "
                        f"-> result<bool, string>): {text}", 1000)
    return truncate(f"instantiate failed: {text}", 600)


def compile_failure_01(text: str) -> str:
    """A component lgc 0.1's wasmtime 22 cannot compile, and why that usually is."""
    hint = ""
    if "constant expression required" in text:
        hint = (" (componentize-py after 0.13.5 emits code wasmtime 22 refuses: API 0.1 "
                "plugins are built with componentize-py==0.13.5)")
    return truncate(f"lgc 0.1 cannot load it: wasmtime 22 refuses the component{hint}: {text}", 800)


# ---------------------------------------------------------------- compile + cache

def wasm_kind(data: bytes) -> str:
    if data[:4] != b"\0asm":
        return "not WebAssembly (no \\0asm magic)"
    if data[4:8] == b"\x01\x00\x00\x00":
        return "a core WebAssembly module, not a component (build it with componentize-py)"
    if data[6:8] == b"\x01\x00":
        return "component"
    return f"an unknown WebAssembly binary (version/layer bytes {data[4:8].hex()})"


def wasmtime_version() -> str:
    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def touch(path: Path) -> None:
    """Marks a cache entry as used now: the cache is trimmed least recently used first."""
    try:
        os.utime(path)
    except OSError:
        pass


def read_cache(path: Path, engine: Engine):
    """Returns (component or None, note). A bad entry is removed."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None, ""
    problem = None
    if st.st_uid != os.geteuid():
        problem = "not owned by this user"
    else:
        blob = path.read_bytes()
        head = len(CACHE_MAGIC)
        if blob[:head] != CACHE_MAGIC or len(blob) < head + 32:
            problem = "bad header"
        elif hashlib.sha256(blob[head + 32:]).digest() != blob[head:head + 32]:
            problem = "checksum mismatch"
        else:
            try:
                component = Component.deserialize(engine, blob[head + 32:])
                touch(path)
                return component, ""
            except WasmtimeError as exc:
                problem = f"wasmtime refused it: {truncate(exc, 120)}"
    try:
        path.unlink()
    except OSError:
        pass
    return None, f"cache entry was corrupt ({problem}); rebuilt"


def write_cache(path: Path, component: Component) -> str:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        payload = bytes(component.serialize())
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".cwasm")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, WasmtimeError) as exc:
        return f"cache not written: {truncate(exc, 120)}"
    return ""


def compile_component(engine: Engine, data: bytes, cache_dir):
    """Returns (component, detail, seconds a cold compile took or None when
    unknown); raises StepFailed. The cold time is kept beside the cache entry."""
    kind = wasm_kind(data)
    if kind != "component":
        raise StepFailed(f"not a component: the file is {kind}")
    entry = None
    notes = []
    if cache_dir is not None:
        key = f"{hashlib.sha256(data).hexdigest()}-wasmtime-{wasmtime_version()}-{ENGINE_TAG}.cwasm"
        entry = Path(cache_dir) / key
        component, note = read_cache(entry, engine)
        if component is not None:
            try:
                seconds = float(entry.with_suffix(".seconds").read_text())
            except (OSError, ValueError):
                return component, "cached", None
            return component, f"cached (a cold compile took {seconds:.1f} s)", seconds
        if note:
            notes.append(note)
    start = time.monotonic()
    try:
        component = Component(engine, data)
    except WasmtimeError as exc:
        raise StepFailed(f"invalid component: {truncate(exc)}")
    seconds = time.monotonic() - start
    detail = f"compiled in {seconds:.2f} s"
    if entry is not None:
        note = write_cache(entry, component)
        if note:
            notes.append(note)
        else:
            try:
                entry.with_suffix(".seconds").write_text(f"{seconds:.3f}")
            except OSError:
                pass
    return component, detail + (f" ({'; '.join(notes)})" if notes else ""), seconds


# ---------------------------------------------------------------- running

class Output:
    """Bounded capture of a guest stream (keeps the tail)."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        self.buf += data
        if len(self.buf) > OUTPUT_CAP:
            del self.buf[:len(self.buf) - OUTPUT_CAP]

    def text(self) -> str:
        return self.buf.decode("utf-8", "replace")


class Use:
    """One fresh instance in its own Store, as lgc makes for every use."""

    def __init__(self, host: "Host") -> None:
        self.host = host
        self.stdout, self.stderr = Output(), Output()
        store = Store(host.engine)
        wasi = WasiConfig()  # no argv, no env, no preopened directories
        wasi.stdout_custom = self.stdout.write
        wasi.stderr_custom = self.stderr.write
        store.set_wasi(wasi)
        store.set_wasi_http()
        store.set_limits(**LIMITS)
        store.set_epoch_deadline(host.deadline_ticks)
        self.store = store
        self.instance = host.linker.instantiate(store, host.component)
        self.iface = self.instance.get_export_index(store, INTERFACE)
        if self.iface is None:  # check_exports makes this unreachable
            raise StepFailed(f"instance has no export {INTERFACE}")

    def call(self, name: str, *args):
        idx = self.instance.get_export_index(self.store, name, self.iface)
        func = self.instance.get_func(self.store, idx) if idx is not None else None
        if func is None:
            raise StepFailed(f"{name}() is not exported")
        result = func(self.store, *args)
        func.post_return(self.store)
        return result


class Outcome:
    """A `result` as lgc 0.1's runtime returns it."""

    def __init__(self, ok: bool, payload) -> None:
        self.ok, self.payload = ok, payload


class Runner:
    """One instance in lgc 0.1's own runtime (runtime-0.1: wasmtime 22 with lgc
    0.1.3's engine settings, pooling limits and 60 s deadline), in a child process:
    lgc 0.1 compiles, instantiates and calls a plugin there, one store per command.
    Same face as Use. The compiled code is kept in the cache dir (Host.compiled_01),
    as lgc 0.1 keeps it in wasmtime's cache."""

    def __init__(self, host: "Host") -> None:
        self.stderr = Output()
        self.proc = subprocess.Popen(
            [host.args.runtime_0_1, host.args.component, host.compiled_01(), f"{host.deadline:g}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True)
        CHILDREN.append(self.proc)
        ready = self.reply()
        self.compile_seconds = ready.get("compile_seconds")
        self.cached = ready.get("cached", False)
        if ready.get("stage") != "compile":
            host.cached_01(self)
        if "trap" in ready:
            raise RunnerTrap(ready["trap"], ready.get("stage", ""))

    def reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise RunnerTrap(f"lgc 0.1's runtime exited ({code}): {truncate(self.proc.stderr.read(), 400)}")
        answer = json.loads(line)
        self.stderr.write(answer.get("stderr", "").encode())
        return answer

    def call(self, name: str, *args):
        try:
            self.proc.stdin.write(json.dumps({"call": name, "args": list(args)}) + "\n")
            self.proc.stdin.flush()
        except OSError as exc:
            raise RunnerTrap(f"lgc 0.1's runtime is gone: {exc}")
        answer = self.reply()
        if "trap" in answer:
            raise RunnerTrap(answer["trap"])
        if "err" in answer:
            return Outcome(False, answer["err"])
        if name == "load":
            return SimpleNamespace(**answer["ok"])
        return Outcome(True, answer["ok"]) if name in RESULT_CALLS else answer["ok"]

    def close(self) -> None:
        """Ends the process (end of input), as lgc ends its command."""
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


RESULT_CALLS = ("create", "read", "update", "delete", "ping")


def python_exception(stderr: str) -> str:
    """The exception line of the last Python traceback the guest printed."""
    m = re.search(r"^object type name: (\S+)", stderr, re.M)
    if m:  # CPython could not format the traceback (typically MemoryError)
        return m.group(1)
    pos = stderr.rfind("Traceback (most recent call last):")
    if pos < 0:
        return ""
    for line in stderr[pos:].splitlines()[1:]:
        if line.strip() and not line.startswith((" ", "\t")):
            return line.strip()
    return ""


MEMORY_SIGNS = ("MemoryError", "memory allocation of", "out of memory",
                "Cannot allocate memory", "exceeds memory limits",
                "memory minimum size")


def fault(call: str, exc: BaseException, stderr: str, deadline: float) -> str:
    """A failed step's detail for a trap or an error raised by wasmtime."""
    text = str(exc)
    cause = text.split("Caused by:")[-1].strip().splitlines()[0] if "Caused by:" in text \
        else text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    pyexc = python_exception(stderr)
    if "wasm trap: interrupt" in text:
        return f"deadline exceeded after {deadline:g} s: {call} was interrupted"
    if isinstance(exc, ExitTrap):
        return f"trap: {call} called exit({exc.code})"
    # Only the cause, not the whole backtrace: symbol names must not match.
    if "resource limit exceeded" in text or any(s in cause or s in pyexc for s in MEMORY_SIGNS) \
            or (not pyexc and any(s in stderr for s in MEMORY_SIGNS)):
        what = f"the guest raised {pyexc}" if pyexc else cause
        return (f"memory limit: {call} went past the {LIMITS['memory_size'] // MIB} MiB "
                f"linear-memory cap ({truncate(what, 200)})")
    if pyexc:
        return truncate(f"trap: {call} raised {pyexc} ({cause})")
    return truncate(f"trap: {call}: {cause}")


def unwrap(value):
    """(is_ok, payload) of a lifted `result`. wasmtime-py gives a Variant when
    the ok and err payloads share a Python type (result<option<string>, string>),
    otherwise the bare payload; every untagged result here has a string err
    and no string ok (check_exports enforced the signatures)."""
    if isinstance(value, Outcome):
        return value.ok, value.payload
    if isinstance(value, Variant):
        return value.tag == "ok", value.payload
    if isinstance(value, str):
        return False, value
    return True, value


class Host:
    def __init__(self, args, reporter: Reporter) -> None:
        self.args = args
        self.api = args.api
        self.reporter = reporter
        self.deadline = args.deadline_seconds
        self.deadline_ticks = max(1, math.ceil(self.deadline / EPOCH_TICK))
        self.stem = Path(args.component).stem
        config = Config()
        config.wasm_component_model = True
        config.epoch_interruption = True
        self.engine = Engine(config)
        self.ticker = Ticker(self.engine, reporter, self.deadline)
        self.linker = Linker(self.engine)
        self.linker.add_wasip2()
        self.linker.add_wasi_http()
        self.component = None
        self.cwasm = None
        self.cache_note = ""
        self.kcl_settings = self.kcl_rule = None

    # -- one step
    def step(self, name: str, body, guest: bool = True) -> bool:
        """Run body() -> detail as step `name`; the watchdog covers steps
        that run guest code."""
        start = time.monotonic()
        if guest:
            self.ticker.step = (name, start)
        warned = False
        try:
            detail = body()
            ok = True
        except StepWarning as exc:
            detail, ok, warned = str(exc), True, True
        except StepFailed as exc:
            detail, ok = str(exc), False
        finally:
            self.ticker.step = None
        self.reporter.emit(name, ok, (time.monotonic() - start) * 1000, detail, warned=warned)
        return ok

    def instance_with_load(self, call: str) -> Use:
        """A new instance with load() called, as lgc's load_plugin makes one for
        `call`. Traps become StepFailed."""
        u = None
        current = "instantiate"
        try:
            u = self.new_instance()
            current = f"load() (called before {call})"
            u.call("load")
            return u
        except TRAPS as exc:
            raise StepFailed(fault(current, exc, u.stderr.text() if u else "", self.deadline))
        except (TypeError, ValueError) as exc:  # a value wasmtime-py could not lift
            raise StepFailed(truncate(f"{current}: host could not convert a value: {exc}"))

    def new_instance(self):
        return Runner(self) if self.api == "0.1" else Use(self)

    def compiled_01(self) -> str:
        """Where lgc 0.1's runtime keeps this component's compiled code ("-": nowhere).
        An entry is handed to it only when this user owns it and it matches the
        checksum written beside it; anything else is removed and compiled again."""
        if self.args.no_cache:
            return "-"
        if self.cwasm is None:
            directory = Path(self.args.cache_dir) / "wasmtime-22"
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            runtime = hashlib.sha256(Path(self.args.runtime_0_1).read_bytes()).hexdigest()[:16]
            component = hashlib.sha256(Path(self.args.component).read_bytes()).hexdigest()
            self.cwasm = directory / f"{component}-{runtime}.cwasm"
            checksum = self.cwasm.with_suffix(".sha256")
            if self.cwasm.exists():
                trusted = self.cwasm.stat().st_uid == os.geteuid() and checksum.exists() \
                    and checksum.read_text() == hashlib.sha256(self.cwasm.read_bytes()).hexdigest()
                if trusted:
                    touch(self.cwasm)
                else:
                    self.cwasm.unlink()
                    checksum.unlink(missing_ok=True)
                    self.cache_note = "the cache entry did not match its checksum: compiled again"
        return str(self.cwasm)

    def cached_01(self, runner: "Runner") -> None:
        """Vouches for what the runtime just wrote: its checksum beside it."""
        if self.cwasm is not None and not runner.cached and self.cwasm.exists():
            self.cwasm.with_suffix(".sha256").write_text(hashlib.sha256(self.cwasm.read_bytes()).hexdigest())

    def use(self, call: str, op):
        """Fresh instance, load(), then op(use) -> detail. Traps become StepFailed."""
        u = self.instance_with_load(call)
        try:
            return op(u)
        except StepFailed:
            raise
        except TRAPS as exc:
            raise StepFailed(fault(call, exc, u.stderr.text(), self.deadline))
        except (TypeError, ValueError) as exc:  # a value wasmtime-py could not lift
            raise StepFailed(truncate(f"{call}: host could not convert a value: {exc}"))
        finally:
            if isinstance(u, Runner):
                u.close()

    # -- the run
    def run(self) -> None:
        self.ticker.start()
        data = Path(self.args.component).read_bytes()
        cache = None if self.args.no_cache else self.args.cache_dir

        first = {}

        def do_compile_01():
            kind = wasm_kind(data)
            if kind != "component":
                raise StepFailed(f"not a component: the file is {kind}")
            try:
                first["use"] = Runner(self)
            except RunnerTrap as exc:
                if exc.stage != "instantiate":
                    raise StepFailed(compile_failure_01(str(exc)))
                first["failed"] = exc
            runner = first.get("use")
            if runner is not None and runner.cached:
                return "lgc 0.1's runtime (wasmtime 22): cached (lgc 0.1 caches compiled code too)"
            seconds = getattr(runner, "compile_seconds", None) or 0.0
            return f"lgc 0.1's runtime (wasmtime 22) compiled it in {seconds:.2f} s" + (
                f" ({self.cache_note})" if self.cache_note else "")

        def do_instantiate_01():
            if "failed" in first:
                raise StepFailed(instantiate_failure(str(first.pop("failed")), self.api))
            return (f"lgc 0.1's pooling allocator: linear memory <= 50 MiB each, <= 20 "
                    f"memories, <= 20 tables of <= 20000 elements, <= 200 core instances; "
                    f"deadline {self.deadline:g} s from load")

        def do_compile():
            self.component, detail, seconds = compile_component(self.engine, data, cache)
            # lgc sets a Store's deadline before it compiles the component, so a cold
            # compile (the first command after installing a plugin) eats into it.
            if seconds is not None and seconds > self.deadline * COMPILE_WARN_SHARE:
                raise StepWarning(f"{detail}: a cold compile takes {seconds:.1f} s of lgc's "
                                  f"{self.deadline:g} s deadline (more than "
                                  f"{COMPILE_WARN_SHARE:.0%}); on a slower or busier machine "
                                  f"lgc's first command after installing it can time out")
            return detail
        if not self.step("compile", do_compile_01 if self.api == "0.1" else do_compile, guest=False):
            return

        def do_instantiate():
            check_exports(self.component, self.engine, self.api)
            try:
                first["use"] = Use(self)
            except TRAPS as exc:
                raise StepFailed(instantiate_failure(str(exc), self.api))
            return (f"linear memory <= {LIMITS['memory_size'] // MIB} MiB each, "
                    f"<= {LIMITS['memories']} memories, <= {LIMITS['tables']} tables of "
                    f"<= {LIMITS['table_elements']} elements, <= {LIMITS['instances']} core "
                    f"instances; deadline {self.deadline:g} s")
        if not self.step("instantiate", do_instantiate_01 if self.api == "0.1" else do_instantiate):
            return

        self.step("load()", lambda: self.check_load(first.pop("use")))
        self.step("settings()", self.check_settings)
        self.step("schema()", self.check_schema)
        if not self.args.samples:
            # A bare component: what it is called with depends on the plugin.
            for name in SAMPLED_STEPS if self.api == "1" else ("lgc validate (KCL)", *SAMPLED_STEPS[1:]):
                self.reporter.emit(name, False, 0.0, "no sample settings: pass --config FILE --detection FILE", skipped=True)
            return
        if self.api == "1":
            self.step("validate()", self.check_validate)
        else:
            self.step("lgc validate (KCL)", self.check_validate_01, guest=False)
        if not self.step("test SIEM", self.start_siem, guest=False):
            return
        self.run_commands()

    def run_commands(self) -> None:
        """ping, plan, apply, plan, apply (changed rule), destroy, plan: the calls lgc
        makes, with lgc's values, on one instance as one lgc command uses one; the
        plan after apply runs in a fresh instance, as a new lgc process would."""
        rule, changed = self.args.rule, self.args.changed_rule
        last = rule if changed is None else changed
        session = {}

        def instance():
            if "use" not in session:
                session["use"] = self.instance_with_load("the command's calls")
            return session["use"]

        def ping():
            ok, value = unwrap(self.call(instance(), "ping", "ping()", self.config()))
            if not ok:
                raise StepFailed(truncate(f"ping() returned err: {value}"))
            if value is not True:
                raise StepFailed(f"ping() returned ok(false) for {self.service()}: " + PING_FALSE)
            if not isinstance(self.args.config, dict) or not isinstance(self.args.config.get("url"), str):
                return f"ok(true) from {self.service()}"
            # lgc ping reports anything but an error as success: a dead service must be one.
            dead = closed_port_url()
            ok, value = unwrap(self.call(instance(), "ping", "ping()", self.config(url=dead)))
            if ok and value is not True:
                raise StepFailed(f"ping() returned ok(false) for a service that does not answer ({dead}): " + PING_FALSE)
            if ok:
                raise StepFailed(f"ping() returned ok(true) for a service that does not answer ({dead})")
            return truncate(f"ok(true) from {self.service()}; err for a dead one ({value})")

        def plan_fresh():
            found = self.read(instance(), rule)
            if found is not None:
                raise StepFailed(truncate(
                    f"read() returned a rule the SIEM does not hold ({show(found)}): lgc plan "
                    f"shows \"will be updated\" instead of \"will be created\"; return none "
                    f"when the service does not have the rule"))
            return "none: lgc plan shows \"will be created\""

        def apply_create():
            self.ok_or_fail(self.call(instance(), "create", "create()", self.config(), *self.rule_args(rule)), "create()")
            return "ok"

        def plan_after_apply():
            fresh = self.instance_with_load("read(), in a new lgc process")
            found = self.read(fresh, rule)
            if found is None:
                raise StepFailed("read() in a new instance does not find the rule create() "
                                 "deployed: lgc runs each command in a new instance, so a rule "
                                 "kept in the plugin's memory is lost; store it on the service")
            return self.in_sync(found, rule)

        def apply_update():
            found = self.read(instance(), changed)
            if found is None:
                raise StepFailed("read() of the changed rule found nothing, so lgc apply "
                                 "would create it again instead of updating it")
            if found == self.desired(changed):
                raise StepFailed("read() returned the changed rule before update() ran: it "
                                 "does not reflect what the service holds")
            self.ok_or_fail(self.call(instance(), "update", "update()", self.config(), *self.rule_args(changed)), "update()")
            return "updated; " + self.in_sync(self.read(instance(), changed), changed)

        def destroy():
            # lgc destroy reads each rule of its state (what apply stored: the rule
            # file) and hands delete() read()'s answer (lgc 1.1.1) or the state's
            # rule (lgc 0.1).
            found = self.read(instance(), last)
            if found is None:
                raise StepFailed("read() finds nothing to destroy: lgc destroy would remove nothing")
            handed = self.rule_args(last) if self.api == "0.1" else self.rule_args(found, raw=True)
            ok, err = unwrap(self.call(instance(), "delete", "delete()", self.config(), *handed))
            if not ok and self.api == "0.1":
                raise StepFailed(truncate(f"delete() returned err ({err}): lgc 0.1 destroy stops there"))
            if not ok:
                raise StepFailed(truncate(
                    f"delete() rejected what read() returned ({err}): lgc destroy passes "
                    f"read()'s output to delete(), logs the error and exits 0, removing nothing"))
            after = self.read(instance(), last)
            if after is not None:
                raise StepFailed(truncate(f"after delete() read() still finds the rule "
                                          f"({show(after)}): lgc destroy removes nothing"))
            if self.api == "0.1" and err is None:
                raise StepWarning("deleted, but delete() returned none: lgc 0.1 destroy prints "
                                  "\"not found - ignoring\" for a rule it just deleted; return a "
                                  "value (e.g. the rule's name) when the rule was deleted")
            return f"deleted {'the applied rule' if self.api == '0.1' else 'what read() returned'}; read() finds nothing after it"

        for name, body in (("ping()", ping),
                           ("plan: read() before apply", plan_fresh),
                           ("apply: create()", apply_create),
                           ("plan after apply: read()", plan_after_apply),
                           ("apply changed rule: read(), update()", apply_update),
                           ("destroy: read(), delete()", destroy)):
            if body is apply_update and changed is None:
                self.reporter.emit(name, False, 0.0, "no changed detection: pass --changed-detection FILE", skipped=True)
                continue
            if not self.step(name, lambda body=body: self.guard(body)):
                return

    # -- calls
    def guard(self, body):
        try:
            return body()
        except (TypeError, ValueError) as exc:  # a value wasmtime-py could not lift
            raise StepFailed(truncate(f"host could not convert a value: {exc}"))

    def call(self, u: Use, op: str, call: str, *args):
        """One call on an instance; a trap becomes StepFailed naming the call."""
        try:
            return u.call(op, *args)
        except TRAPS as exc:
            raise StepFailed(fault(call, exc, u.stderr.text(), self.deadline))

    def ok_or_fail(self, value, call: str) -> None:
        ok, err = unwrap(value)
        if not ok:
            raise StepFailed(truncate(f"{call} returned err: {err}"))

    def config(self, **changes):
        """The service settings as lgc passes them (API 1 bytes, 0.1 a string)."""
        text = compact({**self.args.config, **changes} if changes else self.args.config)
        return text.encode("utf-8") if self.api == "1" else text

    def service(self) -> str:
        """The service the calls go to, in words."""
        config = self.args.config
        return config.get("url", "the configured service") if isinstance(config, dict) else "?"

    def rule_args(self, rule, raw: bool = False):
        """A rule as lgc passes it: API 1 the rule file's JSON; API 0.1 its name
        and parameters. `raw`: a ReadResult, passed back exactly as read() gave it."""
        if raw:
            return (rule.raw,) if self.api == "1" else (rule.name, rule.raw)
        if self.api == "1":
            return (compact(rule).encode("utf-8"),)
        name, params = rule
        return (name, compact(params))

    def desired(self, rule):
        return rule if self.api == "1" else rule[1]

    def read(self, u: Use, rule):
        """read()'s answer: None, or the parsed JSON (raw kept for rule_args)."""
        ok, payload = unwrap(self.call(u, "read", "read()", self.config(), *self.rule_args(rule)))
        if not ok:
            raise StepFailed(truncate(f"read() returned err: {payload}"))
        if payload is None:
            return None
        parsed = self.json_result("read()", payload)
        return ReadResult(parsed, payload, rule[0] if self.api == "0.1" else None)

    def in_sync(self, found, rule) -> str:
        want = self.desired(rule)
        if found != want:
            raise StepFailed(truncate(
                f"read() returned {compact(found.value)} for the rule file {compact(want)}: "
                f"lgc plan compares the two and would show \"will be updated\" forever; return "
                f"the rule in the rule file's shape, without what the service adds", 600))
        return "read() matches the rule file: lgc plan shows no changes"

    # -- the test SIEM
    def start_siem(self) -> str:
        if not self.args.siem:
            return f"none started: calls go to the service in --config ({self.service()})"
        token = self.args.config.get("token") if isinstance(self.args.config, dict) else None
        command = [sys.executable, self.args.siem, "--port", "0"]
        if isinstance(token, str) and token:
            command += ["--token", token]
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL, text=True, start_new_session=True)
        CHILDREN.append(proc)
        line = proc.stdout.readline()
        found = re.search(r"https?://\S+", line)
        if not found:
            raise StepFailed(truncate(f"{self.args.siem} did not say where it listens "
                                      f"(first line: {line!r}, exit {proc.poll()})"))
        self.args.config["url"] = found.group(0)
        return f"{Path(self.args.siem).name} listening on {found.group(0)}; config url set to it"

    # -- checks
    def check_load(self, u: Use) -> str:
        def op(u):
            meta = u.call("load")
            fields = ["name", "version"] + (["author", "description"] if self.api == "0.1" else [])
            values = {f: getattr(meta, f, None) for f in fields}
            problems = []
            for f, v in values.items():
                if not isinstance(v, str):
                    problems.append(f"load() {f} is not a string")
            name, version = values["name"], values["version"]
            if self.api == "0.1":
                # lgc 0.1 installs the file as .logcraft/plugins/<name> and finds rule
                # files' rules.<name> by it; it checks nothing else.
                if isinstance(name, str) and (not name or "/" in name or name in (".", "..")):
                    problems.append(f"load() name {name!r} cannot be a file name: lgc plugins "
                                    f"install copies the plugin to .logcraft/plugins/<name>")
                elif isinstance(name, str) and self.args.samples and self.args.rules_keys \
                        and name not in self.args.rules_keys:
                    problems.append(f"load() name {name!r} is not a key of the sample detection's "
                                    f"rules ({', '.join(map(repr, self.args.rules_keys)) or 'none'}): "
                                    f"lgc 0.1 hands a plugin the rules under its name")
            elif isinstance(name, str):
                if not KEBAB.fullmatch(name):
                    problems.append(f"load() name {name!r} is not kebab-case "
                                    f"(^[a-z0-9]+(-[a-z0-9]+)*$)")
                elif name != self.stem:
                    problems.append(f"load() name {name!r} differs from the file stem "
                                    f"{self.stem!r} (lgc names a plugin after its file)")
            if self.api == "1" and isinstance(version, str) and not SEMVER.fullmatch(version):
                problems.append(f"load() version {version!r} is not semver (MAJOR.MINOR.PATCH)")
            if problems:
                raise StepFailed(truncate("; ".join(problems)))
            return truncate(" ".join(f"{f}={v!r}" for f, v in values.items()))
        try:
            return op(u)
        except TRAPS as exc:
            raise StepFailed(fault("load()", exc, u.stderr.text(), self.deadline))

    def json_result(self, call: str, raw) -> object:
        if isinstance(raw, (bytes, bytearray)):
            try:
                raw = bytes(raw).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise StepFailed(truncate(f"{call} returned invalid JSON: not UTF-8 ({exc})"))
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise StepFailed(truncate(f"{call} returned invalid JSON: {exc}: {raw!r}"))

    def schema_text(self, call: str, op: str):
        def run(u):
            value = u.call(op)
            if self.api == "1":
                ok, value = unwrap(value)
                if not ok:
                    raise StepFailed(truncate(f"{call} returned err: {value}"))
            return value
        raw = self.use(call, run)
        return raw, self.json_result(call, raw)

    def check_settings(self) -> str:
        if self.api == "0.1":
            self.kcl_settings = self.use("settings()", lambda u: u.call("settings"))
            return lgc_services_add(self.kcl_settings)
        raw, doc = self.schema_text("settings()", "settings")
        return lgc_services_create(doc)

    def check_schema(self) -> str:
        if self.api == "0.1":
            self.kcl_rule = self.use("schema()", lambda u: u.call("schema"))
            attributes = kcl_schema(self.kcl_rule, "Rule", "schema()", "lgc validate")
            return truncate(f"KCL schema Rule: {', '.join(attributes)}")
        raw, doc = self.schema_text("schema()", "schema")
        if not isinstance(doc, dict):
            raise StepFailed(f"schema() is not a JSON Schema object (got {type(doc).__name__})")
        if doc.get("type", "object") != "object" or \
                ("type" not in doc and "properties" not in doc):
            raise StepFailed(truncate(f"schema() is not an object schema (type {doc.get('type')!r})"))
        return truncate(show(raw))

    def check_validate_01(self) -> str:
        """lgc 0.1 validate: kclvm checks each service's settings against settings()'s
        Configuration and each rule file's parameters against schema()'s Rule."""
        if self.kcl_settings is None or self.kcl_rule is None:
            raise StepFailed("needs the KCL of settings() and schema(), which failed above")
        checks = [("the sample settings", self.kcl_settings, "Configuration", self.args.config),
                  ("the sample detection", self.kcl_rule, "Rule", self.args.rule[1])]
        if self.args.changed_rule is not None:
            checks.append(("the changed detection", self.kcl_rule, "Rule", self.args.changed_rule[1]))
        for what, code, schema, data in checks:
            problem = kcl_problem(code, schema, data)
            if problem:
                raise StepFailed(truncate(f"lgc validate refuses {what} ({schema}): {problem}", 600))
        try:
            broken = json.loads(self.args.broken_bytes)
        except ValueError:
            broken = None
        if isinstance(broken, dict) and kcl_problem(self.kcl_rule, "Rule", broken) is None:
            raise StepFailed("lgc validate accepts the broken detection: schema()'s Rule lets it through")
        return "kclvm passes the sample settings and detections and refuses the broken one"

    def check_validate(self) -> str:
        """lgc validate: one instance validates every rule file."""
        def op(u):
            samples = [("the sample detection", *self.rule_args(self.args.rule))]
            if self.args.changed_rule is not None:
                samples.append(("the changed detection", *self.rule_args(self.args.changed_rule)))
            for name, detection in samples:
                ok, err = unwrap(self.call(u, "validate", "validate()", detection))
                if not ok:
                    raise StepFailed(truncate(f"validate() rejected {name}: {err}"))
            ok, err = unwrap(self.call(u, "validate", "validate()", self.args.broken_bytes))
            if ok:
                raise StepFailed("validate() accepted the broken detection")
            return truncate(f"both samples accepted; the broken one refused: {err}")
        return self.use("validate()", op)


class ReadResult:
    """What read() returned: compares by its JSON, passes back its raw value."""

    def __init__(self, value, raw, name=None) -> None:
        self.value, self.raw, self.name = value, raw, name

    def __eq__(self, other) -> bool:
        return self.value == (other.value if isinstance(other, ReadResult) else other)

    def __str__(self) -> str:
        return compact(self.value)


# ---------------------------------------------------------------- lgc services create

def lgc_services_create(doc) -> str:
    """What `lgc services create` does with settings() (lgc 1.1.1, Service::configure):
    it reads each property (type, default, description, format, and enums through
    allOf/$ref into #/definitions), takes the default (or the type's zero value when
    asked not to configure now) and validates {key: value} ALONE against the whole
    schema, asking again until it passes: a value that cannot pass loops forever."""
    if not isinstance(doc, dict):
        raise StepFailed(f"settings() is not a JSON Schema object (got {type(doc).__name__})")
    cls = validator_for(doc, default=Draft202012Validator)
    try:
        cls.check_schema(doc)
    except SchemaError as exc:
        raise StepFailed(truncate(f"settings(): lgc refuses the schema (jsonschema): {exc.message}"))
    # lgc's jsonschema crate checks formats by default for drafts 4, 6 and 7 only.
    checker = cls.FORMAT_CHECKER if cls in (Draft4Validator, Draft6Validator, Draft7Validator) else None
    validator = cls(doc, format_checker=checker)
    props = doc.get("properties")
    if not isinstance(props, dict):
        raise StepFailed("settings() JSON Schema has no 'properties' object: lgc configures nothing")
    definitions = doc.get("definitions")
    problems, notes, taken = [], [], []
    for key in sorted(props):
        prop = props[key]
        if not isinstance(prop, dict):
            problems.append(f"{key}: lgc cannot read a property that is not an object")
            continue
        wrong = [field for field in ("type", "description", "format")
                 if field in prop and not isinstance(prop[field], str)]
        if wrong or ("allOf" in prop and not isinstance(prop["allOf"], list)):
            problems.append(f"{key}: lgc cannot read it ({', '.join(wrong) or 'allOf'} must be "
                            f"{'a single string' if wrong else 'a list'}): services create stops")
            continue
        kind, default, enum = prop.get("type"), prop.get("default"), None
        if "$ref" in prop:
            problems.append(f"{key}: a bare $ref is not followed by lgc, so its type and values "
                            f"are never offered; write allOf: [{{\"$ref\": {json.dumps(prop['$ref'])}}}]")
            continue
        for item in prop.get("allOf") or []:
            ref = item.get("$ref") if isinstance(item, dict) else None
            if not isinstance(ref, str):
                continue
            if not ref.startswith("#/definitions/"):
                problems.append(f"{key}: lgc only follows $ref into #/definitions/ "
                                f"(\"unexpected $ref format: {ref}\")")
                break
            target = definitions.get(ref[len("#/definitions/"):]) if isinstance(definitions, dict) else None
            if not isinstance(target, dict):
                problems.append(f"{key}: lgc finds no definition for {ref}")
                break
            kind = target.get("type") if isinstance(target.get("type"), str) else kind
            enum = target.get("enum") if isinstance(target.get("enum"), list) else enum
            default = target.get("default", default)
        else:
            if kind is None:
                problems.append(f"{key}: no type, so lgc's prompt skips it and never sets it")
                continue
            if enum is not None and kind not in ("string", "integer", "boolean"):
                problems.append(f"{key}: lgc offers enums of string, integer or boolean only, not {kind}")
                continue
            if default is None:
                default = TYPE_DEFAULTS.get(kind)
                notes.append(f"{key} has no default (lgc takes {json.dumps(default)})")
            if default is None:
                continue
            errors = sorted(validator.iter_errors({key: default}), key=lambda e: e.path)
            if errors:
                problems.append(truncate(
                    f"{key}: lgc checks {{{json.dumps(key)}: {json.dumps(default)}}} alone against "
                    f"the whole schema and it fails ({errors[0].message}), so services create asks "
                    f"again forever" + ("; drop the top-level \"required\" list and check required "
                                        "settings when they are used" if errors[0].validator == "required" else ""), 400))
                continue
            taken.append(f"{key}={json.dumps(default)}" + (f" (one of {', '.join(map(json.dumps, enum))})" if enum else ""))
    if problems:
        raise StepFailed(truncate("lgc services create: " + "; ".join(problems), 1200))
    return truncate("lgc services create takes " + ", ".join(taken)
                    + (f"; {'; '.join(notes)}" if notes else ""), 600)


# ---------------------------------------------------------------- lgc 0.1: KCL

ANSI = re.compile(r"\x1b\[[0-9;]*m")
KCL = []  # kclvm's API, made on first use


def kcl_api():
    if not KCL:
        KCL.append(kcl.API())
    return KCL[0]


def kcl_text(message: str) -> str:
    return " ".join(ANSI.sub("", message).split())


def kcl_schema(code, schema: str, call: str, command: str) -> dict:
    """The attributes of `schema` in the KCL `code`, as kclvm (lgc 0.1.x embeds 0.9)
    reads them; StepFailed naming `command` when it cannot."""
    if not isinstance(code, str):
        raise StepFailed(f"{call} returned {type(code).__name__}, not KCL text")
    looks_json = code.lstrip().startswith("{")
    hint = " (this looks like JSON Schema: lgc 0.1 reads KCL, only lgc 1.x reads JSON Schema)" if looks_json else ""
    source = kcl.ExecProgram_Args(k_filename_list=["plugin.k"], k_code_list=[code])
    try:
        kcl_api().exec_program(source)
    except Exception as exc:  # kcl-lib raises a bare Exception with kclvm's message
        raise StepFailed(truncate(f"{call} is KCL that kclvm cannot compile, so {command} fails: {kcl_text(str(exc))}", 600))
    mapping = kcl_api().get_schema_type_mapping(kcl.GetSchemaTypeMapping_Args(exec_args=source, schema_name=schema))
    found = mapping.schema_type_mapping.get(schema)
    if found is None:
        raise StepFailed(truncate(f"{call} defines no `schema {schema}`, so {command} fails "
                                  f"(kclvm: name '{schema}' is not defined){hint}", 600))
    return dict(sorted(found.properties.items()))  # kcl-lib's order varies from run to run


def kcl_problem(code: str, schema: str, data) -> str | None:
    """kclvm's complaint about `data` against `schema`, None when it passes."""
    result = kcl_api().validate_code(kcl.ValidateCode_Args(code=code, data=json.dumps(data), schema=schema, format="json"))
    return None if result.success else kcl_text(result.err_message)


def kcl_default(attribute):
    """The value lgc 0.1 stores for an attribute it is not asked about (its `defaut`)."""
    text, kind = attribute.default, attribute.type
    if kind == "str":
        return text.strip("\"'")
    if kind == "bool":
        return text in ("True", "true")
    if kind in ("int", "float"):
        try:
            return int(text) if kind == "int" else float(text)
        except ValueError:
            return 0 if kind == "int" else 0.0
    try:
        return json.loads(text)
    except ValueError:
        return [] if kind == "list" else {} if kind == "dict" else None


def lgc_services_add(code) -> str:
    """What `lgc services add <id> -p <plugin>` does with settings() (lgc 0.1.3,
    Service::configure without --configure): it reads `schema Configuration`'s
    attributes with kclvm, takes each one's default (warning for one without, then
    taking the type's zero value), and validates the settings against Configuration:
    when kclvm refuses them, the command fails and no service is added."""
    attributes = kcl_schema(code, "Configuration", "settings()", "lgc services add")
    settings, notes = {}, []
    for name, attribute in attributes.items():
        settings[name] = kcl_default(attribute)
        if not attribute.default:
            notes.append(f"{name} has no default (lgc warns, takes {json.dumps(settings[name])})")
    problem = kcl_problem(code, "Configuration", settings)
    if problem:
        raise StepFailed(truncate(f"lgc services add takes the defaults {compact(settings)} and "
                                  f"kclvm refuses them, so no service can be added: {problem}", 600))
    return truncate("lgc services add takes " + ", ".join(f"{k}={json.dumps(v)}" for k, v in settings.items())
                    + (f"; {'; '.join(notes)}" if notes else ""), 600)


# ---------------------------------------------------------------- command line

def load_json(path: str, what: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} {path}: {exc}")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{what} {path} is not JSON: {exc}")


def compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def parse_args(argv):
    default_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lgc-host"
    p = argparse.ArgumentParser(
        prog="lgc_host.py",
        description="Run a LogCraft lgc plugin component the way lgc does; "
                    "one JSON line per step on stdout.")
    p.add_argument("component", help="plugin component (.wasm); its stem is the plugin name")
    p.add_argument("--api", required=True, choices=["1", "0.1"],
                   help="plugin API: 1 (lgc 1.0-1.1.1) or 0.1 (lgc 0.1.x)")
    p.add_argument("--config", help="service settings (JSON file); without it and "
                   "--detection, the steps that need them are reported skipped")
    p.add_argument("--detection", help="sample detection rule (JSON file)")
    p.add_argument("--changed-detection", help="the sample detection changed, as an "
                   "author edits a rule file (JSON file): lgc apply updates it")
    p.add_argument("--broken-detection", help="detection validate() must reject "
                   "(file passed as is; default: bytes that are not JSON)")
    p.add_argument("--siem", help="a test SIEM (Python script taking --port 0 --token T and "
                   "printing its URL first): started for the run, the config's url set to it")
    p.add_argument("--runtime-0-1", help="lgc 0.1's runtime (hosts/lgc/runtime-0.1, built with "
                   "cargo): API 0.1 plugins run in it, as in lgc 0.1.x")
    p.add_argument("--deadline-seconds", type=float, default=DEFAULT_DEADLINE,
                   help="epoch deadline per Store (default 60)")
    p.add_argument("--cache-dir", default=str(default_cache),
                   help=f"compiled-code cache (default {default_cache})")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    args = p.parse_args(argv)
    if not (args.deadline_seconds > 0 and math.isfinite(args.deadline_seconds)):
        raise UsageError("--deadline-seconds must be a positive number")
    if not Path(args.component).is_file():
        raise UsageError(f"no such component file: {args.component}")
    if args.api == "0.1" and not (args.runtime_0_1 and os.access(args.runtime_0_1, os.X_OK)):
        raise UsageError("--api 0.1 needs --runtime-0-1 BINARY: lgc 0.1's runtime, built from "
                         "hosts/lgc/runtime-0.1 with cargo build --release")
    if (args.config is None) != (args.detection is None):
        raise UsageError("--config and --detection go together")
    args.samples = args.config is not None
    if not args.samples:
        return args
    if args.siem and not Path(args.siem).is_file():
        raise UsageError(f"no such test SIEM script: {args.siem}")
    config = load_json(args.config, "config")
    detection = load_json(args.detection, "detection")
    changed = load_json(args.changed_detection, "changed detection") if args.changed_detection else None
    args.config = config
    if args.broken_detection:
        try:
            args.broken_bytes = Path(args.broken_detection).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read broken detection {args.broken_detection}: {exc}")
    else:
        args.broken_bytes = DEFAULT_BROKEN
    if args.api == "1":
        args.rule, args.changed_rule = detection, changed
        return args
    # lgc 0.1: a detection is {name, rules: {<plugin>: params}}; create/read/update/
    # delete get (config, name, JSON of rules[<plugin>]).
    stem = Path(args.component).stem
    rules = detection.get("rules") if isinstance(detection, dict) else None
    args.rules_keys = list(rules) if isinstance(rules, dict) else []
    args.rule = rule_01(detection, stem, "detection")
    args.changed_rule = rule_01(changed, stem, "changed detection") if changed is not None else None
    return args


def rule_01(detection, stem: str, what: str):
    """(name, params) of an lgc 0.1 detection."""
    if not isinstance(detection, dict) or not isinstance(detection.get("name"), str):
        raise UsageError(f"with --api 0.1 the {what} must be an object with a string 'name'")
    rules = detection.get("rules")
    if isinstance(rules, dict) and stem in rules:
        return detection["name"], rules[stem]
    # a bare rule: everything but the name
    return detection["name"], {k: v for k, v in detection.items() if k not in ("name", "rules")}


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"lgc_host: {exc}", file=sys.stderr)
        return 2
    reporter = Reporter()
    Host(args, reporter).run()
    reporter.close()
    return 1 if reporter.failed else 0


if __name__ == "__main__":
    code = main()
    stop_children()
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: wasmtime's runtime threads can panic while
    # Python unloads, which would print noise after the last JSON line.
    os._exit(code)
