# control_deepcopy: uses copy itself
# tests: deepcopy

import copy
def f(x):
    return copy.deepcopy(2 * x)
