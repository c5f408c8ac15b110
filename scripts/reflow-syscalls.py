#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Adds Linux syscalls to VK_SYSCALLS_LINUX in include/vk/syscall.h, in number order,
# and reflows the list in its usual layout:  scripts/reflow-syscalls.py NAME=NR ...
import re,sys
p='include/vk/syscall.h'
s=open(p).read()
add=[(n,int(v,0)) for n,v in (a.split('=') for a in sys.argv[1:])]
m=re.search(r'#define VK_SYSCALLS_LINUX\(X\)\s*\\\n(.*?)\n\n',s,re.S)
body=m.group(1)
items=[(n,int(v,0)) for n,v in re.findall(r'X\((\w+), (\w+)\)',body)]
names={n for n,_ in items}
for n,v in add:
    if n not in names: items.append((n,v))
items.sort(key=lambda x:x[1])
lines=[];cur='   '
for n,v in items:
    tok=' X(%s, %d)'%(n,v)
    if len(cur)+len(tok)>88:
        lines.append(cur); cur='   '
    cur+=tok
lines.append(cur)
out='#define VK_SYSCALLS_LINUX(X)'.ljust(90)+'\\\n'
out+='\n'.join(l.ljust(90)+'\\' if i<len(lines)-1 else l for i,l in enumerate(lines))
s=s[:m.start()]+out+'\n\n'+s[m.end():]
open(p,'w').write(s)
