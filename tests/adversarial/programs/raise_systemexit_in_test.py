# raise_systemexit_in_test
# class: faking
# tests: assert
# expect: fail error,error

def f(x):
    raise SystemExit(0)
