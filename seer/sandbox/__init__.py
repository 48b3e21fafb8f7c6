"""Run untrusted Python against a problem's tests, with a verdict the program cannot fake.

``run_tests(code, tests)`` runs one program; ``SandboxPool`` runs many in parallel with a result
cache; ``fill_expected`` computes expected outputs of call tests from a reference solution. How a
run is built: ``isolation.py`` (the modes), ``zygote.py`` (fork server), ``rootfs.py`` (file
system), ``confine.py`` (the program's process), ``driver.py`` (protocol), ``checker.py`` (assert
tests), ``codec.py`` (what crosses), ``execute.py`` and ``compare.py`` (the verdict).

Threat model
============
The program is hostile and knows this harness (its source is public). It may try to fake a pass,
read the expected answers, leave something on the host or for a later run, or take the harness
down. It has the whole standard library (``ctypes``, ``gc``, ``sys._getframe`` included) and the
run's time and memory. ``capabilities().mode`` says how runs are isolated on this machine:

- ``root`` (the caller is root) and ``userns`` (a normal user, with unprivileged user
  namespaces): everything below holds, the same in both modes.
- ``weak`` (neither is available and ``sandbox.allow_weak`` opted in; each stage using it logs a
  warning): nothing below holds. The program runs as the caller with the caller's files, network
  and processes, and can fake verdicts. Without the opt-in the sandbox refuses to start and names
  the sysctl to enable.

Guarantees (modes root and userns)
----------------------------------
``tests/test_sandbox_adversarial.py`` checks each of them with 165 hostile programs (one file
each in ``tests/adversarial/programs/``, header: class and tests) and 25 controls, in both
modes in one session: as root, and as a throwaway unprivileged user it creates (CI runs as root;
run as a normal user, it runs mode userns as that user). For every program: no pass, the run
ends in time, no secret in what comes back, nothing left behind; per mode: the controls pass
before and after, and next to every hostile program.

1. A pass needs the right answers. Call and stdio outputs are compared in the parent, which never
   sends expected outputs into the sandbox. Assert tests run in a checker process that never runs
   candidate code, with its own builtins and its own copies of the modules the tests import; the
   entry point there is a stand-in whose calls cross to the program's process, and what comes
   back is plain data rebuilt by the bounded codec, an instance of a class the tests define
   rebuilt by value, or an opaque stand-in: no ``__eq__``, ``__hash__``, ``__bool__`` or
   ``__sub__`` the program wrote ever runs there. A run counts only after every process of it is
   dead and its per-run token came back. Proven against: always-equal objects (plain classes,
   int/float subclasses, metaclasses, ``weakref.proxy``, ``MappingProxyType`` of a dict subclass,
   ``__eq__`` returning a truthy object, dicts that look like codec tags), compound, membership
   and chained asserts, arithmetic on the result (``__sub__``, ``__rsub__``, ``__abs__``,
   ``__lt__``), ``__hash__`` tricks, truthiness that flips, patched shared modules
   (``math.isclose``, ``sys.modules``, ``re`` and its pattern cache, ``copy.deepcopy``, the real
   builtins through ``os.__builtins__`` and ``object.__subclasses__()``, program names shadowing
   builtins or the prelude's modules, a shared LeetCode class patched by the program), tampering
   in the program's process (frames, ``gc``, closures, audit hooks, ``ctypes`` rewriting cached
   small ints and ``False``, rewriting the test cases held in memory), forged result lines on
   every fd and on other processes' pipes, exits at load and in a test, ``atexit``.
2. No answer is within reach. A run sees a minimal read-only root (interpreter, standard library,
   the shared libraries they need) and a private tmpfs, nothing of the host: proven against
   benchmark files with the expected outputs under /tmp, in the project and in the user's home
   (read directly, found by walking the file system, through ``/proc/<pid>/root``, through
   inherited directory fds, after a nested user namespace and chroot), the harness's environment
   and memory (``/proc/<pid>/environ``, ``/proc/<pid>/mem``), unix socket servers of the host
   (a socket file and an abstract name) and a TCP listener on 127.0.0.1.
3. Nothing outlives a run or passes between runs: pid, network, mount, IPC and UTS namespaces
   per run, a fresh session keyring, no capabilities, no_new_privs, and a seccomp filter (x86_64,
   aarch64) that refuses memfds, keyrings, namespaces, mounts, ptrace, io_uring, bpf and the like
   (on x86_64 also through the x32 and i386 entry points). Proven against daemons (double fork +
   setsid, no death signal, a subprocess in a new session), SysV shared memory, message queues
   and semaphores, keys (user, session and persistent keyrings; a writer run and a later reader
   run), files (home, the venv's site-packages ``.pth``, the project's source, /tmp, /var/tmp,
   /dev/shm, /run/lock, sentinel files), raised rlimits, device nodes and kernel knobs.
4. The harness is out of reach and survives: the trusted processes are root (mode root) or
   scoped away from the program (mode userns: a Landlock domain or namespaces of its own, and a
   /proc that hides them), not dumpable, and hold no fd the program can use. Proven against kill
   -9 and SIGSTOP of ancestors, of process groups and of every visible process, ptrace, pipes
   found through ``/proc/*/fd``, and reading the harness's /proc files.
5. Bounded cost to the harness: each run ends within its budget (per-case limits when the tests
   carry them) plus a grace, output is capped, and decoding what the program returns is linear
   (caps on size, depth and hash collisions, and a deadline). Proven against sets and dicts of
   colliding ints, repeated and nested colliding sets, 10^6-deep nesting, 2^40 leaves through
   shared references, a 10 MB int, a million opaque objects or list nodes, a cyclic list, output
   floods, fork and thread bombs, busy loops that ignore signals.
6. Memory: with a memory cgroup (mode root; mode userns where a cgroup subtree is delegated to
   the user) a run holds at most ``memory_mb`` plus 64 MB for its driver, heap, tmpfs and SysV
   memory included; without one, each process is held to ``memory_mb`` of address space and the
   run's tmpfs to ``memory_mb``, so a run can hold several times ``memory_mb``
   (``seer/sandbox/isolation.py``). Proven against a heap spread over forked processes, files
   filling the tmpfs each under the file-size limit, /dev/shm and /tmp bombs, SysV and POSIX
   shared memory, memfds, and raising the cgroup's limits from inside: the bound of the mode's
   capabilities holds.

Out of scope
------------
- The kernel's own attack surface: the seccomp filter is a deny-list (x86_64, and aarch64 whose
  table is untested; no filter on other architectures), so a kernel bug reachable through an
  allowed system call is an escape; mode userns needs unprivileged user namespaces, which widen
  what the kernel exposes.
- Side and covert channels between concurrent runs (timing; CPU, cache and memory-bandwidth
  contention; the page cache of the shared read-only root). There is no CPU controller: a hostile
  neighbour can slow a correct program down (never make it fail, which the suite checks); per-case
  time limits make verdicts tolerant to load, not immune to it.
- Public facts about the machine (``/proc/cpuinfo``, kernel and library versions).
- Answers computed in an unintended but legal way, e.g. a completion that redefines a helper of
  HumanEval's prompt that the tests call (upstream's harness behaves the same; ``checker.py``).
- Mode ``weak``, and the harness's own environment: it trusts its Python installation, the tests
  it is given and the user running it.
"""
from seer.sandbox.execute import SandboxError, run_tests
from seer.sandbox.expected import fill_expected
from seer.sandbox.isolation import Capabilities, capabilities
from seer.sandbox.pool import SandboxPool
from seer.sandbox.result import ExecResult, TestOutcome

__all__ = ["Capabilities", "ExecResult", "SandboxError", "SandboxPool", "TestOutcome",
           "capabilities", "fill_expected", "run_tests"]
