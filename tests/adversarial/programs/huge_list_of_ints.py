# huge_list_of_ints
# class: huge value
# tests: call

def f(x):
    return list(range(3 * 10 ** 6))
