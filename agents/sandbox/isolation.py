"""Process-level isolation applied by the trusted worker bootstrap before any untrusted code runs."""
from __future__ import annotations

# Stdlib (plus pyseccomp, passed in) only: this module runs inside the worker, outside the `agents` package.
import ctypes
import errno
import os
import resource
import signal

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
NOBODY = 65534
# File descriptors we keep are moved above this, then RLIMIT_NOFILE is lowered below it:
# existing descriptors stay valid, but the tool cannot create new ones.
NOFILE_LIMIT = 16

# Denied outright (EPERM): network, exec, new processes/threads, debugging, file creation and
# opening, privilege and namespace changes, kernel facilities with a history of escapes.
DENIED_SYSCALLS = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    "execve", "execveat", "fork", "vfork", "clone", "clone3",
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "kcmp",
    "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at", "memfd_create",
    "memfd_secret", "mknod", "mknodat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename",
    "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat",
    "chown", "fchown", "fchownat", "lchown", "truncate", "ftruncate", "utime", "utimes",
    "utimensat", "futimesat", "fchdir", "chdir", "chroot", "pivot_root",
    "setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setgroups", "setfsuid",
    "setfsgid", "capset", "prctl", "arch_prctl", "seccomp", "personality", "setrlimit",
    "mount", "umount2", "unshare", "setns", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "init_module",
    "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
    "syslog", "acct", "quotactl", "ioperm", "iopl", "modify_ldt", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "migrate_pages", "move_pages", "mbind",
    "set_mempolicy", "fanotify_init", "inotify_init", "inotify_init1", "lookup_dcookie",
    "vhangup", "setpriority", "sched_setscheduler", "sched_setaffinity", "sched_setattr",
    "mq_open", "msgget", "semget", "shmget", "shmat", "process_madvise",
)
TIOCSTI = 0x5412
PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL:
    """The C library, with errno captured for error messages."""
    return ctypes.CDLL(None, use_errno=True)


def enter_network_namespace(is_root: bool) -> bool:
    """Leave the host's network: a fresh namespace has no interfaces up, so nothing is reachable."""
    libc = _libc()
    flags = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    if not is_root:
        # Unprivileged users may still create a user namespace that owns the new network namespace.
        flags |= CLONE_NEWUSER
    if libc.unshare(flags) == 0:
        return True
    return libc.unshare(CLONE_NEWNET | (0 if is_root else CLONE_NEWUSER)) == 0


def redirect_stdio() -> None:
    """Point fds 0/1/2 at /dev/null so prints cannot reach the protocol pipe or the host's terminal."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def enter_filesystem_jail(jail_dir: str) -> bool:
    """chroot into an empty directory nobody can write: no host file is even visible afterwards."""
    try:
        os.chdir(jail_dir)
        os.chroot(".")
        os.chdir("/")
    except OSError:
        return False
    return True


def apply_rlimits(memory_bytes: int, cpu_s: int, file_size_bytes: int) -> bool:
    """Cap memory, CPU, written file size, core dumps, processes and new file descriptors."""
    # A write past the file-size limit then fails with EFBIG instead of killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limits = (
        (resource.RLIMIT_AS, memory_bytes),
        (resource.RLIMIT_CPU, cpu_s),
        (resource.RLIMIT_FSIZE, file_size_bytes),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_NOFILE, NOFILE_LIMIT),
        (resource.RLIMIT_NPROC, 0),
        (resource.RLIMIT_MSGQUEUE, 0),
        (resource.RLIMIT_MEMLOCK, 0),
    )
    try:
        for which, value in limits:
            # CPU: the soft limit sends SIGXCPU (reported as a timeout) before the hard one's SIGKILL.
            hard = value + 1 if which == resource.RLIMIT_CPU else value
            resource.setrlimit(which, (value, hard))
    except (OSError, ValueError):
        return False
    return True


def drop_privileges(is_root: bool) -> bool:
    """Become nobody with no supplementary groups; a non-root worker is already unprivileged."""
    if not is_root:
        return True
    try:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    except OSError:
        return False
    return os.geteuid() == NOBODY and os.getuid() == NOBODY


def die_with_parent(parent_pid: int) -> bool:
    """Ask the kernel to SIGKILL this worker when the host dies (set after the uid change, which clears it)."""
    if _libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent_pid:  # the host died before the request took effect
        os._exit(0)
    return True


def load_seccomp(pyseccomp, own_pid: int) -> bool:
    """Install the syscall filter; it also sets no_new_privs, so it can never be loosened."""
    deny = pyseccomp.ERRNO(errno.EPERM)
    flt = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):
            continue  # a syscall this kernel/arch does not have cannot be used either
    # Signals only to itself: the host, the pool and other workers are out of reach.
    for name in ("kill", "tgkill", "tkill"):
        flt.add_rule(deny, name, pyseccomp.Arg(0, pyseccomp.NE, own_pid))
    # Reading limits is fine; setting them (new_limit != NULL) is not.
    flt.add_rule(deny, "prlimit64", pyseccomp.Arg(2, pyseccomp.NE, 0))
    flt.add_rule(deny, "ioctl", pyseccomp.Arg(1, pyseccomp.EQ, TIOCSTI))
    try:
        flt.load()
    except OSError:
        return False
    return True


def isolate(settings: dict, jail_dir: str, pyseccomp) -> dict[str, bool]:
    """Apply every enabled layer in a safe order and report which ones took effect."""
    is_root = os.geteuid() == 0
    parent_pid = os.getppid()
    layers = {"network_namespace": False, "filesystem_jail": False, "rlimits": False,
              "privilege_drop": False, "seccomp": False}
    if settings["network_namespace"]:
        layers["network_namespace"] = enter_network_namespace(is_root)
    redirect_stdio()
    if settings["filesystem_jail"]:
        layers["filesystem_jail"] = enter_filesystem_jail(jail_dir)
    if settings["rlimits"]:
        layers["rlimits"] = apply_rlimits(settings["memory_bytes"], settings["cpu_s"],
                                          settings["file_size_bytes"])
    if settings["drop_privileges"]:
        layers["privilege_drop"] = drop_privileges(is_root)
    die_with_parent(parent_pid)
    if settings["seccomp"] and pyseccomp is not None:
        layers["seccomp"] = load_seccomp(pyseccomp, os.getpid())
    return layers
