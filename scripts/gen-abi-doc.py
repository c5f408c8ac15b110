#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the syscall table in docs/abi.md from include/vk/syscall.h and the
sys_NAME handlers defined under kernel/. With --check, exits 1 if docs/abi.md is stale
(make test runs that, so the table cannot drift from the code)."""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BEGIN, END = '<!-- syscalls:begin -->', '<!-- syscalls:end -->'


def table():
    header = open(os.path.join(ROOT, 'include', 'vk', 'syscall.h')).read()
    entries = re.findall(r'X\((\w+), (0x[0-9a-fA-F]+|\d+)\)', header)
    defined = set()
    for path in glob.glob(os.path.join(ROOT, 'kernel', '**', '*.c'), recursive=True):
        defined |= set(re.findall(r'^long sys_(\w+)\(const syscall_args_t', open(path).read(), re.M))
    rows = ['| number | name | status |', '|---:|---|---|']
    for name, nr in entries:
        status = 'implemented' if name in defined else '-ENOSYS (counted, logged once)'
        rows.append('| %s | %s | %s |' % (nr, name, status))
    done = sum(1 for n, _ in entries if n in defined)
    rows.append('')
    rows.append('%d of %d listed calls implemented; numbers not listed return -ENOSYS too.' %
                (done, len(entries)))
    return '\n'.join(rows)


def main():
    path = os.path.join(ROOT, 'docs', 'abi.md')
    doc = open(path).read()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    new = doc[:start] + '\n' + table() + '\n' + doc[end:]
    if '--check' in sys.argv:
        if new != doc:
            print('docs/abi.md is stale: run scripts/gen-abi-doc.py')
            return 1
        print('abi-doc: 1 passed, 0 failed')
        return 0
    open(path, 'w').write(new)
    return 0


if __name__ == '__main__':
    sys.exit(main())
