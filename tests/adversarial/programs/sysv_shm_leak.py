# sysv_shm_leak: a SysV segment outlives the process that made it
# class: sysv ipc
# tests: assert

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

for size in (64 << 20, 16 << 20, 1 << 20, 4096):  # the largest the limits allow
    shmid = libc.shmget(IPC_KEY, size, IPC_CREAT | 0o666)
    print('shmget', size, shmid, ctypes.get_errno())
    if shmid >= 0:
        break
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(addr, 1, size)  # resident host memory once it outlives the run
def f(x):
    return 0
