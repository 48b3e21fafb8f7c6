# control_scratch_files_and_fork: writes scratch files and forks a child that exits
# tests: call

import os
open('scratch.txt', 'w').write('x' * 1000)
for d in ('/tmp', os.environ.get('TMPDIR', '.')):
    try:
        open(os.path.join(d, 'seer-scratch'), 'w').write('y')
    except OSError:
        pass
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
def f(x):
    return len(open('scratch.txt').read()) // 500 * x
