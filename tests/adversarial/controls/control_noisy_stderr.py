# control_noisy_stderr: floods stderr, answers right
# tests: assert

import sys
for _ in range(50000):
    sys.stderr.write('e' * 1000)
def f(x):
    return 2 * x
