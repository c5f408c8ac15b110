#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vkbench on vkernel beside vkbench on Linux, in the same QEMU (docs/performance.md).

Four boots, each running every benchmark once (userspace/vkbench):
  - vkernel and Linux under -icount shift=0,sleep=off (one vCPU, fixed virtual RTC): the
    guest TSC counts guest instructions, so the insns figures are deterministic. These
    two run side by side, since host load cannot change them.
  - vkernel and Linux under plain TCG, one after the other: ns figures, wall time for
    reference only (noisy, and TCG flushes its TLB on every CR3 write).
Then the SMP pass (issue 4), unless --no-smp: vkernel and Linux each with -smp 2 under
plain TCG, one after the other, running only SMP_BENCHMARKS: the futex round trip
between threads pinned to CPUs 0 and 1, and a CPU-bound job on one thread and on two
(cpu_job_speedup is their wall-time ratio). Wall time, so noisy; it gets a table of its
own. --smp-icount adds the same pair under -icount with -smp 2: QEMU then runs the
vCPUs one after the other, round robin, so the guest TSC counts the instructions of
both vCPUs and the figure is "instructions executed by the machine per round trip",
waiting included.
vkernel boots build/vkernel.img through tests/integration/vkqemu.py's Guest; Linux boots
Debian's kernel through scripts/bench-linux.sh.

Prints one table (benchmark, vkernel, Linux, ratio vkernel/Linux, unit) and writes it to
build/bench/vkbench.md, with the figures in vkbench.json and each boot's raw output in
vkbench-KERNEL-MODE.txt. The previous vkbench.json is kept as vkbench.previous.json; an
instruction count more than 10% above its previous value is marked REGRESSION. --quick
writes vkbench-quick.* instead, so a trial never becomes the baseline.

Usage: scripts/bench_vkbench.py [--quick] [--no-wall] [--no-linux] [--only NAME...] [--no-smp]
                                 [--smp-only] [--smp-icount]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
from vkqemu import Guest  # noqa: E402
import bench_smoke  # noqa: E402  (parse)

OUT = os.path.join(ROOT, 'build', 'bench')
ICOUNT = ['-icount', 'shift=0,sleep=off', '-rtc', 'base=2024-01-01T00:00:00,clock=vm']
REGRESSION_PERCENT = 10.0
SMP_CPUS = 2
SMP_BENCHMARKS = ['futex_pingpong_cpus', 'futex_pingpong_threads', 'cpu_job']


# vkbench name filters for both kernels (--only): every benchmark when empty.
ONLY = []


def vkernel_start(icount, quick, smp=1, only=()):
    args = ' '.join(a for a in ('--icount' if icount else '', '--quick' if quick else '') if a)
    args = ' '.join([args] + list(only or ONLY))
    cmdline = 'console=serial log=info panic=exit init=/bin/vkbench.vbin ' + args
    return Guest(cmdline=cmdline.strip(), smp=smp, extra=ICOUNT if icount else [])


def vkernel_finish(g, icount):
    """Waits for vkbench to finish and the machine to power off; returns the output."""
    try:
        g.wait_for(r'vkbench: done', timeout=1800 if icount else 600)
        g.wait_exit(timeout=600 if icount else 120)
        return g.text()
    except Exception:
        sys.stderr.write(g.text()[-3000:])
        raise
    finally:
        g.close()


def linux_start(icount, quick, out_path, smp=1, only=()):
    args = [os.path.join(ROOT, 'scripts', 'bench-linux.sh'), '--out', out_path]
    args += ['--icount'] if icount else []
    args += ['--quick'] if quick else []
    only = only or ONLY
    args += ['--smp', str(smp)] if smp != 1 else []
    args += ['--only', ' '.join(only)] if only else []
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)


def linux_finish(proc, out_path):
    if proc.wait() != 0:
        raise RuntimeError('scripts/bench-linux.sh failed (status %d)' % proc.returncode)
    return open(out_path).read()


