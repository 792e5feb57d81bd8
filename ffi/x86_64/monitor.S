# husk-monitor: the parent of a detached container (`husk run -d`), podman's conmon in under 1 KiB of code.
# It copies the container's output into a log and records how the container ended, then runs an exit command.
# No libc: every system call is a raw `syscall`, and all mutable state lives on the stack, so the program is
# one read+execute segment (ffi/elf.ts wraps these bytes into a static ELF executable) and costs a few pages.
#
# Started by the runtime with:
#   fd 3   read end of the container's stdout pipe, or a pty master when the container has a terminal
#   fd 4   read end of the container's stderr pipe, or not open when there is a single stream
#   fd 5   the container's directory (O_RDONLY|O_DIRECTORY)
#   fd 0-2 /dev/null; the monitor leads its own session and the container's first process is its child
#   argv[1]    maximum size of one log file in bytes, decimal (missing, 0 or not a number: never rotate)
#   argv[2..]  optional exit command, execve'd (with the monitor's envp) once the exit is recorded
#
# The log, <dir>/container.log, is a sequence of records (little endian):
#   u64 time (ns since the epoch, CLOCK_REALTIME) | u32 length | u8 stream (1 stdout, 2 stderr) | 3 zero bytes
#   followed by `length` bytes: what one read() returned (at most 64 KiB).
# Before a record that would take a non-empty log past the maximum, container.log becomes container.log.1
# (replacing the older one) and a fresh container.log is opened, so the two files stay below about 2 x max.
# When every stream has ended, the monitor reaps its child and writes <dir>/exit atomically (exit.tmp, then
# renamed): u64 time (ns) | i32 raw wait status (-1 when there was no child to wait for) | u32 0.
# Exit code: that of the exit command; 0 without one; 1 when its execve fails.
        .intel_syntax noprefix
        .text

# System call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
        .set SYS_read, 0
        .set SYS_write, 1
        .set SYS_close, 3
        .set SYS_poll, 7
        .set SYS_lseek, 8
        .set SYS_rt_sigaction, 13
        .set SYS_writev, 20
        .set SYS_nanosleep, 35
        .set SYS_execve, 59
        .set SYS_wait4, 61
        .set SYS_fcntl, 72
        .set SYS_ftruncate, 77
        .set SYS_clock_gettime, 228
        .set SYS_exit_group, 231
        .set SYS_openat, 257
        .set SYS_renameat, 264

        .set EINTR, 4
        .set EAGAIN, 11
        .set DIR_FD, 5
        .set LOG_FLAGS, 0x80441         # O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC
        .set EXIT_FLAGS, 0x80241        # O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC
        .set POLL_EVENTS, 0x11          # POLLIN|POLLHUP
        .set BUF_SIZE, 65536

# The stack frame, addressed from rbp (= rsp after the frame is made; rsp moves only for call/ret).
        .set POLLFDS, 0                 # struct pollfd[2] {i32 fd; i16 events; i16 revents}: stdout, stderr
        .set HEADER, 16                 # the record header; also clock_gettime's timespec, the exit record
        .set IOV, 32                    # struct iovec[2]: the header, then the payload
        .set SCRATCH, 64                # struct sigaction (32 bytes), the wait status, nanosleep's timespec
        .set START_SP, 96               # rsp at entry: argc, argv[], NULL, envp[]
        .set BUF, 128                   # what read() returns
        .set FRAME, BUF + BUF_SIZE

# Registers that live across the whole program (a syscall keeps everything but rax, rcx and r11):
#   r12 the log's descriptor (negative: not open)   r13 the log's size
#   r14 the maximum size (0: never rotate)          r15 the stream being read (1 or 2)
#   rbx the payload length of the record being written

        .globl _start
_start:
        mov rax, rsp
        sub rsp, FRAME
        mov rbp, rsp
        mov [rbp + START_SP], rax

        # An ignored SIGCHLD survives execve and would make the kernel reap the container by itself, losing
        # its status: take the default. SIGHUP (a terminal hanging up) and SIGPIPE must not kill the monitor.
        mov edi, 17                     # SIGCHLD
        xor esi, esi                    # SIG_DFL
        call set_signal
        mov edi, 1                      # SIGHUP
        mov esi, 1                      # SIG_IGN
        call set_signal
        mov edi, 13                     # SIGPIPE
        mov esi, 1
        call set_signal

        # argv[1]: decimal digits up to the first other character.
        xor r14d, r14d
        mov rax, [rbp + START_SP]
        cmp qword ptr [rax], 2
        jb parsed
        mov rsi, [rax + 16]
digit:
        movzx eax, byte ptr [rsi]
        sub eax, '0'
        cmp eax, 9
        ja parsed
        imul r14, r14, 10
        add r14, rax
        inc rsi
        jmp digit
