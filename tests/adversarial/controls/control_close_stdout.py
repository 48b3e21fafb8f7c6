# control_close_stdout: closes its output streams
# tests: assert

import os, sys
sys.stdout.close()
os.close(1)
os.close(2)
def f(x):
    return 2 * x
