#!/usr/bin/env python3
"""Reference VPlugin host: opens a .vpl package the way a VPlugin host would,
stricter than the archived `vplugin` 0.3.0 loader, and reports every step as one
JSON line on stdout: {"name": str, "ok": bool, "ms": float, "detail": str}, plus
"status": "warned" on a step that passed where the vplugin crate would misbehave.
The real crate crashes on every package on Linux, so the steps follow the spec;
the last one says what the crate would do with this package.

Usage: vpl_host.py PACKAGE.vpl [--entry NAME] [--max-entry-bytes N]
                   [--max-total-bytes N] [--max-entries N]
Exit status: 0 when every step passed, 1 when a step failed, 2 for bad usage.
Standard library only (Python 3.11+).
"""
import sys

# The host writes nowhere but its private temp dir, not even __pycache__.
sys.dont_write_bytecode = True

import argparse
import copy
import ctypes
import json
import os
import re
import shutil
import stat
import tempfile
import time
import tomllib
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field

MIB = 1024 * 1024
DEFAULT_ENTRY = "vplugin_init"
EXIT_SYMBOL = "vplugin_exit"
# Above this size, an entry that expands more than BOMB_RATIO:1 is refused.
BOMB_MIN_SIZE = 1 * MIB
BOMB_RATIO = 200
CHUNK = 64 * 1024

ZIP_ENCRYPTED = 0x1
ZIP_STRONG_ENCRYPTION = 0x40
# zipfile decompresses these a bounded chunk at a time; bzip2 and LZMA data it
# expands a whole read at once, which a lying header could turn into a bomb.
SUPPORTED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
# What the upper 16 bits of external_attr (a Unix st_mode) may say besides
# "regular file" or "directory".
FILE_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "directory without a trailing '/'",
    stat.S_IFREG: "regular file with a trailing '/'",
}
# Errors an entry's data can raise while being decompressed (zipfile refuses
# some header flags with NotImplementedError).
EXTRACT_ERRORS = (OSError, EOFError, zlib.error, NotImplementedError)

REQUIRED_KEYS = ("name", "version", "objfile")
KNOWN_KEYS = REQUIRED_KEYS + ("description",)

ELF_MAGIC = b"\x7fELF"
ET_DYN = 3
ELF_TYPES = {0: "file of unknown type", 1: "relocatable object",
             2: "executable", 3: "shared object", 4: "core dump"}


class StepFailed(Exception):
    """A check failed; the message becomes the step's detail."""


class StepWarning(Exception):
    """The step passed, but the real loader would misbehave: the message says how."""


@dataclass
class Run:
    """What the steps hand on to each other."""
    args: argparse.Namespace
    archive: zipfile.ZipFile | None = None
    # Checked entries, in archive order, with their path split into segments.
    entries: list[tuple[zipfile.ZipInfo, list[str]]] = field(default_factory=list)
    tmpdir: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    lib: ctypes.CDLL | None = None


# -- step 1: open archive ---------------------------------------------------

def open_archive(run: Run) -> str:
    path = run.args.package
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise StepFailed(f"cannot read {path}: {e.strerror}")
    # A FIFO or a directory would hang or confuse zipfile: refuse it up front.
    if not stat.S_ISREG(mode):
        raise StepFailed(f"not a regular file: {path}")
    try:
        run.archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, NotImplementedError, EOFError, ValueError) as e:
        raise StepFailed(f"not a ZIP archive (truncated or corrupt): {e}")
    except OSError as e:
        raise StepFailed(f"cannot read {path}: {e.strerror}")
    infos = run.archive.infolist()
    encrypted = [i.orig_filename for i in infos
                 if i.flag_bits & (ZIP_ENCRYPTED | ZIP_STRONG_ENCRYPTION)]
    if encrypted:
        raise StepFailed("encrypted entries are not allowed: "
                         + ", ".join(map(repr, encrypted)))
    return f"ZIP archive with {len(infos)} entries"


# -- step 2: check entries --------------------------------------------------

