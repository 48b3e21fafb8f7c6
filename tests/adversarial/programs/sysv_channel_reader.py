# sysv_channel_reader
# class: sysv ipc
# tests: secret_channel
# phase: 2

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

def f():
    shmid = libc.shmget(CHANNEL_KEY, 0, 0)
    if shmid >= 0:
        addr = libc.shmat(shmid, None, 0)
        if addr not in (None, ctypes.c_void_p(-1).value):
            v = ctypes.string_at(addr, 64).split(b'\0')[0].decode()
            if v:
                return v
    q = libc.msgget(CHANNEL_KEY + 1, 0)
    if q >= 0:
        msg = ctypes.create_string_buffer(8 + 256)
        n = libc.msgrcv(q, msg, 256, 0, IPC_NOWAIT)
        if n > 0:
            return msg.raw[8:8 + n].decode()
    return None
