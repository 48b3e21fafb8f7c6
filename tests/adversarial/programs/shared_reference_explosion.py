# shared_reference_explosion
# class: huge value
# tests: call

def f(x):
    v = [0]
    for _ in range(40):
        v = [v, v]  # 2**40 leaves, a few dozen objects
    return v
