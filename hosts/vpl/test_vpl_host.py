"""Self-test of the reference VPlugin host: real shared objects built with cc,
packages built with zipfile (some forged byte by byte), the host run as a
subprocess the way the TypeScript verifier runs it.

Run: python3 -m pytest -p no:cacheprovider hosts/vpl
"""
import io
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

HOST = Path(__file__).with_name("vpl_host.py")
STEP_NAMES = ["open archive", "check entries", "extract", "read metadata",
              "find object", "load object", "entry point", "destructor", "vplugin crate"]
MIB = 1024 * 1024

C_SOURCES = {
    # Starts, and proves its destructor ran by writing the file named in an env var.
    "good": r"""
        #include <stdio.h>
        #include <stdlib.h>
        int vplugin_init(void) { puts("plugin says hello on stdout"); return 0; }
        void vplugin_exit(void) {
            const char *path = getenv("VPL_TEST_MARKER");
            FILE *f = path ? fopen(path, "w") : NULL;
            if (f) { fputs("vplugin_exit called", f); fclose(f); }
        }
    """,
    "fails": "int vplugin_init(void) { return 3; }",
    "crashes": """
        #include <signal.h>
        int vplugin_init(void) { raise(SIGSEGV); return 0; }
    """,
    "hangs": """
        #include <unistd.h>
        int vplugin_init(void) { for (;;) pause(); }
    """,
    "no_destructor": "int vplugin_init(void) { return 0; }",
    # A custom entry point, with and without the spec's default one beside it.
    "custom_only": "int greet_start(void) { return 0; } void vplugin_exit(void) {}",
    "custom_and_default": """
        int greet_start(void) { return 0; }
        int vplugin_init(void) { return greet_start(); }
        void vplugin_exit(void) {}
    """,
    # Links (no -z defs) but cannot be loaded with RTLD_NOW.
    "unresolved": """
        extern int vpl_test_missing_symbol(void);
        int vplugin_init(void) { return vpl_test_missing_symbol(); }
    """,
}


@pytest.fixture(scope="module")
def objs(tmp_path_factory) -> dict[str, bytes]:
    """Each C source built as a shared object, plus one as a plain .o."""
    build = tmp_path_factory.mktemp("build")
    built = {}
    for name, source in C_SOURCES.items():
        (build / f"{name}.c").write_text(source)
        subprocess.run(["cc", "-shared", "-fPIC", "-o", build / f"{name}.so",
                        build / f"{name}.c"], check=True)
        built[name] = (build / f"{name}.so").read_bytes()
    subprocess.run(["cc", "-c", "-fPIC", "-o", build / "good.o", build / "good.c"],
                   check=True)
    built["relocatable"] = (build / "good.o").read_bytes()
    return built


# -- building packages --------------------------------------------------------

def metadata_toml(**values: str | None) -> str:
    """A metadata.toml; each keyword is a raw TOML value, None drops the key."""
    fields = {"name": '"demo"', "version": '"1.2.3"', "objfile": '"plugin.so"',
              "description": '"A demo plugin"'} | values
    return "[metadata]\n" + "".join(
        f"{key} = {value}\n" for key, value in fields.items() if value is not None)


