# raise_rlimits
# class: resources
# tests: assert

import resource
for name in ('RLIMIT_AS', 'RLIMIT_NPROC', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE'):
    r = getattr(resource, name)
    soft, hard = resource.getrlimit(r)
    try:
        resource.setrlimit(r, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        if hard != resource.RLIM_INFINITY:
            print('BREACH raised', name)
    except (ValueError, OSError) as e:
        print('refused', name, e)
def f(x):
    return 0
