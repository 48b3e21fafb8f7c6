# print_guessed_token
# class: faking
# tests: assert
# expect: fail fail,fail

import secrets
for _ in range(1000):
    print('E', secrets.token_hex(16))
print('D')
print('C 0 pass null')
def f(x):
    return 0
