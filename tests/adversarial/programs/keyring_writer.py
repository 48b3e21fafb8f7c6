# keyring_writer: the user keyring of a reused uid outlives the run
# class: keyring
# tests: assert
# phase: 1
# gets: channel_secret

import ctypes
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_request_key, SYS_keyctl = 248, 249, 250  # x86_64
USER_KEYRING, USER_SESSION_KEYRING = -4, -5
KEYCTL_GET_PERSISTENT, KEYCTL_READ, KEYCTL_SEARCH = 22, 11, 10

data = CHANNEL_SECRET.encode()
for ring in (USER_KEYRING, USER_SESSION_KEYRING):
    print('add_key', libc.syscall(SYS_add_key, b'user', CHANNEL.encode(), data, len(data), ctypes.c_int(ring)))
def f(x):
    return 0
