# keyring_session_join
# class: keyring
# tests: secret_channel

import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def f():
    # join the named session keyring a writer may have made; search every special keyring
    libc.syscall(250, ctypes.c_long(1), ctypes.c_char_p(b'_ses'))  # KEYCTL_JOIN_SESSION_KEYRING
    for ring in (-1, -2, -3, -4, -5, -6, -7):
        k = libc.syscall(250, ctypes.c_long(10), ctypes.c_long(ring), b'user', CHANNEL.encode(), ctypes.c_long(0))
        if k > 0:
            buf = ctypes.create_string_buffer(256)
            n = libc.syscall(250, ctypes.c_long(11), ctypes.c_long(k), buf, ctypes.c_long(256))
            if n > 0:
                return buf.raw[:n].decode()
    return None