def entry_parts(info: zipfile.ZipInfo) -> list[str]:
    """The entry's path segments, refusing any name that could escape or
    confuse the extraction directory."""
    # orig_filename still holds what zipfile cuts at a NUL byte.
    name = info.orig_filename
    if not name:
        raise StepFailed("entry with an empty name")
    if any(ord(c) < 0x20 or c == "\x7f" for c in name):
        raise StepFailed(f"entry {name!r} has a control character in its name")
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        raise StepFailed(f"entry {name!r} has an absolute path")
    if "\\" in name:
        raise StepFailed(f"entry {name!r} contains a backslash")
    parts = name.removesuffix("/").split("/")
    if ".." in parts:
        raise StepFailed(f"entry {name!r} has a '..' path segment")
    if any(p in ("", ".") for p in parts):
        raise StepFailed(f"entry {name!r} has an empty or '.' path segment")
    return parts


def check_file_type(info: zipfile.ZipInfo) -> None:
    """Only regular files and directories; 0 means the creator gave no type."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    expected = stat.S_IFDIR if info.is_dir() else stat.S_IFREG
    if kind not in (0, expected):
        what = FILE_TYPES.get(kind, f"file of type {kind:o}")
        raise StepFailed(f"entry {info.orig_filename!r} is a {what}: only "
                         "regular files and directories are allowed")
    if info.is_dir() and info.file_size:
        raise StepFailed(f"directory entry {info.orig_filename!r} holds data")


def check_sizes(info: zipfile.ZipInfo, max_entry_bytes: int) -> None:
    name, size, packed = info.orig_filename, info.file_size, info.compress_size
    if info.compress_type not in SUPPORTED_METHODS:
        raise StepFailed(f"entry {name!r} uses compression method "
                         f"{info.compress_type}: only stored and deflate "
                         "are accepted")
    if size > max_entry_bytes:
        raise StepFailed(f"entry {name!r} declares {size} bytes, more than "
                         f"the per-entry limit of {max_entry_bytes}")
    if info.compress_type == zipfile.ZIP_STORED and packed != size:
        raise StepFailed(f"stored entry {name!r} declares {size} bytes "
                         f"but holds {packed}")
    if size > BOMB_MIN_SIZE and size > BOMB_RATIO * packed:
        raise StepFailed(f"zip bomb: entry {name!r} expands {packed} bytes "
                         f"to {size} (more than {BOMB_RATIO}:1)")


def path_key(parts: list[str]) -> str:
    """Names that extract to the same place (trailing '/', Unicode form) share a key."""
    return unicodedata.normalize("NFC", "/".join(parts))


def check_entries(run: Run) -> str:
    args = run.args
    infos = run.archive.infolist()
    if len(infos) > args.max_entries:
        raise StepFailed(f"{len(infos)} entries, more than the limit "
                         f"of {args.max_entries}")
    seen: dict[str, str] = {}
    total = 0
    for info in infos:
        parts = entry_parts(info)
        check_file_type(info)
        check_sizes(info, args.max_entry_bytes)
        key = path_key(parts)
        if key in seen:
            raise StepFailed(f"duplicate entry {info.orig_filename!r} "
                             f"(same path as {seen[key]!r})")
        seen[key] = info.orig_filename
        total += info.file_size
        if total > args.max_total_bytes:
            raise StepFailed(f"entries declare more than {args.max_total_bytes} "
                             f"bytes in total (reached {total} at "
                             f"{info.orig_filename!r})")
        run.entries.append((info, parts))
    check_parents(run.entries)
    detail = f"{len(infos)} entries, {total} bytes declared"
    dirs = sorted({parts[0] for info, parts in run.entries
                   if len(parts) > 1 or info.is_dir()})
    if dirs:
        detail += ("; directories (not used: metadata.toml and the object "
                   "must sit at the root): " + ", ".join(d + "/" for d in dirs))
    return detail


def check_parents(entries: list[tuple[zipfile.ZipInfo, list[str]]]) -> None:
    """Refuse 'a' as a file next to 'a/b': extraction would have to pick one."""
    files = {path_key(parts) for info, parts in entries if not info.is_dir()}
    for info, parts in entries:
        for depth in range(1, len(parts)):
            parent = path_key(parts[:depth])
            if parent in files:
                raise StepFailed(f"entry {info.orig_filename!r} uses the "
                                 f"file {parent!r} as a directory")


# -- step 3: extract --------------------------------------------------------

def extract(run: Run) -> str:
    # mkdtemp creates the directory with mode 0700: private to this user.
    run.tmpdir = os.path.abspath(tempfile.mkdtemp(prefix="vpl-host-"))
    root = os.path.realpath(run.tmpdir)
    files = written = 0
    for info, parts in run.entries:
        target = os.path.join(root, *parts)
        directory = target if info.is_dir() else os.path.dirname(target)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        ensure_inside(root, directory, info)
        if not info.is_dir():
            written += write_entry(run.archive, info, target)
            files += 1
    return f"{files} files, {written} bytes into {run.tmpdir}"


def ensure_inside(root: str, path: str, info: zipfile.ZipInfo) -> None:
    if os.path.commonpath([root, os.path.realpath(path)]) != root:
        raise StepFailed(f"entry {info.orig_filename!r} would be written "
                         "outside the temporary directory")


def write_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: str) -> int:
    """Stream one entry to a new file, trusting neither its declared size nor
    its data. Declared sizes already passed the limits in `check entries`, so
    capping the copy at the declared size also keeps it within the limits."""
    name = info.orig_filename
    # zipfile would stop (and check the CRC) at the declared size: lift that cap
    # so the data runs to its real end and our own count catches a lying header.
    # Each read still decompresses about CHUNK bytes at most.
    probe = copy.copy(info)
    probe.file_size = sys.maxsize
    # O_EXCL|O_NOFOLLOW: never reuse an existing file or follow a planted link.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    written = 0
    try:
        with os.fdopen(os.open(target, flags, 0o600), "wb") as out, \
                archive.open(probe) as data:
            while chunk := data.read(CHUNK):
                written += len(chunk)
                if written > info.file_size:
                    raise StepFailed(f"zip bomb: entry {name!r} decompresses to "
                                     f"more than its declared {info.file_size} bytes")
                out.write(chunk)
    except zipfile.BadZipFile as e:  # bad CRC, mismatched local header...
        raise StepFailed(f"corrupt entry {name!r}: {e}")
    except EXTRACT_ERRORS as e:
        raise StepFailed(f"cannot extract entry {name!r}: {e}")
    if written != info.file_size:
        raise StepFailed(f"entry {name!r} holds {written} bytes, not the "
                         f"declared {info.file_size}")
    return written


# -- step 4: read metadata --------------------------------------------------

def read_metadata(run: Run) -> str:
    path = os.path.join(run.tmpdir, "metadata.toml")
    if not os.path.isfile(path):
        raise StepFailed("metadata.toml is missing from the archive root"
                         + misplaced_hint(run.entries, "metadata.toml"))
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StepFailed(f"metadata.toml is not UTF-8: {e}")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise StepFailed(f"metadata.toml is not valid TOML: {e}")
    table = doc.get("metadata")
    if not isinstance(table, dict):
        raise StepFailed("metadata.toml has no [metadata] table")
    run.meta = validate_metadata(table)
    ignored = [f"metadata.{k}" for k in table if k not in KNOWN_KEYS]
    ignored += [k for k in doc if k != "metadata"]
    m = run.meta
    detail = f"{m['name']} {m['version']} (objfile {m['objfile']})"
    if m.get("description"):
        detail += f": {m['description']}"
    if ignored:
        detail += "; ignored keys: " + ", ".join(ignored)
    return detail


def validate_metadata(table: dict) -> dict[str, str]:
    problems = [p for k in REQUIRED_KEYS if (p := field_problem(table, k))]
    if problems:
        raise StepFailed("metadata.toml: " + "; ".join(problems))
    # The reference loader panics on a space in the name; refuse any whitespace.
    if any(c.isspace() for c in table["name"]):
        raise StepFailed(f"metadata.toml: name {table['name']!r} contains whitespace")
    description = table.get("description")
    if description is not None and not isinstance(description, str):
        raise StepFailed("metadata.toml: description must be a string, "
                         f"not {type(description).__name__}")
    return {k: table[k] for k in KNOWN_KEYS if k in table}


def field_problem(table: dict, key: str) -> str | None:
    if key not in table:
        return f"{key} is missing"
    if not isinstance(table[key], str):
        return f"{key} must be a string, not {type(table[key]).__name__}"
    if not table[key].strip():
        return f"{key} is empty"
    return None


def misplaced_hint(entries, filename: str) -> str:
    elsewhere = [i.orig_filename for i, parts in entries
                 if len(parts) > 1 and parts[-1] == filename]
    return f" (found {', '.join(elsewhere)}, not at the root)" if elsewhere else ""


# -- step 5: find object ----------------------------------------------------

def find_object(run: Run) -> str:
    objfile = run.meta["objfile"]
    if "/" in objfile or "\\" in objfile or objfile in (".", ".."):
        raise StepFailed(f"objfile {objfile!r} must be a plain file name "
                         "at the archive root")
    root_files = {parts[0] for info, parts in run.entries
                  if len(parts) == 1 and not info.is_dir()}
    if objfile not in root_files:
        raise StepFailed(f"objfile {objfile!r} is not in the archive root"
                         + misplaced_hint(run.entries, objfile))
    with open(os.path.join(run.tmpdir, objfile), "rb") as f:
        return describe_shared_object(objfile, f.read(20))


def describe_shared_object(objfile: str, header: bytes) -> str:
    """Check the ELF identification and e_type of the first 20 bytes."""
    if header[:4] != ELF_MAGIC:
        raise StepFailed(f"objfile {objfile!r} is not an ELF file "
                         f"(starts with {header[:4]!r})")
    if len(header) < 20 or header[4] not in (1, 2) or header[5] not in (1, 2):
        raise StepFailed(f"objfile {objfile!r} has a truncated or invalid ELF header")
    bits, order = (32, 64)[header[4] - 1], ("little", "big")[header[5] - 1]
    e_type = int.from_bytes(header[16:18], order)
    e_machine = int.from_bytes(header[18:20], order)
    if e_type != ET_DYN:
        what = ELF_TYPES.get(e_type, f"file of type {e_type}")
        raise StepFailed(f"objfile {objfile!r} is an ELF {what}, "
                         "not a shared object (ET_DYN)")
    return f"{objfile}: ELF{bits} {order}-endian shared object, e_machine {e_machine}"


# -- steps 6 to 8: load, start, stop -----------------------------------------

def load_object(run: Run) -> str:
    path = os.path.join(run.tmpdir, run.meta["objfile"])
    try:
        run.lib = ctypes.CDLL(path, mode=os.RTLD_NOW)
    except OSError as e:  # the message is dlerror()'s text
        raise StepFailed(f"dlopen failed: {e}")
    # The mapping outlives the files: remove them now, so that a plugin that
    # crashes, or hangs and gets killed, from here on leaves nothing behind.
    remove_tmpdir(run)
    return f"dlopen({run.meta['objfile']}, RTLD_NOW) succeeded; extracted files removed"


def lookup(lib: ctypes.CDLL, symbol: str, restype):
    """The exported function `restype symbol(void)`, or None if absent."""
    try:
        return ctypes.CFUNCTYPE(restype)((symbol, lib))
    except AttributeError:
        return None


def call_entry(run: Run) -> str:
    entry = run.args.entry
    init = lookup(run.lib, entry, ctypes.c_int32)
    if init is None:
        raise StepFailed(f"{run.meta['objfile']} does not export {entry}")
    status = init()
    if status != 0:
        raise StepFailed(f"{entry} returned {status}: the plugin failed to start")
    return f"{entry} returned 0: the plugin started"


def call_destructor(run: Run) -> str:
    destructor = lookup(run.lib, EXIT_SYMBOL, None)
    if destructor is None:
        return f"no {EXIT_SYMBOL} (optional)"
    destructor()
    return f"called {EXIT_SYMBOL}"


def vplugin_crate(run: Run) -> str:
    """What the vplugin crate (GitHub VPlugin/VPlugin, 0.3.0 and its last commit)
    does with this package besides crashing on Linux (Plugin::load copies the
    object over its own mapping): what is this package's own trouble there is a
    warning, the rest is said."""
    name, objfile, entry = run.meta["name"], run.meta["objfile"], run.args.entry
    trouble = []
    if entry != DEFAULT_ENTRY and lookup(run.lib, DEFAULT_ENTRY, ctypes.c_int32) is None:
        trouble.append(f"no {DEFAULT_ENTRY}: a vplugin PluginManager calls one entry point "
                       f"for every plugin ({DEFAULT_ENTRY} unless the host sets another); "
                       f"export {DEFAULT_ENTRY} too, calling {entry}")
    if lookup(run.lib, EXIT_SYMBOL, None) is None:
        trouble.append(f"no {EXIT_SYMBOL}: the crate's terminate() returns an error without it")
    extra = [info.orig_filename for info, parts in run.entries
             if not info.is_dir() and parts not in (["metadata.toml"], [objfile])]
    if extra:
        trouble.append(f"it extracts {', '.join(extra)} into the host's working directory too")
    behaviour = (f"the vplugin crate extracts the package into the host's working directory, "
                 f"copies {objfile} to $TMPDIR/vplugin/{name}/{objfile} (keyed by name: "
                 f"another version of {name} overwrites it), never reads description, and "
                 f"calls {EXIT_SYMBOL} only from terminate(); its Plugin::load crashes on "
                 f"Linux (see the generated README)")
    if trouble:
        raise StepWarning("; ".join(trouble) + f" ({behaviour})")
    return behaviour


# -- driver -------------------------------------------------------------------

STEPS = (
    ("open archive", open_archive),
    ("check entries", check_entries),
    ("extract", extract),
    ("read metadata", read_metadata),
    ("find object", find_object),
    ("load object", load_object),
    ("entry point", call_entry),
    ("destructor", call_destructor),
    ("vplugin crate", vplugin_crate),
)


def remove_tmpdir(run: Run) -> None:
    if run.tmpdir is not None:
        shutil.rmtree(run.tmpdir, ignore_errors=True)
        run.tmpdir = None


def run_step(report, name: str, step, run: Run) -> bool:
    start = time.perf_counter()
    warned = False
    try:
        detail, ok = step(run), True
    except StepWarning as e:
        detail, ok, warned = str(e), True, True
    except StepFailed as e:
        detail, ok = str(e), False
    except Exception as e:  # a host bug or an unforeseen input: still report it
        detail, ok = f"unexpected {type(e).__name__}: {e}", False
    ms = round((time.perf_counter() - start) * 1000, 3)
    line = {"name": name, "ok": ok, "ms": ms, "detail": detail}
    if warned:
        line["status"] = "warned"
    report.write(json.dumps(line) + "\n")
    # Flush now: if the plugin crashes the process, the lines so far survive.
    report.flush()
    return ok


def private_report_stream():
    """Keep the report on a copy of stdout and point fd 1 at stderr, so that
    whatever the plugin prints cannot mix with the JSON lines."""
    report = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(2, 1)
    return report


def positive_int(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) == 0:
        raise argparse.ArgumentTypeError(f"not a positive integer: {text!r}")
    return int(text)


def symbol_name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text):
        raise argparse.ArgumentTypeError(f"not a C symbol name: {text!r}")
    return text


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Open a .vpl package like a VPlugin host, step by step.")
    parser.add_argument("package", help="the .vpl file")
    parser.add_argument("--entry", metavar="NAME", type=symbol_name, default=DEFAULT_ENTRY,
                        help="entry point symbol (default: %(default)s)")
    parser.add_argument("--max-entry-bytes", metavar="N", type=positive_int, default=64 * MIB,
                        help="largest uncompressed entry (default: %(default)s)")
    parser.add_argument("--max-total-bytes", metavar="N", type=positive_int, default=256 * MIB,
                        help="largest uncompressed total (default: %(default)s)")
    parser.add_argument("--max-entries", metavar="N", type=positive_int, default=1000,
                        help="most entries (default: %(default)s)")
    return parser.parse_args(argv)  # exits 2 on bad usage


def main(argv=None) -> int:
    run = Run(parse_args(argv))
    report = private_report_stream()
    try:
        for name, step in STEPS:
            if not run_step(report, name, step, run):
                return 1
        return 0
    finally:
        if run.archive is not None:
            run.archive.close()
        remove_tmpdir(run)


if __name__ == "__main__":
    sys.exit(main())
