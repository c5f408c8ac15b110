# SPDX-License-Identifier: MIT
"""vkbench smoke test, and the parser for vkbench's output (scripts/bench_vkbench.py uses
it too).

The smoke test boots vkernel with init=/bin/vkbench.vbin --quick in test mode and checks
the output's shape only: every benchmark line parses, every figure is positive, the
benchmarks vkernel already supports give numbers, and init exits 0. It never checks a
timing: speed is measured by `make bench`, not asserted by tests.

Wiring (tests/integration/run.py):
    import bench_smoke
    def vkbench_smoke():
        bench_smoke.run(check, Guest, qemu_exit_status)

Standalone: python3 tests/integration/bench_smoke.py
"""
import re

# What vkbench prints between its start and done lines (userspace/vkbench/vkbench.c):
#   NAME VALUE UNIT      a figure, VALUE a positive decimal, UNIT like insns/op, ns/page
#   NAME n/a REASON      the benchmark could not run here
#   cpu_job_speedup R ratio/wall   a wall-time ratio of two figures, no ns/ or tsc unit
FIGURE = re.compile(r'^([a-z][a-z0-9_]*) ([0-9]+(?:\.[0-9]+)?) ([a-z]+/[A-Za-z]+)$')
UNAVAILABLE = re.compile(r'^([a-z][a-z0-9_]*) n/a (\S.*)$')
START = re.compile(r'^vkbench: start.*$', re.M)
DONE = re.compile(r'^vkbench: done$', re.M)

EXIT_INIT_OK = 0x20  # init exited with status 0 (kernel/core/main.c run_init)
MUST_MEASURE = ('getpid', 'mmap_munmap_1m', 'mmap_munmap_4k', 'page_fault')


def parse(text):
    """vkbench output (serial text; kernel log lines, which start with '[', are skipped)
    as a dict: figures {name: {unit: value}}, unavailable {name: reason}, names in
    order, bad (lines that are neither), start (the start line or None), done (bool)."""
    text = text.replace('\r', '')
    result = {'figures': {}, 'unavailable': {}, 'names': [], 'bad': [], 'start': None,
              'done': False}
    start = START.search(text)
    if not start:
        return result
    result['start'] = start.group(0)
    done = DONE.search(text, start.end())
    result['done'] = done is not None
    body = text[start.end():done.start() if done else len(text)]
    for line in body.split('\n'):
        if not line.strip() or line.startswith('['):
            continue
        m = FIGURE.match(line)
        if m:
            name, value, unit = m.group(1), float(m.group(2)), m.group(3)
            result['figures'].setdefault(name, {})[unit] = value
        else:
            m = UNAVAILABLE.match(line)
            if not m:
                result['bad'].append(line)
                continue
            name = m.group(1)
            result['unavailable'][name] = m.group(2)
        if name not in result['names']:
            result['names'].append(name)
    return result


def run(check, Guest, qemu_exit_status):
    """One quick vkbench boot on vkernel; each property is a check of its own."""
    try:
        g = Guest(cmdline='console=serial test=user init=/bin/vkbench.vbin --quick', smp=1)
    except Exception as e:  # QEMU or the image missing: a failure, never a skip
        check('vkbench_smoke', False, str(e))
        return False
    ok = True
    try:
        status = g.wait_exit(timeout=300)
        out = g.text()
        r = parse(out)
        results = [
            ('vkbench.started', r['start'] is not None, 'no "vkbench: start" line'),
            ('vkbench.done_line', r['done'], 'no "vkbench: done" line'),
            ('vkbench.lines_parse', r['names'] and not r['bad'],
             'unparsable: %r' % r['bad'][:5]),
            ('vkbench.values_positive',
             all(v > 0 for units in r['figures'].values() for v in units.values()),
             repr({n: u for n, u in r['figures'].items() if min(u.values()) <= 0})),
            ('vkbench.tsc_and_ns_per_figure',
             all(len(u) == 2 and any(k.startswith('ns/') for k in u)
                 for u in r['figures'].values() if 'ratio/wall' not in u),
             repr(r['figures'])),
            ('vkbench.reported_once_each',
             not set(r['figures']) & set(r['unavailable']),
             'both a figure and n/a: %s' % sorted(set(r['figures']) & set(r['unavailable']))),
        ]
        for name in MUST_MEASURE:
            results.append(('vkbench.%s_measured' % name, name in r['figures'],
                            r['unavailable'].get(name, 'no line')))
        results.append(('vkbench.exit_status_zero', status == qemu_exit_status(EXIT_INIT_OK),
                        'QEMU status %s' % status))
        results.append(('vkbench.kernel_survived', 'PANIC' not in out, 'PANIC in the output'))
        for name, passed, detail in results:
            check(name, passed, detail)
            ok = ok and bool(passed)
        if not ok:
            print('  --- last serial output ---')
            for line in out.splitlines()[-50:]:
                print('  | ' + line)
    except Exception as e:  # BootError: a failure, never a skip
        check('vkbench_smoke', False, str(e))
        ok = False
    finally:
        g.close()
    return ok


if __name__ == '__main__':
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from vkqemu import Guest as _Guest, qemu_exit_status as _status

    def _check(name, passed, detail=''):
        print('%s %s%s' % ('PASS' if passed else 'FAIL', name,
                           '' if passed or not detail else ': ' + detail), flush=True)

    sys.exit(0 if run(_check, _Guest, _status) else 1)
