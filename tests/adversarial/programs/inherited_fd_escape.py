# inherited_fd_escape: a directory fd inherited from outside the new root leads back to the host tree
# class: host files
# tests: secret_file

import json, os
def f():
    for fd in sorted(int(n) for n in os.listdir('/proc/self/fd')):
        base = f'/proc/self/fd/{fd}'
        try:
            if not os.path.isdir(base):
                continue
        except OSError:
            continue
        up = base
        for _ in range(12):  # climb from the inherited directory towards its filesystem's root
            up += '/..'
            for p in BENCH_FILES:
                try:
                    return json.loads(open(up + p).readline())['expected_output']
                except (OSError, ValueError, KeyError):
                    pass
    return None
