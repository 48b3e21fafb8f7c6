# tmp_tmpfs_bomb
# class: memory
# tests: assert

import os
held, chunk = 0, b'\1' * (16 << 20)
for d in ('/tmp', '/var/tmp', '/run/lock', '.'):
    try:
        with open(os.path.join(d, JUNK), 'wb') as fh:
            while held < 3 * MEMORY_MB:
                fh.write(chunk)
                fh.flush()
                held += 16
                print('HELD', os.getpid(), held, flush=True)
    except OSError as e:
        print('stopped', d, e)
def f(x):
    return 0
