# stdout_flood
# class: resources
# tests: assert
# expect: timeout

while True:
    print('x' * 1000)
