# control_threads_left_running: leaves a thread running
# tests: assert

import threading, time
def spin():
    while True:
        time.sleep(0.01)
threading.Thread(target=spin).start()
def f(x):
    return 2 * x
