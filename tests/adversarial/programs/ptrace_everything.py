# ptrace_everything: attaches to every process it can see (the checker, if visible)
# class: parent via /proc
# tests: assert

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
me = os.getpid()
for pid in [int(d) for d in os.listdir('/proc') if d.isdigit() and int(d) != me]:
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        print('BREACH attached to', pid, open(f'/proc/{pid}/cmdline', 'rb').read()[:80])
        os.waitpid(pid, 0)
        libc.ptrace(PTRACE_DETACH, pid, None, None)
def f(x):
    return 0