def run_pair(icount, quick, with_linux, stem, smp=1, only=()):
    """(vkernel output, Linux output or None). Under icount both boots run at once. Each
    output is also kept, as build/bench/STEM-{vkernel,linux}-{icount,tcg}[-smpN].txt."""
    label = ('icount' if icount else 'tcg') + ('-smp%d' % smp if smp != 1 else '')
    linux_out = os.path.join(OUT, '%s-linux-%s.txt' % (stem, label))
    print('vkbench on vkernel%s, %s%s...' % (' and Linux' if with_linux and icount else '',
                                             'under -icount shift=0' if icount else 'plain TCG',
                                             ', -smp %d' % smp if smp != 1 else ''),
          flush=True)
    g = vkernel_start(icount, quick, smp, only)
    linux = linux_start(icount, quick, linux_out, smp, only) if with_linux and icount else None
    try:
        vk_text = vkernel_finish(g, icount)
    except Exception:
        if linux:
            linux.kill()
            linux.wait()
        raise
    with open(os.path.join(OUT, '%s-vkernel-%s.txt' % (stem, label)), 'w') as f:
        f.write(vk_text)
    if with_linux and not icount:
        print('vkbench on Linux, plain TCG%s...' % (', -smp %d' % smp if smp != 1 else ''),
              flush=True)
        linux = linux_start(icount, quick, linux_out, smp, only)
    return vk_text, linux_finish(linux, linux_out) if linux else None


def collect(text, keep_prefix):
    """{'name unit': value} for the figures whose unit starts with keep_prefix, and
    {name: reason} for the n/a lines, from one vkbench output."""
    r = bench_smoke.parse(text or '')
    if text is not None and (not r['done'] or r['bad']):
        raise RuntimeError('vkbench output incomplete or malformed: %r' % r['bad'][:5])
    figures = {}
    for name in r['names']:
        for unit, value in r['figures'].get(name, {}).items():
            if unit.startswith(keep_prefix):
                figures['%s %s' % (name, unit)] = value
    return figures, r['unavailable'], r['names'], r['start']


def fmt(value):
    if value is None:
        return 'n/a'
    return '{:,.1f}'.format(value) if value < 1000 else '{:,.0f}'.format(value)


# The disk pass's figures as throughput (userspace/vkbench/bench_disk.c): benchmark, the
# per-op unit it reports, and what one op is, for the "X per second" columns.
DISK_BENCHMARKS = [('disk_write_64m', 'MiB', 'MiB/s'), ('disk_read_64m', 'MiB', 'MiB/s'),
                   ('disk_rand_read_4k', 'op', 'reads/s'),
                   ('disk_create_small', 'file', 'files/s'),
                   ('disk_list_dir', 'entry', 'entries/s')]


def disk_table(kernels):
    """Markdown lines: each disk benchmark's wall-clock throughput (plain TCG) and insns
    per op (-icount) for vkernel and Linux, or [] when neither kernel ran one."""
    def get(kernel, key):
        return kernels[kernel].get(key)
    lines = ['| disk benchmark | vkernel | Linux | ratio (>1: vkernel faster) | vkernel insns/op | '
             'Linux insns/op |', '|---|---:|---:|---:|---:|---:|']
    any_figure = False
    for name, per, rate in DISK_BENCHMARKS:
        ns = [get(k, '%s ns/%s' % (name, per)) for k in ('vkernel', 'linux')]
        insns = [get(k, '%s insns/%s' % (name, per)) for k in ('vkernel', 'linux')]
        rates = [1e9 / v if v else None for v in ns]
        any_figure = any_figure or any(v is not None for v in ns + insns)
        ratio = '%.2f' % (rates[0] / rates[1]) if rates[0] and rates[1] else '-'
        lines.append('| %s | %s | %s | %s | %s | %s |' % (
            name, *('%s %s' % (fmt(r), rate) if r else 'n/a' for r in rates), ratio,
            *(fmt(v) for v in insns)))
    return lines if any_figure else []


