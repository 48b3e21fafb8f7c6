# dev_shm_bomb
# class: fill /dev/shm
# tests: assert

import os
held, chunk = 0, b'\1' * (16 << 20)
try:
    with open('/dev/shm/' + JUNK, 'wb') as fh:
        while held < 3 * MEMORY_MB:
            fh.write(chunk)
            fh.flush()
            held += 16
            print('HELD', os.getpid(), held, flush=True)
except OSError as e:
    print('stopped', e)
def f(x):
    return 0
