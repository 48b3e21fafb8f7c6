# patch_copy_deepcopy
# class: patched stdlib
# tests: deepcopy

import copy
copy.deepcopy = lambda v, memo=None, _nil=[]: v * 2
def f(x):
    return x
