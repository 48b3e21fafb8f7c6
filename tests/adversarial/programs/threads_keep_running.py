# threads_keep_running
# class: resources
# tests: assert
# expect: fail fail,fail

import threading, time
def spin():
    while True:
        time.sleep(0.01)
threading.Thread(target=spin).start()
def f(x):
    return 0
