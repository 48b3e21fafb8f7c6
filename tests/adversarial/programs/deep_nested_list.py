# deep_nested_list
# class: huge value
# tests: call

def f(x):
    v = []
    for _ in range(10 ** 6):
        v = [v]
    return v
