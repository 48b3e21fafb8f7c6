# patch_harness_modules
# class: faking
# tests: assert
# expect: fail fail,fail

import sys
for name in list(sys.modules):
    m = sys.modules.get(name)
    if name in ('codec', 'driver', 'zygote', 'confine', 'checker') or name.startswith('seer'):
        for a in list(vars(m)):
            if callable(getattr(m, a)):
                setattr(m, a, lambda *x, **k: None)
def f(x):
    return 0
