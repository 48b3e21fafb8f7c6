# write_sandbox_source
# class: write project
# tests: assert

import os
d = os.path.join(PROJECT_DIR, 'seer', 'sandbox')
try:
    open(os.path.join(d, JUNK + '.py'), 'w').write('# junk\n')
except OSError as e:
    print('refused', e)
for n in ('__init__.py', 'execute.py', 'driver.py'):
    try:
        open(os.path.join(d, n), 'r+b').close()
        print('BREACH could rewrite', n)
    except OSError:
        pass
def f(x):
    return 0
