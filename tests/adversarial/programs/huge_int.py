# huge_int
# class: huge value
# tests: call

def f(x):
    return 1 << (8 * 10 ** 7)
