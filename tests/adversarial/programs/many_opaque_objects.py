# many_opaque_objects
# class: huge value
# tests: call

class O:
    pass
def f(x):
    return [O() for _ in range(10 ** 6)]
