# write_home
# class: write home
# tests: assert

import os
for d in (HOME_DIR, os.path.expanduser('~')):  # the host user's home; the run's own (private)
    try:
        open(os.path.join(d, JUNK), 'w').write('junk')
        print('wrote', d)
    except OSError as e:
        print('refused', e)
for rc in ('.bashrc', '.profile'):
    try:
        os.close(os.open(os.path.join(HOME_DIR, rc), os.O_WRONLY | os.O_APPEND))
        print('BREACH could append to', os.path.join(HOME_DIR, rc))
    except OSError:
        pass
def f(x):
    return 0
