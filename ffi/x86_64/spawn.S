# Three routines for x86_64. raw_syscall (offset 0) makes one system call and returns its raw result
# (-errno on failure), which a call made from a worker thread needs: errno is per thread.
#
#   long raw_syscall(long nr, long a0, long a1, long a2, long a3, long a4);
#
# run_steps (after husk_spawn) makes a list of system calls on the calling thread, in one call from
# JavaScript (a worker thread's: the files of a layer are created a batch at a time). Steps are those of
# husk_spawn's list below; it passes arg[0] to arg[4], writes each call's raw result into the step's arg[5],
# and knows flags 2 (SAVE) and 4 (USE_SAVED). It stops at the first call that fails (-errno) and returns its
# index; after the last step it returns the count.
#
#   u64 run_steps(struct step *steps, u64 count);      System V ABI: rdi = steps, rsi = count
#
# husk_spawn (offset 32) is the container start routine: clone, then run a list of raw syscalls, with no
# libc, Rust or JavaScript code in the child (see the README's "How a container starts").
#
#   long husk_spawn(const struct plan *plan);          System V ABI: rdi = plan
#   struct plan { u64 clone_flags; const struct step *steps; u64 count; u64 err_fd; void *stack; };
#   struct step { u64 nr; u64 arg[6]; u32 flags; s32 ok_errno; };    64 bytes
#
# With CLONE_VM in clone_flags, the child shares the parent's memory (no page tables to copy, no
# copy-on-write faults in the parent) and runs on `stack`, which must have 64 bytes above it; the caller keeps
# the plan alive until the child has called execve or exited. Without CLONE_VM, stack is NULL (fork semantics).
# Parent: returns the child's pid, or -errno when clone fails. Every signal is blocked around the
# clone so that no handler of the runtime can run in the child; the parent's mask is then restored.
# Child: runs the steps in order. A step fails when it returns -errno (unless errno == ok_errno) or,
# with flag 1 (POSITIVE), when it returns 0. Flag 2 (SAVE) keeps the step's result (a new descriptor);
# flag 4 (USE_SAVED) passes the kept result as the step's first argument; flag 16 (STORE_SAVED) writes the
# kept value (8 bytes) to the address in arg[1] before the call. Flag 8 (FORK) marks a clone inside the
# list: the new process goes on with the next step, the one that cloned keeps the new pid and jumps to the
# step whose index is in ok_errno. Flag 32 (LOAD) passes, as the first argument, the 32-bit integer that
# arg[0] points to (a descriptor received with SCM_RIGHTS). On failure the child writes {u32 step, u32 errno} to err_fd and exits
# 127. Reaching the end of the list exits 0 (an execve step normally ends it).
        .intel_syntax noprefix
        .text
        .globl raw_syscall
raw_syscall:
        mov rax, rdi
        mov rdi, rsi
        mov rsi, rdx
        mov rdx, rcx
        mov r10, r8
        mov r8, r9
        syscall
        ret

        .balign 32, 0xcc
        .globl husk_spawn
husk_spawn:
        push rbx
        sub rsp, 32
        mov rbx, rdi
        mov qword ptr [rsp], -1
        mov eax, 14                     # rt_sigprocmask(SIG_SETMASK, &all, &saved, 8)
        mov edi, 2
        mov rsi, rsp
        lea rdx, [rsp + 8]
        mov r10d, 8
        syscall
        mov eax, 56                     # clone(flags, stack, NULL, NULL, 0)
        mov rdi, [rbx]
        mov rsi, [rbx + 32]
        xor edx, edx
        xor r10d, r10d
        xor r8d, r8d
        syscall
        test rax, rax
        jz child
        mov [rsp + 16], rax
        mov eax, 14                     # rt_sigprocmask(SIG_SETMASK, &saved, NULL, 8)
        mov edi, 2
        lea rsi, [rsp + 8]
        xor edx, edx
        mov r10d, 8
        syscall
        mov rax, [rsp + 16]
        add rsp, 32
        pop rbx
        ret
child:
        mov r12, [rbx + 8]
        mov r13, [rbx + 16]
        xor r14d, r14d
next:
        cmp r14, r13
        jae finished
        mov rax, [r12]
        mov rdi, [r12 + 8]
        test byte ptr [r12 + 56], 4
        cmovnz rdi, r15
        test byte ptr [r12 + 56], 32
        jz 2f
        movsxd rdi, dword ptr [rdi]
2:
        mov rsi, [r12 + 16]
        test byte ptr [r12 + 56], 16
        jz 1f
        mov [rsi], r15
1:
        mov rdx, [r12 + 24]
        mov r10, [r12 + 32]
        mov r8, [r12 + 40]
        mov r9, [r12 + 48]
        syscall
        test rax, rax
        js failed
        jnz positive
        test byte ptr [r12 + 56], 1
        jnz fail
        jmp ok
positive:
        test byte ptr [r12 + 56], 8
        jz ok
        mov r15, rax                    # the parent side of a fork: keep the child's pid, jump
        mov r14d, dword ptr [r12 + 60]
        mov r12, r14
        shl r12, 6
        add r12, [rbx + 8]
        jmp next
ok:
        test byte ptr [r12 + 56], 2
        cmovnz r15, rax
        add r12, 64
        inc r14
        jmp next
failed:
        neg rax
        cmp eax, dword ptr [r12 + 60]
        je ok
fail:
        mov dword ptr [rsp], r14d
        mov dword ptr [rsp + 4], eax
        mov eax, 1                      # write(err_fd, {step, errno}, 8)
        mov rdi, [rbx + 24]
        mov rsi, rsp
        mov edx, 8
        syscall
        mov edi, 127
        jmp exit
finished:
        xor edi, edi
exit:
        mov eax, 231                    # exit_group
        syscall

        .balign 32, 0xcc
        .globl run_steps
run_steps:
        push rbx
        push r12
        push r13
        push r14
        mov rbx, rdi
        mov r12, rsi
        xor r13d, r13d                  # the step's index
        xor r14d, r14d                  # the saved result
1:
        cmp r13, r12
        jae 2f
        mov rax, [rbx]
        mov rdi, [rbx + 8]
        test byte ptr [rbx + 56], 4
        cmovnz rdi, r14
        mov rsi, [rbx + 16]
        mov rdx, [rbx + 24]
        mov r10, [rbx + 32]
        mov r8, [rbx + 40]
        syscall
        mov [rbx + 48], rax
        cmp rax, -4095                  # -errno: stop here
        jae 2f
        test byte ptr [rbx + 56], 2
        cmovnz r14, rax
        add rbx, 64
        inc r13
        jmp 1b
2:
        mov rax, r13
        pop r14
        pop r13
        pop r12
        pop rbx
        ret
