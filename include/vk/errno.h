/* SPDX-License-Identifier: MIT */
/*
 * Error numbers of the Linux x86-64 ABI (the values of Linux's asm-generic/errno-base.h
 * and asm-generic/errno.h), shared by the kernel and vkernel's own runtime.
 *
 * Kernel functions return 0 or -VK_Exxx; system calls hand the negative value straight
 * back to ring 3, where musl turns it into errno. The VK_ prefix keeps this header usable
 * next to a C library's <errno.h> without redefinition clashes. Values never change: they
 * are part of the user ABI.
 */
#ifndef VK_ERRNO_H
#define VK_ERRNO_H

#define VK_EPERM            1   /* operation not permitted */
#define VK_ENOENT           2   /* no such file or directory */
#define VK_ESRCH            3   /* no such process */
#define VK_EINTR            4   /* interrupted system call */
#define VK_EIO              5   /* I/O error */
#define VK_ENXIO            6   /* no such device or address */
#define VK_E2BIG            7   /* argument list too long */
#define VK_ENOEXEC          8   /* exec format error */
#define VK_EBADF            9   /* bad file number */
#define VK_ECHILD           10  /* no child processes */
#define VK_EAGAIN           11  /* try again */
#define VK_ENOMEM           12  /* out of memory */
#define VK_EACCES           13  /* permission denied */
#define VK_EFAULT           14  /* bad address */
#define VK_ENOTBLK          15  /* block device required */
#define VK_EBUSY            16  /* device or resource busy */
#define VK_EEXIST           17  /* file exists */
#define VK_EXDEV            18  /* cross-device link */
#define VK_ENODEV           19  /* no such device */
#define VK_ENOTDIR          20  /* not a directory */
#define VK_EISDIR           21  /* is a directory */
#define VK_EINVAL           22  /* invalid argument */
#define VK_ENFILE           23  /* file table overflow */
#define VK_EMFILE           24  /* too many open files */
#define VK_ENOTTY           25  /* not a typewriter */
#define VK_ETXTBSY          26  /* text file busy */
#define VK_EFBIG            27  /* file too large */
#define VK_ENOSPC           28  /* no space left on device */
#define VK_ESPIPE           29  /* illegal seek */
#define VK_EROFS            30  /* read-only file system */
#define VK_EMLINK           31  /* too many links */
#define VK_EPIPE            32  /* broken pipe */
#define VK_EDOM             33  /* math argument out of domain */
#define VK_ERANGE           34  /* math result not representable */
#define VK_EDEADLK          35  /* resource deadlock would occur */
#define VK_ENAMETOOLONG     36  /* file name too long */
#define VK_ENOLCK           37  /* no record locks available */
#define VK_ENOSYS           38  /* invalid system call number */
#define VK_ENOTEMPTY        39  /* directory not empty */
#define VK_ELOOP            40  /* too many symbolic links */
/* 41 is unused (Linux's EWOULDBLOCK is EAGAIN). */
#define VK_ENOMSG           42  /* no message of desired type */
#define VK_EIDRM            43  /* identifier removed */
#define VK_ECHRNG           44  /* channel number out of range */
#define VK_EL2NSYNC         45  /* level 2 not synchronized */
#define VK_EL3HLT           46  /* level 3 halted */
#define VK_EL3RST           47  /* level 3 reset */
#define VK_ELNRNG           48  /* link number out of range */
#define VK_EUNATCH          49  /* protocol driver not attached */
#define VK_ENOCSI           50  /* no CSI structure available */
#define VK_EL2HLT           51  /* level 2 halted */
#define VK_EBADE            52  /* invalid exchange */
#define VK_EBADR            53  /* invalid request descriptor */
#define VK_EXFULL           54  /* exchange full */
#define VK_ENOANO           55  /* no anode */
#define VK_EBADRQC          56  /* invalid request code */
#define VK_EBADSLT          57  /* invalid slot */
/* 58 is unused (Linux's EDEADLOCK is EDEADLK on x86). */
#define VK_EBFONT           59  /* bad font file format */
#define VK_ENOSTR           60  /* device not a stream */
#define VK_ENODATA          61  /* no data available */
#define VK_ETIME            62  /* timer expired */
#define VK_ENOSR            63  /* out of streams resources */
#define VK_ENONET           64  /* machine is not on the network */
#define VK_ENOPKG           65  /* package not installed */
#define VK_EREMOTE          66  /* object is remote */
#define VK_ENOLINK          67  /* link has been severed */
#define VK_EADV             68  /* advertise error */
#define VK_ESRMNT           69  /* srmount error */
#define VK_ECOMM            70  /* communication error on send */
#define VK_EPROTO           71  /* protocol error */
#define VK_EMULTIHOP        72  /* multihop attempted */
#define VK_EDOTDOT          73  /* RFS specific error */
#define VK_EBADMSG          74  /* not a data message */
#define VK_EOVERFLOW        75  /* value too large for defined data type */
#define VK_ENOTUNIQ         76  /* name not unique on network */
#define VK_EBADFD           77  /* file descriptor in bad state */
#define VK_EREMCHG          78  /* remote address changed */
#define VK_ELIBACC          79  /* cannot access a needed shared library */
#define VK_ELIBBAD          80  /* accessing a corrupted shared library */
#define VK_ELIBSCN          81  /* .lib section in a.out corrupted */
#define VK_ELIBMAX          82  /* attempting to link in too many shared libraries */
#define VK_ELIBEXEC         83  /* cannot exec a shared library directly */
#define VK_EILSEQ           84  /* illegal byte sequence */
#define VK_ERESTART         85  /* interrupted system call should be restarted */
#define VK_ESTRPIPE         86  /* streams pipe error */
#define VK_EUSERS           87  /* too many users */
#define VK_ENOTSOCK         88  /* socket operation on non-socket */
#define VK_EDESTADDRREQ     89  /* destination address required */
#define VK_EMSGSIZE         90  /* message too long */
#define VK_EPROTOTYPE       91  /* protocol wrong type for socket */
#define VK_ENOPROTOOPT      92  /* protocol not available */
#define VK_EPROTONOSUPPORT  93  /* protocol not supported */
#define VK_ESOCKTNOSUPPORT  94  /* socket type not supported */
#define VK_EOPNOTSUPP       95  /* operation not supported on transport endpoint */
#define VK_EPFNOSUPPORT     96  /* protocol family not supported */
#define VK_EAFNOSUPPORT     97  /* address family not supported by protocol */
#define VK_EADDRINUSE       98  /* address already in use */
#define VK_EADDRNOTAVAIL    99  /* cannot assign requested address */
#define VK_ENETDOWN         100 /* network is down */
#define VK_ENETUNREACH      101 /* network is unreachable */
#define VK_ENETRESET        102 /* network dropped connection because of reset */
#define VK_ECONNABORTED     103 /* software caused connection abort */
#define VK_ECONNRESET       104 /* connection reset by peer */
#define VK_ENOBUFS          105 /* no buffer space available */
#define VK_EISCONN          106 /* transport endpoint is already connected */
#define VK_ENOTCONN         107 /* transport endpoint is not connected */
#define VK_ESHUTDOWN        108 /* cannot send after transport endpoint shutdown */
#define VK_ETOOMANYREFS     109 /* too many references: cannot splice */
#define VK_ETIMEDOUT        110 /* connection timed out */
#define VK_ECONNREFUSED     111 /* connection refused */
#define VK_EHOSTDOWN        112 /* host is down */
#define VK_EHOSTUNREACH     113 /* no route to host */
#define VK_EALREADY         114 /* operation already in progress */
#define VK_EINPROGRESS      115 /* operation now in progress */
#define VK_ESTALE           116 /* stale file handle */
#define VK_EUCLEAN          117 /* structure needs cleaning */
#define VK_ENOTNAM          118 /* not a XENIX named type file */
#define VK_ENAVAIL          119 /* no XENIX semaphores available */
#define VK_EISNAM           120 /* is a named type file */
#define VK_EREMOTEIO        121 /* remote I/O error */
#define VK_EDQUOT           122 /* quota exceeded */
#define VK_ENOMEDIUM        123 /* no medium found */
#define VK_EMEDIUMTYPE      124 /* wrong medium type */
#define VK_ECANCELED        125 /* operation canceled */
#define VK_ENOKEY           126 /* required key not available */
#define VK_EKEYEXPIRED      127 /* key has expired */
#define VK_EKEYREVOKED      128 /* key has been revoked */
#define VK_EKEYREJECTED     129 /* key was rejected by service */
#define VK_EOWNERDEAD       130 /* owner died */
#define VK_ENOTRECOVERABLE  131 /* state not recoverable */
#define VK_ERFKILL          132 /* operation not possible due to RF-kill */
#define VK_EHWPOISON        133 /* memory page has hardware error */

/* Aliases Linux defines with the same value. */
#define VK_EWOULDBLOCK      VK_EAGAIN
#define VK_EDEADLOCK        VK_EDEADLK
#define VK_ENOTSUP          VK_EOPNOTSUPP

/* A system call's return value in [-VK_ERRNO_MAX, -1] is an error (Linux's
 * MAX_ERRNO); anything else is a result. */
#define VK_ERRNO_MAX        4095

#endif
