# SPDX-License-Identifier: MIT
# `make debug`: attach to `./run_qemu.sh --debug` (QEMU paused, gdb server on
# 127.0.0.1:1234). The kernel is linked at its run address, so its symbols need no
# relocation. The firmware runs first: `hbreak kernel_main` then `continue`.
# Run from the repository root (make debug does); the helpers are in vkernel.py.
set confirm off
set pagination off
set disassembly-flavor intel
set backtrace past-main on
source scripts/gdb/vkernel.py
target remote 127.0.0.1:1234
echo vkernel: connected; try 'hbreak kernel_main' or 'vk-break-start hello', then 'continue'\n
echo vkernel: helpers: find-process, vk-tasks, vk-threads, vk-bt, vk-kobj, vk-log, vk-break-start (help <name>)\n
