#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the node table in docs/kobj.md from the KObj tables in kernel/ (every
kobj_node_t initializer with a .path), so each node's own description is its
documentation. With --check, exits 1 if docs/kobj.md is stale (make test runs that)."""
import glob
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))
BEGIN, END = '<!-- kobj-nodes:begin -->', '<!-- kobj-nodes:end -->'
TYPES = {'KOBJ_DIR': 'dir', 'KOBJ_INT': 'int', 'KOBJ_UINT': 'uint', 'KOBJ_BOOL': 'bool',
         'KOBJ_STRING': 'string', 'KOBJ_ENUM': 'enum', 'KOBJ_BYTES': 'bytes',
         'KOBJ_ACTION': 'action'}


def expand_macros(text):
    """Expands one-level field macros (#define NAME(args) { .path = ... }) in place."""
    macros = {}
    for m in re.finditer(r'#define (\w+)\(([^)]*)\)\s*\\\n((?:.*\\\n)*.*\n)', text):
        body = re.sub(r'\\\n', ' ', m.group(3))
        macros[m.group(1)] = ([a.strip() for a in m.group(2).split(',')], body)
    for name, (params, body) in macros.items():
        def repl(call, params=params, body=body):
            args = split_args(call.group(1))
            out = body
            for p, a in zip(params, args):
                out = re.sub(r'\b%s\b' % re.escape(p), lambda _: a, out)
            return out.replace('" "', '')
        text = re.sub(r'^\s*%s\(((?:[^()]|\([^()]*\))*)\)' % name, repl, text, flags=re.M)
    return text


def split_args(s):
    args, depth, cur, quote = [], 0, '', False
    for c in s:
        if c == '"':
            quote = not quote
        if not quote and c == '(':
            depth += 1
        if not quote and c == ')':
            depth -= 1
        if c == ',' and depth == 0 and not quote:
            args.append(cur.strip())
            cur = ''
        else:
            cur += c
    args.append(cur.strip())
    return args


def nodes():
    found = []
    for path in sorted(glob.glob(os.path.join(ROOT, 'kernel', '**', '*.c'), recursive=True)):
        if path.endswith('_test.c'):
            continue
        text = expand_macros(open(path).read())
        for m in re.finditer(r'\{\s*\.path = "([^"]+)"(.*?)\}', text, re.S):
            if m.group(1).endswith('/'):
                continue  # a field macro's own definition, expanded at its uses
            body = m.group(2)
            def get(field, default=''):
                f = re.search(r'\.%s = ((?:"(?:[^"\\]|\\.)*"\s*)+|[\w|() ]+)' % field, body)
                if not f:
                    return default
                v = f.group(1).strip()
                if v.startswith('"'):
                    return ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', v))
                return v
            # Tables use KOBJ_* flags or the local shorthands R and RV.
            access = re.sub(r'\bRV\b', 'KOBJ_READ|KOBJ_VOLATILE', get('access'))
            access = re.sub(r'\bR\b', 'KOBJ_READ', access)
            acc = ''.join(c for c, k in (('r', 'KOBJ_READ'), ('w', 'KOBJ_WRITE'),
                                         ('v', 'KOBJ_VOLATILE')) if k in access)
            unit = get('unit')
            found.append((m.group(1), TYPES.get(get('type'), '?'), acc,
                          '' if unit == 'NULL' else unit, get('description')))
    return sorted(found)


def table():
    rows = ['| path | type | access | unit | description |', '|---|---|---|---|---|']
    for path, typ, acc, unit, desc in nodes():
        rows.append('| `%s` | %s | %s | %s | %s |' % (path, typ, acc, unit, desc.replace('|', '\\|')))
    rows.append('')
    rows.append('%d nodes. `*` stands for each child of a dynamic directory; access: r read, '
                'w write, v volatile.' % (len(rows) - 2))
    return '\n'.join(rows)


def main():
    path = os.path.join(ROOT, 'docs', 'kobj.md')
    doc = open(path).read()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    new = doc[:start] + '\n' + table() + '\n' + doc[end:]
    if '--check' in sys.argv:
        if new != doc:
            print('docs/kobj.md is stale: run scripts/gen-kobj-doc.py')
            return 1
        print('kobj-doc: 1 passed, 0 failed')
        return 0
    open(path, 'w').write(new)
    return 0


if __name__ == '__main__':
    sys.exit(main())