parsed:

        # Watch fd 3 and fd 4 if they are open; poll() skips an entry whose fd is negative.
        mov edi, 3
        lea rdx, [rbp + POLLFDS]
        call watch
        mov edi, 4
        lea rdx, [rbp + POLLFDS + 8]
        call watch

        # Create the log at once, so that a container without output has an (empty) log too.
        call open_log

loop:
        # Both descriptors negative (finished or never open) is the sign bit of their AND.
        mov eax, [rbp + POLLFDS]
        and eax, [rbp + POLLFDS + 8]
        js finished
        mov eax, SYS_poll               # poll(fds, 2, -1): sleep until a stream has data or has ended
        lea rdi, [rbp + POLLFDS]
        mov esi, 2
        mov edx, -1
        syscall
        test rax, rax
        jns polled
        cmp rax, -EINTR
        je loop
        # poll cannot fail with these arguments; should it, wait 100 ms rather than spin.
        mov qword ptr [rbp + SCRATCH], 0
        mov qword ptr [rbp + SCRATCH + 8], 100000000
        mov eax, SYS_nanosleep
        lea rdi, [rbp + SCRATCH]
        xor esi, esi
        syscall
        jmp loop
polled:
        # stdout first, then stderr: records follow the order of the reads.
        mov r15d, 1
        cmp word ptr [rbp + POLLFDS + 6], 0
        je 1f
        call service
1:
        mov r15d, 2
        cmp word ptr [rbp + POLLFDS + 14], 0
        je loop
        call service
        jmp loop

finished:
        # Every stream has ended; the container has exited, or is about to. Reap it.
        mov eax, SYS_wait4              # wait4(-1, &status, __WALL, NULL)
        mov rdi, -1
        lea rsi, [rbp + SCRATCH]
        mov edx, 0x40000000
        xor r10d, r10d
        syscall
        cmp rax, -EINTR
        je finished
        test rax, rax
        jns reaped
        mov dword ptr [rbp + SCRATCH], -1   # ECHILD: no child to wait for, the status is unknown
reaped:
        call now
        mov [rbp + HEADER], rax
        mov eax, [rbp + SCRATCH]
        mov [rbp + HEADER + 8], eax
        mov dword ptr [rbp + HEADER + 12], 0

        # The exit record appears whole or not at all: write exit.tmp, then rename it over `exit`.
        mov eax, SYS_openat
        mov edi, DIR_FD
        lea rsi, [rip + exit_tmp_name]
        mov edx, EXIT_FLAGS
        mov r10d, 0644
        syscall
        test rax, rax
        js recorded
        mov rbx, rax
        mov rdi, rax                    # write(fd, record, 16)
        mov eax, SYS_write
        lea rsi, [rbp + HEADER]
        mov edx, 16
        syscall
        mov r15, rax
        mov eax, SYS_close
        mov rdi, rbx
        syscall
        cmp r15, 16                     # a short record is left as exit.tmp, never published
        jne recorded
        mov eax, SYS_renameat
        mov edi, DIR_FD
        lea rsi, [rip + exit_tmp_name]
        mov edx, DIR_FD
        lea r10, [rip + exit_name]
        syscall
recorded:

        # The exit command starts clean: no descriptor beyond 0-2 (the streams were closed as they ended, the
        # log is close-on-exec) and default SIGHUP and SIGPIPE (ignored dispositions survive execve).
        mov eax, SYS_close
        mov edi, DIR_FD
        syscall
        mov edi, 1                      # SIGHUP
        xor esi, esi                    # SIG_DFL
        call set_signal
        mov edi, 13                     # SIGPIPE
        xor esi, esi
        call set_signal

        mov rbx, [rbp + START_SP]
        xor edi, edi
        mov rax, [rbx]                  # argc
        cmp rax, 2
        jbe exit
        lea rsi, [rbx + 24]             # execve(argv[2], &argv[2], envp), envp = &argv[argc + 1]
        mov rdi, [rsi]
        lea rdx, [rbx + rax * 8 + 16]
        mov eax, SYS_execve
        syscall
        mov edi, 1                      # execve failed
exit:
        mov eax, SYS_exit_group
        syscall

# service: reads stream r15 (1 or 2) once and logs what came. A read of 0 (end of file) or an error
# (EIO from a pty master whose last slave closed, EBADF...) ends the stream: its descriptor is closed and its
# poll entry disabled. EINTR and EAGAIN (a spurious wakeup on a non-blocking descriptor) just poll again.
service:
        xor eax, eax                    # read(fd, buf, 64 KiB)
        movsxd rdi, dword ptr [rbp + r15 * 8 + POLLFDS - 8]
        lea rsi, [rbp + BUF]
        mov edx, BUF_SIZE
        syscall
        test rax, rax
        jg record
        cmp rax, -EINTR
        je 1f
        cmp rax, -EAGAIN
        je 1f
        mov dword ptr [rbp + r15 * 8 + POLLFDS - 8], -1
        mov eax, SYS_close
        syscall                         # rdi is still the descriptor
