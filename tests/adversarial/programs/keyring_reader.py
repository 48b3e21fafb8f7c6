# keyring_reader
# class: keyring
# tests: secret_channel
# phase: 2

import ctypes
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_request_key, SYS_keyctl = 248, 249, 250  # x86_64
USER_KEYRING, USER_SESSION_KEYRING = -4, -5
KEYCTL_GET_PERSISTENT, KEYCTL_READ, KEYCTL_SEARCH = 22, 11, 10

def f():
    for ring in (USER_KEYRING, USER_SESSION_KEYRING):
        k = libc.syscall(SYS_keyctl, KEYCTL_SEARCH, ctypes.c_int(ring), b'user', CHANNEL.encode(), 0)
        if k > 0:
            buf = ctypes.create_string_buffer(256)
            n = libc.syscall(SYS_keyctl, KEYCTL_READ, k, buf, 256)
            if n > 0:
                return buf.raw[:n].decode()
    return None
