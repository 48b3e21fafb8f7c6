# huge_return_value
# class: huge value
# tests: call
# expect: fail error,error

def f(x):
    return 'x' * (5 << 20)
