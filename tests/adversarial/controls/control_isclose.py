# control_isclose: uses math itself
# tests: isclose

import math
def f(x):
    return math.fsum([x, x])
