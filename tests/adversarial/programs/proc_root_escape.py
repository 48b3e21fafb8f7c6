# proc_root_escape: another process's root (/proc/<pid>/root) may be the host's
# class: host files
# tests: secret_file

import json, os
def f():
    for pid in [d for d in os.listdir('/proc') if d.isdigit()] + ['self', 'thread-self']:
        for p in BENCH_FILES:
            try:
                return json.loads(open(f'/proc/{pid}/root{p}').readline())['expected_output']
            except (OSError, ValueError, KeyError):
                pass
    return None
