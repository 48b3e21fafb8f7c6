# control_values_of_every_type: builds values of every builtin type
# tests: call

def f(x):
    v = {'t': (1, 2.5, 'a', b'b', None, True), 's': {1, 2}, 'fs': frozenset({3}), 'c': 1j, 'l': [[]]}
    assert v == {'t': (1, 2.5, 'a', b'b', None, True), 's': {1, 2}, 'fs': frozenset({3}), 'c': 1j, 'l': [[]]}
    return 2 * x
