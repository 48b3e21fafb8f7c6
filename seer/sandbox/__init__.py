"""Run untrusted Python against a problem's tests, with a verdict the program cannot fake.

``run_tests(code, tests)`` runs one program; ``SandboxPool`` runs many in parallel with a result
cache; ``fill_expected`` computes expected outputs of call tests from a reference solution.

How a run is isolated (mode "root"; see ``seer.sandbox.isolation`` for what is lost without root)
--------------------------------------------------------------------------------------------------
A warm fork server (``zygote.py``, a pristine interpreter that never runs candidate code) forks a
session per program, with new pid, network and mount namespaces; the trusted driver
(``driver.py``) is pid 1 there and forks "runners" that execute the program: each closes every
driver fd, sets rlimits (address space, CPU seconds, file size, processes, open files, no core
dumps), sets no_new_privs (setuid binaries stay unprivileged), drops to a leased unprivileged uid,
and runs in a private tmpfs cwd (/tmp, /var/tmp, /run/lock and /dev/shm are private tmpfs too,
128 MB each) with stdin on /dev/null (stdio tests: a memfd holding the input), a scrubbed
environment, only the standard library importable (``-S``: no site-packages; ``exit``/``quit``
are provided) and no network. Output is captured and capped. When the driver has the results it kills everything
in the namespace (``kill(-1)`` as pid 1), so nothing outlives the run; the parent also keeps a
pidfd of the session to kill it if the driver overruns. ``timeout`` is a wall-clock budget for
the whole program; a test that runs out of it is "timeout", tests after it "timeout" (not run).

Why a pass cannot be faked
--------------------------
- The verdict comes from the parent. A program passes only if the parent saw, on a pipe only the
  driver holds, one result per test in order, then "D" (written after every sandboxed process was
  killed), then its per-run random token echoed back: the token (``secrets.token_hex(16)``) is sent
  to the driver only after "D", so no program process ever coexists with it. ``os._exit(0)``,
  ``sys.exit(0)``, ``raise SystemExit``, printing a guessed token or fake result lines (stdout is
  never parsed; fd 3 is a per-runner report pipe whose lines must start with a random per-runner
  key), ``atexit`` hooks and threads (runners end with ``os._exit`` right after the last report)
  all end as "error" or "fail". A runner that dies mid-test loses only that test.
- call and stdio tests: the runner only reports what the program returned (strictly encoded: only
  exact builtin types, ``seer.sandbox.codec``) or printed; the comparison with the expected output
  happens in the parent, which never sends the expected outputs into the sandbox. A program
  cannot pass these without producing the right outputs.
- assert tests necessarily run in the program's process. There the runner binds every builtin it
  needs before the program runs, gives the program a shadow ``builtins`` module and the test code
  a pristine copy, classifies exceptions by the real ``AssertionError`` (redefining it does
  nothing), and rewrites ``assert a == b`` to a strict comparison that refuses objects whose
  ``__eq__`` the program wrote (only exact builtin types, builtin subclasses via their base type,
  and static C types such as ``Decimal`` compare).

Remaining threat (assert tests only): code in the same process can introspect it. A program that
walks interpreter frames (``sys._getframe``, ``gc``, ``ctypes``) can read the runner's per-runner
key or patch the test namespace, and then write well-formed "pass" reports for the tests of its
own run, or install trace functions that skip test lines. Doing that needs deliberate knowledge
of this harness; none of it reaches outside the run (namespaces, uid) or the token. Assert-test
passes of a run that did not complete are reported as "error". Outside the harness, what is left
is the kernel's own attack surface (no seccomp filter; unprivileged user namespaces stay allowed),
and memory: ``RLIMIT_AS`` is per process, so up to ``NPROC`` processes of one run can each use it.
"""
from seer.sandbox.execute import SandboxError, run_tests
from seer.sandbox.expected import fill_expected
from seer.sandbox.isolation import Capabilities, capabilities
from seer.sandbox.pool import SandboxPool
from seer.sandbox.result import ExecResult, TestOutcome

__all__ = ["Capabilities", "ExecResult", "SandboxError", "SandboxPool", "TestOutcome",
           "capabilities", "fill_expected", "run_tests"]
