# junk_in_shared_dirs
# class: host
# tests: assert
# expect: fail fail,fail

import os
for d in ('/tmp', '/var/tmp', '/dev/shm', '/run/lock'):
    try:
        open(os.path.join(d, JUNK), 'w').write('junk')
    except OSError as e:
        print(d, e)
def f(x):
    return 0
