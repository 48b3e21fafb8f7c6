# dev_shm_many_files
# class: fill /dev/shm
# tests: assert

n = 0
try:
    while n < 20000:
        open(f'/dev/shm/{JUNK}-{n}', 'w').write('x' * 100)
        n += 1
except OSError as e:
    print('stopped', n, e)
def f(x):
    return 0
