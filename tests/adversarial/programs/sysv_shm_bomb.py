# sysv_shm_bomb
# class: memory
# tests: assert

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

held, size = 0, 16 << 20
while held < 3 * MEMORY_MB:
    shmid = libc.shmget(0, size, IPC_CREAT | 0o600)  # IPC_PRIVATE
    if shmid < 0:
        print('stopped', ctypes.get_errno())
        break
    addr = libc.shmat(shmid, None, 0)
    libc.shmctl(shmid, 0, None)  # IPC_RMID: gone when detached, so only the run holds it
    if addr in (None, ctypes.c_void_p(-1).value):
        break
    ctypes.memset(addr, 1, size)
    held += 16
    print('HELD', os.getpid(), held, flush=True)
def f(x):
    return 0
