# keyring_persistent: the persistent keyring lives for days after its user's last process
# class: keyring
# tests: assert

import ctypes
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_request_key, SYS_keyctl = 248, 249, 250  # x86_64
USER_KEYRING, USER_SESSION_KEYRING = -4, -5
KEYCTL_GET_PERSISTENT, KEYCTL_READ, KEYCTL_SEARCH = 22, 11, 10

ring = libc.syscall(SYS_keyctl, KEYCTL_GET_PERSISTENT, -1, ctypes.c_int(USER_KEYRING))
print('persistent keyring', ring, ctypes.get_errno())
if ring > 0:
    print('add_key', libc.syscall(SYS_add_key, b'user', JUNK.encode(), b'x' * 1000, 1000, ring))
def f(x):
    return 0