1:
        ret

# record: writes rax bytes of BUF read from stream r15 as one record.
record:
        mov rbx, rax
        call now
        mov [rbp + HEADER], rax
        mov [rbp + HEADER + 8], ebx
        mov [rbp + HEADER + 12], r15d   # the stream byte, then 3 zero bytes
        lea rax, [rbp + HEADER]
        mov [rbp + IOV], rax
        mov qword ptr [rbp + IOV + 8], 16
        lea rax, [rbp + BUF]
        mov [rbp + IOV + 16], rax
        mov [rbp + IOV + 24], rbx

        # Not open (it failed before, e.g. on a full disk)? Try again; without a log the output is dropped,
        # but still read, so that the container never blocks on a full pipe.
        test r12, r12
        jns 1f
        call open_log
        test r12, r12
        js 3f
1:
        # Rotate when this record would take a non-empty log past the maximum.
        test r14, r14
        jz 2f
        test r13, r13
        jz 2f
        lea rax, [r13 + rbx + 16]
        cmp rax, r14
        jbe 2f
        mov eax, SYS_renameat           # renameat(5, "container.log", 5, "container.log.1")
        mov edi, DIR_FD
        lea rsi, [rip + log_name]
        mov edx, DIR_FD
        lea r10, [rip + old_log_name]
        syscall
        test rax, rax                   # could not rename: keep appending rather than reopen the same file
        jnz 2f
        mov eax, SYS_close
        mov rdi, r12
        syscall
        call open_log
        test r12, r12
        js 3f
2:
        mov eax, SYS_writev             # writev(log, iov, 2): header and payload in one write
        mov rdi, r12
        lea rsi, [rbp + IOV]
        mov edx, 2
        syscall
        lea rcx, [rbx + 16]
        cmp rax, rcx
        jne 4f
        add r13, rax
3:
        ret
4:
        # A short or failed write (no space left) would leave half a record that spoils all the rest:
        # cut the log back to its last whole record.
        mov eax, SYS_ftruncate
        mov rdi, r12
        mov rsi, r13
        syscall
        ret

# open_log: opens container.log for appending into r12 and its size into r13 (r12 negative on failure).
open_log:
        mov eax, SYS_openat             # openat(5, "container.log", LOG_FLAGS, 0640)
        mov edi, DIR_FD
        lea rsi, [rip + log_name]
        mov edx, LOG_FLAGS
        mov r10d, 0640
        syscall
        mov r12, rax
        xor r13d, r13d
        test rax, rax
        js 1f
        mov rdi, rax                    # lseek(fd, 0, SEEK_END): the size of what is already there
        mov eax, SYS_lseek
        xor esi, esi
        mov edx, 2
        syscall
        test rax, rax
        js 1f
        mov r13, rax
1:
        ret

# now: rax = CLOCK_REALTIME in ns since the epoch (the raw syscall: there is no vDSO lookup without libc).
now:
        mov eax, SYS_clock_gettime
        xor edi, edi                    # CLOCK_REALTIME
        lea rsi, [rbp + HEADER]
        syscall
        imul rax, qword ptr [rbp + HEADER], 1000000000
        add rax, [rbp + HEADER + 8]
        ret

# watch: makes the poll entry at rdx watch fd edi when it is open (fcntl F_GETFD succeeds), else disables it.
watch:
        mov eax, SYS_fcntl
        mov esi, 1                      # F_GETFD
        syscall
        test rax, rax
        jns 1f
        mov edi, -1
1:
        mov [rdx], edi
        mov word ptr [rdx + 4], POLL_EVENTS
        mov word ptr [rdx + 6], 0
        ret

# set_signal: rt_sigaction(edi, {handler = rsi, flags 0, empty mask}, NULL, 8).
set_signal:
        mov [rbp + SCRATCH], rsi
        xor eax, eax
        mov [rbp + SCRATCH + 8], rax
        mov [rbp + SCRATCH + 16], rax
        mov [rbp + SCRATCH + 24], rax
        mov eax, SYS_rt_sigaction
        lea rsi, [rbp + SCRATCH]
        xor edx, edx
        mov r10d, 8
        syscall
        ret

log_name:
        .asciz "container.log"
old_log_name:
        .asciz "container.log.1"
exit_tmp_name:
        .asciz "exit.tmp"
exit_name:
        .asciz "exit"
