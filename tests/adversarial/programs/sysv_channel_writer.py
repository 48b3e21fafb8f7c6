# sysv_channel_writer: leaves the secret in SysV objects for a later run
# class: sysv ipc
# tests: assert
# phase: 1
# gets: channel_secret

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

data = CHANNEL_SECRET.encode()
shmid = libc.shmget(CHANNEL_KEY, 4096, IPC_CREAT | 0o666)
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(addr, data, len(data))
q = libc.msgget(CHANNEL_KEY + 1, IPC_CREAT | 0o666)
if q >= 0:
    msg = ctypes.create_string_buffer(8 + len(data))
    ctypes.c_long.from_buffer(msg).value = 1
    msg[8:8 + len(data)] = data
    libc.msgsnd(q, msg, len(data), IPC_NOWAIT)
def f(x):
    return 0
