# inprocess_frames_rewrite_cases: tests whose setup defines a class
# class: frames
# tests: inprocess

import sys
fr = sys._getframe()
while fr is not None:
    for v in list(fr.f_locals.values()):
        if isinstance(v, dict) and isinstance(v.get('cases'), list):
            v['cases'][:] = ['pass'] * len(v['cases'])
    fr = fr.f_back
def f(x):
    return 0