def smp_pass(opts, stem):
    """The SMP benchmarks on -smp 2 (plain TCG, and -icount with --smp-icount): returns
    ({'name unit mode': {kernel: value}}, a markdown table)."""
    figures = {}
    modes = [False] + ([True] if opts.smp_icount else [])
    for icount in modes:
        mode = 'icount' if icount else 'tcg'
        vk_text, linux_text = run_pair(icount, opts.quick, not opts.no_linux, stem,
                                       smp=SMP_CPUS, only=SMP_BENCHMARKS)
        for kernel, text in (('vkernel', vk_text), ('linux', linux_text)):
            if text is None:
                continue
            r = bench_smoke.parse(text)
            for name in r['names']:
                for unit, value in r['figures'].get(name, {}).items():
                    if icount and unit.startswith('ns/'):
                        continue  # virtual time under icount: not wall time
                    figures.setdefault('%s %s %s' % (name, unit, mode), {})[kernel] = value
    lines = ['| benchmark | vkernel | Linux | ratio | unit | mode |', '|---|---:|---:|---:|---|---|']
    for key in sorted(figures, key=lambda k: (k.split(' ')[2], k)):
        name, unit, mode = key.split(' ')
        vk, lx = figures[key].get('vkernel'), figures[key].get('linux')
        ratio = '%.2f' % (vk / lx) if vk and lx else '-'
        show = (lambda v: 'n/a' if v is None else '%.3f' % v) if unit == 'ratio/wall' else fmt
        lines.append('| %s | %s | %s | %s | %s | %s, -smp %d |' % (
            name, show(vk), show(lx), ratio, unit, mode, SMP_CPUS))
    table = '\n'.join(lines)
    print(table)
    return figures, table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='vkbench --quick (a trial run)')
    ap.add_argument('--no-wall', action='store_true', help='skip the plain-TCG boots')
    ap.add_argument('--no-linux', action='store_true', help='skip the Linux boots')
    ap.add_argument('--only', action='append', default=[], metavar='NAME',
                    help='only the benchmarks whose name contains NAME (repeatable), '
                         'e.g. --only disk_ for the disk pass')
    ap.add_argument('--no-smp', action='store_true', help='skip the -smp 2 pass')
    ap.add_argument('--smp-only', action='store_true',
                    help='only the SMP pass; written to vkbench-smp.* (never the baseline)')
    ap.add_argument('--smp-icount', action='store_true',
                    help='add -icount boots with -smp 2 to the SMP pass (slow)')
    opts = ap.parse_args()
    ONLY[:] = opts.only
    os.makedirs(OUT, exist_ok=True)
    # A quick trial run keeps its own files, so it never becomes the "previous" figures.
    stem = 'vkbench-quick' if opts.quick else 'vkbench'
    if opts.smp_only:
        stem += '-smp'

    kernels = {'vkernel': {}, 'linux': {}}
    unavailable = {'vkernel': {}, 'linux': {}}
    order = []
    starts = {}
    vkernel_build = None
    passes = [] if opts.smp_only else [(True, 'insns/')] + ([] if opts.no_wall else [(False, 'ns/')])
    for icount, prefix in passes:
        vk_text, linux_text = run_pair(icount, opts.quick, not opts.no_linux, stem)
        for kernel, text in (('vkernel', vk_text), ('linux', linux_text)):
            if text is None:
                continue
            figures, na, names, start = collect(text, prefix)
            kernels[kernel].update(figures)
            unavailable[kernel].update(na)
            starts['%s %s' % (kernel, 'icount' if icount else 'tcg')] = start
            banner = re.search(r'vkernel \S+ \(build [^)]+\)', text)
            if kernel == 'vkernel' and banner:
                vkernel_build = banner.group(0)
            order += [n for n in names if n not in order]

    # Rows: every benchmark's instruction count, then every wall-time figure.
    rows = []
    for _, prefix in passes:
        for name in order:
            keys = {k for kern in kernels.values() for k in kern}
            rows += sorted(k for k in keys
                           if k.split(' ', 1)[0] == name and k.split(' ', 1)[1].startswith(prefix))

    json_path = os.path.join(OUT, stem + '.json')
    previous = {}
    if os.path.exists(json_path):
        previous = json.load(open(json_path)).get('figures', {})
        os.replace(json_path, os.path.join(OUT, stem + '.previous.json'))

    lines = ['| benchmark | vkernel | Linux | ratio | unit | vkernel vs previous |',
             '|---|---:|---:|---:|---|---|']
    regressions = []
    for key in rows:
        name, unit = key.split(' ', 1)
        vk, lx = kernels['vkernel'].get(key), kernels['linux'].get(key)
        ratio = '%.2f' % (vk / lx) if vk and lx else '-'
        change = ''
        for kernel, value in (('vkernel', vk), ('linux', lx)):
            prev = previous.get(key, {}).get(kernel)
            if value is None or not prev:
                continue
            pct = (value - prev) * 100.0 / prev
            # Instruction counts are deterministic: growth past 10% is a regression.
            regressed = unit.startswith('insns/') and pct > REGRESSION_PERCENT
            if regressed:
                regressions.append('%s %s (%s, %+.1f%%)' % (name, unit, kernel, pct))
            if kernel == 'vkernel':
                change = '%+.1f%%%s' % (pct, ' REGRESSION' if regressed else '')
        lines.append('| %s | %s | %s | %s | %s | %s |' % (name, fmt(vk), fmt(lx), ratio, unit,
                                                         change))
    notes = []
    for kernel, label in (('vkernel', 'vkernel'), ('linux', 'Linux')):
        for name in order:
            if name in unavailable[kernel]:
                notes.append('- %s on %s: n/a, %s' % (name, label, unavailable[kernel][name]))
    table = '\n'.join(lines)
    disk = disk_table(kernels)
    if disk:
        table += '\n\nDisk throughput (plain TCG wall time; insns under -icount include ' \
                 'virtual time the vCPU idled waiting for completions):\n\n' + '\n'.join(disk)
    print(table)
    if notes:
        print('\n'.join(notes))
    smp_figures, smp_table = ({}, '') if opts.no_smp else smp_pass(opts, stem)

    figures = {key: {'vkernel': kernels['vkernel'].get(key), 'linux': kernels['linux'].get(key)}
               for key in rows}
    result = {
        'date': datetime.date.today().isoformat(),
        'quick': opts.quick,
        'qemu': subprocess.run(['qemu-system-x86_64', '--version'], capture_output=True,
                               text=True).stdout.split('\n')[0],
        'vkernel': vkernel_build,
        'runs': starts,
        'figures': figures,
        'unavailable': unavailable,
        'smp': smp_figures,
    }
    with open(json_path, 'w') as f:
        json.dump(result, f, indent=2)
    with open(os.path.join(OUT, stem + '.md'), 'w') as f:
        f.write('# vkbench: vkernel beside Linux\n\n')
        f.write('%s; %s; %s.\n\n' % (result['date'], result['qemu'], vkernel_build))
        for run, start in sorted(starts.items()):
            f.write('- %s: `%s`\n' % (run, start))
        if rows:
            f.write('\n' + table + '\n\n' + '\n'.join(notes) + '\n')
        if smp_table:
            f.write('\n## -smp %d\n\n%s\n' % (SMP_CPUS, smp_table))
    if regressions:
        print('instruction counts up by more than %d%% since the previous run: %s' %
              (REGRESSION_PERCENT, '; '.join(regressions)))
    print('written: %s, %s' % (os.path.relpath(os.path.join(OUT, stem + '.md'), ROOT),
                               os.path.relpath(json_path, ROOT)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
