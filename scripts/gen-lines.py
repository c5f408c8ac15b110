#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds the line-table bundle the kernel reads for file:line in crash reports.

Usage: gen-lines.py OUT NAME=ELF[@SYMBOL] [NAME=ELF[@SYMBOL] ...]

Reads each ELF's DWARF line program through `llvm-dwarfdump --debug-line` and writes one
text file with a section per image (format in src/lib/linemap.h):

    VKLINES 1
    =vkernel.elf                 a section: the image's name
    !panic_set_line_table ffffffff8001e2c0   with @SYMBOL: where it is in this build
    @1 kernel/core/panic.c       file 1 of this section (paths relative to the repo)
    ffffffff80001000 41 1        a row: address delta (hex), line, file (when it changes)
    1c 42
    ...

Rows are sorted by address; each row's address is the previous row's plus the delta
(the first row of a section starts from 0). A row covers the addresses up to the next
row; line 0 marks a gap (code without line information, or the end of a sequence).

Only sequences that start inside an executable section are kept: the linker points the
line programs of discarded functions at address 0. Consecutive rows with the same file
and line are merged and columns are dropped, which is what keeps the table compact.
"""
import os
import re
import struct
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
ROW = re.compile(r'^0x([0-9a-f]+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+\d+(?:\s+\d+)?\s*(.*)$')
INCLUDE_DIR = re.compile(r'^include_directories\[\s*(\d+)\] = "(.*)"$')
FILE_ENTRY = re.compile(r'^file_names\[\s*(\d+)\]:$')
FILE_NAME = re.compile(r'^\s+name: "(.*)"$')
FILE_DIR = re.compile(r'^\s+dir_index: (\d+)$')
SHF_EXECINSTR = 0x4


def exec_ranges(path):
    """[start, end) of every executable section of a 64-bit little-endian ELF."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        raise SystemExit('gen-lines: %s is not a 64-bit ELF' % path)
    shoff, = struct.unpack_from('<Q', data, 0x28)
    shentsize, shnum = struct.unpack_from('<HH', data, 0x3a)
    out = []
    for i in range(shnum):
        _, _, flags, addr, _, size = struct.unpack_from('<IIQQQQ', data, shoff + i * shentsize)
        if flags & SHF_EXECINSTR and size:
            out.append((addr, addr + size))
    return out


def display_path(dirs, dir_index, name):
    """A file's path, relative to the repository when it lies inside it."""
    base = dirs[0] if dirs else ''
    d = dirs[dir_index] if dir_index < len(dirs) else ''
    path = name
    if not os.path.isabs(path):
        path = os.path.join(d, path)
        if not os.path.isabs(path):
            path = os.path.join(base, path)
    path = os.path.normpath(path)
    for top in (ROOT, os.path.normpath(base)):
        if os.path.isabs(top) and path.startswith(top + os.sep):
            return path[len(top) + 1:]
    return path


def read_sequences(elf):
    """Yields (files, rows) per line-program sequence; rows are (addr, file, line, end)."""
    text = subprocess.run(['llvm-dwarfdump', '--debug-line', elf], check=True,
                          capture_output=True, text=True).stdout
    dirs, files = [], {}
    entry = None
    rows = []
    for line in text.splitlines():
        if line.startswith('Line table prologue:'):
            dirs, files, entry = [], {}, None
            continue
        m = INCLUDE_DIR.match(line)
        if m:
            dirs.append(m.group(2))
            continue
        m = FILE_ENTRY.match(line)
        if m:
            entry = [int(m.group(1)), None, 0]
            continue
        if entry is not None:
            m = FILE_NAME.match(line)
            if m:
                entry[1] = m.group(1)
                continue
            m = FILE_DIR.match(line)
            if m:
                entry[2] = int(m.group(1))
                files[entry[0]] = display_path(dirs, entry[2], entry[1])
                entry = None
                continue
        m = ROW.match(line)
        if m:
            addr, ln, fidx = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
            end = 'end_sequence' in m.group(4)
            rows.append((addr, files.get(fidx, '?'), ln, end))
            if end:
                yield rows
                rows = []


def image_rows(elf):
    """The merged, sorted rows of one image: (addr, path or None, line)."""
    ranges = exec_ranges(elf)
    spans = []
    for seq in read_sequences(elf):
        start = seq[0][0]
        if not any(lo <= start < hi for lo, hi in ranges):
            continue  # a discarded function's sequence
        spans.append(seq)
    spans.sort(key=lambda s: s[0][0])
    rows = []
    for seq in spans:
        for addr, path, ln, end in seq:
            entry = (addr, None, 0) if end or ln == 0 else (addr, path, ln)
            # At one address the last row wins (it describes the instruction there).
            while rows and rows[-1][0] >= addr:
                rows.pop()
            rows.append(entry)
    merged = []
    for r in rows:
        if merged and merged[-1][1:] == r[1:]:
            continue
        if r[2] == 0 and not merged:
            continue
        merged.append(r)
    return merged


def symbol_address(elf, symbol):
    out = subprocess.run(['llvm-nm', '--defined-only', elf], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] == symbol:
            return int(fields[0], 16)
    raise SystemExit('gen-lines: %s has no symbol %s' % (elf, symbol))


def section(name, elf, stamp=None):
    rows = image_rows(elf)
    index = {}
    for _, path, _ in rows:
        if path is not None and path not in index:
            index[path] = len(index) + 1
    out = ['=%s' % name]
    if stamp:
        out.append('!%s %x' % (stamp, symbol_address(elf, stamp)))
    out += ['@%d %s' % (i, p) for p, i in index.items()]
    prev_addr, prev_file = 0, None
    for addr, path, ln in rows:
        fields = ['%x' % (addr - prev_addr), '%d' % ln]
        if path is not None and index[path] != prev_file:
            fields.append('%d' % index[path])
            prev_file = index[path]
        out.append(' '.join(fields))
        prev_addr = addr
    return out


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    lines = ['VKLINES 1']
    for spec in argv[1:]:
        name, _, elf = spec.partition('=')
        elf, _, stamp = elf.partition('@')
        if not name or not elf or '\n' in name:
            raise SystemExit('gen-lines: bad argument %r (NAME=ELF[@SYMBOL])' % spec)
        lines += section(name, elf, stamp)
    tmp = argv[0] + '.tmp'
    with open(tmp, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    os.replace(tmp, argv[0])


if __name__ == '__main__':
    main(sys.argv[1:])
