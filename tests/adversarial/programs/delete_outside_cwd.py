# delete_outside_cwd
# class: host
# tests: assert
# expect: fail fail,fail

import os, shutil
acts = []
for target in (SENTINEL, OWN_SENTINEL):
    acts += [lambda t=target: os.remove(t), lambda t=target: shutil.rmtree(os.path.dirname(t)),
             lambda t=target: os.chmod(t, 0o777), lambda t=target: open(t, 'w').write('owned'),
             lambda t=target: os.rename(t, t + '.x')]
for act in acts:
    try:
        act()
        print('BREACH', act)
    except OSError as e:
        print('refused', e)
def f(x):
    return 0
