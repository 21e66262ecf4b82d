"""Small "hosts" of their own for farm tests: Linux network namespaces on a private bridge.

Each host is a network namespace with its own loopback and one veth link to a bridge in the root
namespace; the bridge holds the first address of a private /24, so a process in the root namespace
(the submitter) reaches every host, and the hosts reach one another, over that bridge only. A host's
link can be pulled (``link_down``) and every process it runs killed at once (``kill_all``).

Names carry a per-session tag, so parallel test runs never collide; ``private_network`` removes
every process, namespace and link it made, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

SUBNET_PREFIX = "10.213"
"""Private addresses (10.213.N.0/24) unlikely to be used by anything else on a test machine."""
_CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)
_SETNS_LOCK = threading.Lock()


def _ip(*args: str, namespace: str | None = None) -> str:
    """Run one ``ip`` command (inside ``namespace`` when given); raises with its message when it fails."""
    argv = ["ip", *(("-n", namespace) if namespace else ()), *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done.stdout


def namespaces_unavailable() -> str | None:
    """Why this machine cannot make network namespaces for tests, or None when it can."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "making network namespaces needs root"
    probe = f"jxprobe{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", probe)
        _ip("link", "set", "lo", "up", namespace=probe)
    except (RuntimeError, OSError) as error:
        return f"network namespaces cannot be made here ({error})"
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True, timeout=30)
    return None


@dataclass
class Host:
    """One network namespace with an address on the bridge; processes started in it run until killed."""

    name: str
    namespace: str
    address: str
    link: str
    """The root side of the host's veth pair: pulling it down cuts the host off, as a pulled cable would."""
    folder: Path
    """The host's private scratch space: its temporary files, its home and its logs."""
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, argv: Sequence[str], *, env: Mapping[str, str], log: str) -> subprocess.Popen[str]:
        """Start ``argv`` inside this host, its output in ``folder/log``, in a process group of its own."""
        scratch = self.folder / "tmp"
        scratch.mkdir(exist_ok=True)
        private = {**env, "TMPDIR": str(scratch), "HOME": str(self.folder), "JOYPIX_HOME": str(self.folder / "joypix")}
        with (self.folder / log).open("a") as output:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.namespace, *argv], stdout=output, stderr=subprocess.STDOUT, text=True,
                env=private, start_new_session=True,
            )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        """What the processes logging to ``name`` wrote so far."""
        path = self.folder / name
        return path.read_text(errors="replace") if path.exists() else ""

    def link_down(self) -> None:
        """Cut the host off the network; its processes run on and its connections hang."""
        _ip("link", "set", self.link, "down")

    def link_up(self) -> None:
        """Put the host back on the network."""
        _ip("link", "set", self.link, "up")

    def kill_all(self) -> None:
        """SIGKILL every process in the host, as a power cut would, and reap the ones we started."""
        for pid in self.pids():
            if pid == os.getpid():
                continue  # this process serves from the host on a thread of its own; it is not the host's to kill
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
        self.processes.clear()

    def pids(self) -> list[int]:
        """Every process running in this host's network namespace."""
        listed = subprocess.run(["ip", "netns", "pids", self.namespace], capture_output=True, text=True, timeout=30)
        return [int(word) for word in listed.stdout.split()]

    @contextlib.contextmanager
    def inside(self) -> Iterator[None]:
        """Run the block with this thread in the host's network namespace: sockets made there stay there.

        The test process can so serve from a host (the cloud emulator, whose counters the test reads)
        while every other thread stays in the root namespace.
        """
        with _SETNS_LOCK, open(f"/proc/self/task/{threading.get_native_id()}/ns/net") as home:
            with open(f"/var/run/netns/{self.namespace}") as target:
                _setns(target)
            try:
                yield
            finally:
                _setns(home)


def _setns(file: IO[str]) -> None:
    if _LIBC.setns(file.fileno(), _CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))


@dataclass
class Network:
    """A bridge in the root namespace and the hosts on it, all named with one session tag."""

    tag: str
    subnet: str
    """The /24's first three octets, e.g. ``10.213.57``."""
    folder: Path
    hosts: dict[str, Host] = field(default_factory=dict)

    @property
    def bridge(self) -> str:
        return f"jx{self.tag}br"

    @property
    def gateway(self) -> str:
        """The bridge's own address: how the root namespace is seen from the hosts."""
        return f"{self.subnet}.1"

    def add_host(self, name: str) -> Host:
        """A new namespace with loopback up and one link to the bridge at the next free address."""
        namespace, link = f"jx{self.tag}-{name}", f"jx{self.tag}{name}"
        address = f"{self.subnet}.{len(self.hosts) + 2}"
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        _ip("netns", "add", namespace)
        host = Host(name, namespace, address, link, folder)
        self.hosts[name] = host  # from here on, close() removes it
        _ip("link", "add", link, "type", "veth", "peer", "name", f"{link}p")
        _ip("link", "set", f"{link}p", "netns", namespace)
        _ip("link", "set", link, "master", self.bridge, "up")
        _ip("link", "set", f"{link}p", "name", "eth0", namespace=namespace)
        _ip("addr", "add", f"{address}/24", "dev", "eth0", namespace=namespace)
        _ip("link", "set", "eth0", "up", namespace=namespace)
        _ip("link", "set", "lo", "up", namespace=namespace)
        return host

    def close(self) -> None:
        """Kill every process in every host, then remove the namespaces (their links go with them) and the bridge."""
        for host in self.hosts.values():
            with contextlib.suppress(Exception):
                host.kill_all()
        for host in self.hosts.values():
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True, timeout=30)
            subprocess.run(["ip", "link", "del", host.link], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, timeout=30)


def _free_subnet() -> str:
    """A 10.213.N prefix no address or route of the root namespace uses yet."""
    used = _ip("-4", "addr") + _ip("-4", "route")
    free = [number for number in range(256) if f"{SUBNET_PREFIX}.{number}." not in used]
    if not free:
        raise RuntimeError(f"every {SUBNET_PREFIX}.N.0/24 is in use")
    return f"{SUBNET_PREFIX}.{random.choice(free)}"


@contextlib.contextmanager
def private_network(folder: Path, names: Sequence[str]) -> Iterator[Network]:
    """A bridge and one host per name (addresses .2, .3, ... in order); everything removed on the way out."""
    network = Network(secrets.token_hex(3), _free_subnet(), folder)
    try:
        _ip("link", "add", network.bridge, "type", "bridge")
        _ip("addr", "add", f"{network.gateway}/24", "dev", network.bridge)
        _ip("link", "set", network.bridge, "up")
        for name in names:
            network.add_host(name)
        yield network
    finally:
        network.close()
