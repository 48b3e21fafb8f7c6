# tmpfs_many_big_files: tmpfs pages are memory: many files, each under the file-size limit
# class: memory
# tests: assert

import os
held, chunk, n = 0, b'\1' * (4 << 20), 0
for d in ('/dev/shm', '/tmp', '.'):
    while held < 3 * MEMORY_MB:
        try:
            with open(os.path.join(d, f'{JUNK}-{n}'), 'wb') as fh:
                for _ in range(3):  # 12 MB per file: under a per-file size limit
                    fh.write(chunk)
                    fh.flush()
                    held += 4
                    print('HELD', os.getpid(), held, flush=True)
        except OSError as e:
            print('stopped', d, e)
            break
        n += 1
def f(x):
    return 0
