# sysv_sem_leak
# class: sysv ipc
# tests: assert

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

print('semget', libc.semget(IPC_KEY, 4, IPC_CREAT | 0o666))
def f(x):
    return 0
