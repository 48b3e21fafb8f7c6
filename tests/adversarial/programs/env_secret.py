# env_secret
# class: host
# tests: assert
# expect: fail fail,fail

import os
print(sorted(os.environ.items()))
for p in ('/proc/self/environ', '/proc/1/environ'):
    try:
        print(p, open(p, 'rb').read())
    except OSError as e:
        print(p, e)
def f(x):
    return 0