def zip_bytes(entries, compression=zipfile.ZIP_STORED) -> bytes:
    """entries: (name or ZipInfo, data) pairs, written in order, duplicates kept."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for name, data in entries:
                archive.writestr(name, data)
    return buffer.getvalue()


def package(objs, obj="good", meta=None, extra=(), compression=zipfile.ZIP_STORED):
    entries = [("metadata.toml", meta if meta is not None else metadata_toml()),
               ("plugin.so", objs[obj]), *extra]
    return zip_bytes(entries, compression)


def typed_entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


# Offsets of (format, local header, central header) fields in a ZIP.
HEADER_FIELDS = {"flags": ("<H", 6, 8), "crc": ("<I", 14, 16),
                 "file_size": ("<I", 22, 24), "name_len": ("<H", 26, 28),
                 "extra_len": ("<H", 28, 30)}


def forge(data: bytes, name: str, **values: int) -> bytes:
    """Rewrite fields of one entry in both its local and central headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local, central = archive.getinfo(name).header_offset, archive.start_dir
    while out[central:central + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<3H", out, central + 28)
        if out[central + 46:central + 46 + name_len].decode() == name:
            for field, value in values.items():
                fmt, local_at, central_at = HEADER_FIELDS[field]
                struct.pack_into(fmt, out, local + local_at, value)
                struct.pack_into(fmt, out, central + central_at, value)
        central += 46 + name_len + extra_len + comment_len
    return bytes(out)


# -- running the host ---------------------------------------------------------

@dataclass
class Result:
    code: int
    steps: list[dict]
    stderr: str

    def step(self, name: str) -> dict:
        return next(s for s in self.steps if s["name"] == name)


class Host:
    """Runs the host on package bytes in a sandbox (its own TMPDIR and cwd),
    checking the output format and that the sandbox stays empty."""

    def __init__(self, tmp_path: Path):
        self.package = tmp_path / "package.vpl"
        self.tmp, self.cwd = tmp_path / "host-tmp", tmp_path / "cwd"
        self.tmp.mkdir()
        self.cwd.mkdir()
        self.env = dict(os.environ, TMPDIR=str(self.tmp),
                        VPL_TEST_MARKER=str(tmp_path / "marker"))

    def start(self, data: bytes, *args: str) -> subprocess.Popen:
        self.package.write_bytes(data)
        return subprocess.Popen([sys.executable, HOST, self.package, *args],
                                cwd=self.cwd, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def __call__(self, data: bytes, *args: str) -> Result:
        with self.start(data, *args) as proc:
            stdout, stderr = proc.communicate(timeout=30)
        steps = [json.loads(line) for line in stdout.splitlines()]
        for step in steps:
            assert list(step) in (["name", "ok", "ms", "detail"], ["name", "ok", "ms", "detail", "status"])
            assert step.get("status", "warned") == "warned" and (step["ok"] or "status" not in step)
            assert isinstance(step["ok"], bool) and isinstance(step["ms"], float)
            assert isinstance(step["detail"], str)
        assert [s["name"] for s in steps] == STEP_NAMES[:len(steps)]
        assert all(s["ok"] for s in steps[:-1]), "a failed step must end the run"
        self.assert_clean()
        return Result(proc.returncode, steps, stderr)

    def assert_clean(self) -> None:
        assert list(self.tmp.iterdir()) == [], "temporary directory left behind"
        assert list(self.cwd.iterdir()) == [], "host wrote into its working directory"


@pytest.fixture
def host(tmp_path) -> Host:
    return Host(tmp_path)


def assert_fails(result: Result, step: str, *texts: str) -> None:
    assert result.code == 1, result
    last = result.steps[-1]
    assert (last["name"], last["ok"]) == (step, False), result.steps
    for text in texts:
        assert text in last["detail"]


# -- a good package -----------------------------------------------------------

def test_good_package_passes_every_step(host, objs, tmp_path):
    result = host(package(objs))
    assert result.code == 0, result
    assert [s["name"] for s in result.steps] == STEP_NAMES
    assert all(s["ok"] for s in result.steps)
    assert result.step("read metadata")["detail"] == \
        "demo 1.2.3 (objfile plugin.so): A demo plugin"
    assert result.step("entry point")["detail"] == \
        "vplugin_init returned 0: the plugin started"
    assert result.step("destructor")["detail"] == "called vplugin_exit"
    assert (tmp_path / "marker").read_text() == "vplugin_exit called"
    extracted_into = result.step("extract")["detail"].rsplit(" into ", 1)[1]
    assert extracted_into.startswith(str(tmp_path / "host-tmp"))
    assert not os.path.exists(extracted_into)
    # What the plugin prints goes to stderr, never into the JSON lines.
    assert "plugin says hello" in result.stderr


def test_destructor_is_optional(host, objs, tmp_path):
    result = host(package(objs, obj="no_destructor"))
    assert result.code == 0, result
    assert result.step("destructor") | {"ms": 0} == {
        "name": "destructor", "ok": True, "ms": 0, "detail": "no vplugin_exit (optional)"}
    assert not (tmp_path / "marker").exists()
    # The spec allows it; the vplugin crate's terminate() fails without it.
    crate = result.step("vplugin crate")
    assert crate["status"] == "warned" and crate["ok"] is True
    assert crate["detail"].startswith("no vplugin_exit: the crate's terminate() returns an error without it")


# -- what the vplugin crate does with a package -------------------------------

def test_a_good_package_passes_and_hears_what_the_crate_does(host, objs):
    crate = host(package(objs)).step("vplugin crate")
    assert "status" not in crate and crate["ok"] is True
    assert crate["detail"].startswith(
        "the vplugin crate extracts the package into the host's working directory, copies "
        "plugin.so to $TMPDIR/vplugin/demo/plugin.so (keyed by name: another version of demo "
        "overwrites it), never reads description")


def test_a_custom_entry_without_the_default_one_warns(host, objs):
    crate = host(package(objs, obj="custom_only"), "--entry", "greet_start").step("vplugin crate")
    assert crate["status"] == "warned"
    assert crate["detail"].startswith(
        "no vplugin_init: a vplugin PluginManager calls one entry point for every plugin "
        "(vplugin_init unless the host sets another); export vplugin_init too, calling greet_start")


def test_a_custom_entry_with_the_default_one_beside_it_passes(host, objs):
    result = host(package(objs, obj="custom_and_default"), "--entry", "greet_start")
    assert result.code == 0, result
    assert "status" not in result.step("vplugin crate")


def test_extra_files_would_land_in_the_host_s_working_directory(host, objs):
    crate = host(package(objs, extra=[("docs/README", b"hi")])).step("vplugin crate")
    assert crate["status"] == "warned"
    assert crate["detail"].startswith("it extracts docs/README into the host's working directory too")


def test_directories_and_unknown_keys_are_reported(host, objs):
    meta = metadata_toml(author='"me"') + "[extra]\nkey = 1\n"
    result = host(package(objs, meta=meta, extra=[("docs/README", b"hi")]))
    assert result.code == 0, result
    assert "directories" in result.step("check entries")["detail"]
    assert "docs/" in result.step("check entries")["detail"]
    assert result.step("read metadata")["detail"].endswith(
        "; ignored keys: metadata.author, extra")


# -- metadata -----------------------------------------------------------------

@pytest.mark.parametrize("values, message", [
    ({"name": '""'}, "name is empty"),
    ({"name": '"   "'}, "name is empty"),
    ({"name": '"my plugin"'}, "name 'my plugin' contains whitespace"),
    ({"objfile": None}, "objfile is missing"),
    ({"name": None, "version": '""'}, "name is missing; version is empty"),
    ({"version": "1"}, "version must be a string, not int"),
    ({"description": "[1]"}, "description must be a string"),
])
def test_bad_metadata_fields(host, objs, values, message):
    assert_fails(host(package(objs, meta=metadata_toml(**values))),
                 "read metadata", message)


def test_metadata_not_utf8(host, objs):
    meta = metadata_toml(description='"caf\xe9"').encode("latin-1")
    assert_fails(host(package(objs, meta=meta)), "read metadata",
                 "metadata.toml is not UTF-8: ")


def test_metadata_invalid_toml(host, objs):
    meta = metadata_toml() + "version = [oops\n"
    assert_fails(host(package(objs, meta=meta)), "read metadata",
                 "not valid TOML", "line 6")


def test_metadata_without_table(host, objs):
    assert_fails(host(package(objs, meta='name = "demo"\n')), "read metadata",
                 "no [metadata] table")


def test_metadata_not_at_root(host, objs):
    data = zip_bytes([("pkg/metadata.toml", metadata_toml()),
                      ("plugin.so", objs["good"])])
    assert_fails(host(data), "read metadata", "missing from the archive root",
                 "found pkg/metadata.toml")


# -- the object file ----------------------------------------------------------

def test_objfile_absent_from_archive(host, objs):
    meta = metadata_toml(objfile='"libother.so"')
    assert_fails(host(package(objs, meta=meta)), "find object",
                 "objfile 'libother.so' is not in the archive root")


def test_objfile_with_a_path(host, objs):
    meta = metadata_toml(objfile='"lib/plugin.so"')
    assert_fails(host(package(objs, meta=meta)), "find object",
                 "must be a plain file name")


def test_object_not_elf(host, objs):
    objs = objs | {"script": b"#!/bin/sh\necho not a library\n"}
    assert_fails(host(package(objs, obj="script")), "find object",
                 "is not an ELF file")


def test_object_not_a_shared_object(host, objs):
    assert_fails(host(package(objs, obj="relocatable")), "find object",
                 "is an ELF relocatable object, not a shared object (ET_DYN)")


def test_object_fails_to_load(host, objs):
    assert_fails(host(package(objs, obj="unresolved")), "load object",
                 "dlopen failed", "vpl_test_missing_symbol")


def test_entry_point_returns_non_zero(host, objs):
    assert_fails(host(package(objs, obj="fails")), "entry point",
                 "vplugin_init returned 3: the plugin failed to start")


def test_plugin_crash_reaches_the_parent(host, objs):
    result = host(package(objs, obj="crashes"))
    assert result.code == -signal.SIGSEGV
    assert result.steps[-1]["name"] == "load object"  # every line got out


def test_killed_while_the_plugin_hangs(host, objs):
    """What the verifier does on its time limit: the files are already gone."""
    with host.start(package(objs, obj="hangs")) as proc:
        watchdog = threading.Timer(30, proc.kill)  # never block the suite
        watchdog.daemon = True
        watchdog.start()
        lines = [proc.stdout.readline() for _ in STEP_NAMES[:6]]
        assert json.loads(lines[-1])["name"] == "load object"
        proc.kill()
        proc.communicate()
    host.assert_clean()


def test_entry_point_missing(host, objs):
    assert_fails(host(package(objs), "--entry", "other_init"), "entry point",
                 "does not export other_init")


# -- hostile archives ---------------------------------------------------------

def test_truncated_archive(host, objs):
    data = package(objs)
    assert_fails(host(data[:len(data) // 2]), "open archive",
                 "not a ZIP archive (truncated or corrupt)")


def test_not_a_zip(host):
    assert_fails(host(b"just text\n"), "open archive", "not a ZIP archive")


def test_encrypted_entry(host, objs):
    data = forge(package(objs), "plugin.so", flags=0x1)
    assert_fails(host(data), "open archive",
                 "encrypted entries are not allowed: 'plugin.so'")


@pytest.mark.parametrize("name, message", [
    ("../evil", "has a '..' path segment"),
    ("docs/../../evil", "has a '..' path segment"),
    ("/tmp/evil", "has an absolute path"),
    ("C:/evil", "has an absolute path"),
    ("\\evil", "has an absolute path"),
    ("docs\\evil", "contains a backslash"),
    ("./evil", "has an empty or '.' path segment"),
])
def test_unsafe_entry_names(host, objs, tmp_path, name, message):
    result = host(package(objs, extra=[(name, b"pwned")]))
    assert_fails(result, "check entries", f"entry {name!r} {message}")
    assert not list(tmp_path.rglob("evil")), "an entry escaped"
    assert not Path("/tmp/evil").exists()


def test_empty_entry_name(host, objs):
    # zipfile cannot write an empty name: turn the 1-byte name "E" into an
    # extra field byte.
    data = package(objs, extra=[("E", b"pwned")])
    assert_fails(host(forge(data, "E", name_len=0, extra_len=1)),
                 "check entries", "entry with an empty name")


@pytest.mark.parametrize("mode, message", [
    (0o120777, "is a symbolic link"),
    (0o010644, "is a FIFO"),
    (0o020644, "is a character device"),
])
def test_special_file_entries(host, objs, mode, message):
    entry = (typed_entry("special", mode), "plugin.so")
    assert_fails(host(package(objs, extra=[entry])), "check entries",
                 f"entry 'special' {message}")


@pytest.mark.parametrize("first, second", [
    ("plugin.so", "plugin.so"),
    ("docs", "docs/"),
    ("caf\u00e9.txt", "cafe\u0301.txt"),  # NFC and NFD spellings of one name
])
def test_duplicate_entries(host, objs, first, second):
    result = host(package(objs, extra=[(first, b"one"), (second, b"")]))
    assert_fails(result, "check entries", f"duplicate entry {second!r}")


def test_file_used_as_directory(host, objs):
    result = host(package(objs, extra=[("docs", b"x"), ("docs/README", b"y")]))
    assert_fails(result, "check entries", "uses the file 'docs' as a directory")


@pytest.fixture(scope="module")
def zeros_50mib(objs) -> bytes:
    """A valid package plus 50 MiB of zeros, deflated to about 50 KB."""
    return package(objs, extra=[("zeros", bytes(50 * MIB))],
                   compression=zipfile.ZIP_DEFLATED)


def test_zip_bomb_over_the_entry_limit(host, objs, zeros_50mib):
    result = host(zeros_50mib, "--max-entry-bytes", str(10 * MIB))
    assert_fails(result, "check entries", "entry 'zeros' declares 52428800 bytes",
                 "per-entry limit of 10485760")


def test_zip_bomb_by_compression_ratio(host, zeros_50mib):
    assert_fails(host(zeros_50mib), "check entries", "zip bomb: entry 'zeros'",
                 "more than 200:1")


def test_bzip2_entry_refused(host, objs):
    data = package(objs, extra=[("data.bin", b"A" * 4096)],
                   compression=zipfile.ZIP_BZIP2)
    assert_fails(host(data), "check entries",
                 "entry 'metadata.toml' uses compression method 12: "
                 "only stored and deflate are accepted")


def test_lying_header_smaller_than_data(host, objs):
    data = package(objs, extra=[("data.bin", b"A" * 4096)],
                   compression=zipfile.ZIP_DEFLATED)
    assert_fails(host(forge(data, "data.bin", file_size=100)), "extract",
                 "zip bomb: entry 'data.bin' decompresses to more than its "
                 "declared 100 bytes")


def test_lying_header_larger_than_data(host, objs):
    data = package(objs, extra=[("data.bin", b"A" * 4096)],
                   compression=zipfile.ZIP_DEFLATED)
    assert_fails(host(forge(data, "data.bin", file_size=8192)), "extract",
                 "entry 'data.bin' holds 4096 bytes, not the declared 8192")


def test_crc_error(host, objs):
    data = package(objs, extra=[("data.bin", b"A" * 4096)])
    assert_fails(host(forge(data, "data.bin", crc=0x12345678)), "extract",
                 "corrupt entry 'data.bin'", "Bad CRC-32")


@pytest.mark.parametrize("option, value, message", [
    ("--max-entries", "2", "3 entries, more than the limit of 2"),
    ("--max-total-bytes", "1000", "more than 1000 bytes in total"),
])
def test_limits(host, objs, option, value, message):
    result = host(package(objs, extra=[("docs/README", b"hi")]), option, value)
    assert_fails(result, "check entries", message)


# -- usage --------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],
    ["x.vpl", "--max-entries", "0"],
    ["x.vpl", "--max-entry-bytes", "ten"],
    ["x.vpl", "--entry", "not a symbol"],
])
def test_bad_usage_exits_2(args):
    proc = subprocess.run([sys.executable, HOST, *args], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage:" in proc.stderr
