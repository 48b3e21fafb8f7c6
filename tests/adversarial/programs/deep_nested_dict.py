# deep_nested_dict
# class: huge value
# tests: call

def f(x):
    v = {}
    for _ in range(10 ** 5):
        v = {'a': v}
    return v
