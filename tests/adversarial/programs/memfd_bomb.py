# memfd_bomb: memfd pages are not in RLIMIT_AS
# class: memory
# tests: assert

import os
held, chunk = 0, b'\1' * (16 << 20)
fd = os.memfd_create(JUNK)
try:
    while held < 3 * MEMORY_MB:
        os.write(fd, chunk)
        held += 16
        print('HELD', os.getpid(), held, flush=True)
except OSError as e:
    print('stopped', e)
def f(x):
    return 0
