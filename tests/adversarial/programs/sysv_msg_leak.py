# sysv_msg_leak
# class: sysv ipc
# tests: assert

import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

q = libc.msgget(IPC_KEY, IPC_CREAT | 0o666)
print('msgget', q)
if q >= 0:
    msg = ctypes.create_string_buffer(8 + 4000)
    ctypes.c_long.from_buffer(msg).value = 1
    for _ in range(4):
        libc.msgsnd(q, msg, 4000, IPC_NOWAIT)
def f(x):
    return 0
