# SPDX-License-Identifier: MIT
# `make debug`: attach to `./run_qemu.sh --debug` (QEMU paused, gdb server on
# 127.0.0.1:1234). The kernel is linked at its run address, so its symbols need no
# relocation. The firmware runs first: `break kernel_main` then `continue`.
set confirm off
set pagination off
set disassembly-flavor intel
target remote 127.0.0.1:1234
echo vkernel: connected; try 'hbreak kernel_main' and 'continue'\n
