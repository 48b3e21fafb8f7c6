# infinite_loop
# class: resources
# tests: assert
# expect: timeout

while True:
    pass
