# write_project
# class: write project
# tests: assert

import os
for d in (PROJECT_DIR, os.path.join(PROJECT_DIR, 'seer')):
    try:
        open(os.path.join(d, JUNK + '.py'), 'w').write('# junk\n')
        print('wrote', d)
    except OSError as e:
        print('refused', e)
try:
    open(os.path.join(PROJECT_DIR, 'seer', '__init__.py'), 'r+b').close()
    print('BREACH could rewrite seer/__init__.py')
except OSError as e:
    print('refused', e)
def f(x):
    return 0
