/* The fork server's loop and a run's confinement, in C (Linux only; optional).

   Why C: after every fork(2) each page the fork server writes is write-protected again, and a
   CPython 3.11 process writes to every object it touches (reference counts). The Python loop in
   sandbox.py touches about 110 pages per run, and a run's own confinement (the steps of
   sandbox._confine) about 60 more; at 1-2 microseconds per page fault on a VM, plus the
   interpreter's own work, that is a sizeable share of a run's cost. This loop touches a few
   pages of C stack. It does exactly what sandbox.py's Python loop does (same wire format, same
   steps in the same order), so either one can serve a judge; sandbox.py uses this one when it is
   built and the fork server is PID 1 of its own PID namespace, and its own loop otherwise.

   configure(...) once, then serve(): it returns False in the fork server when the judge hangs up.
   In a run, once the run is confined (its control socket on fd 3, stdout on 1, stdin on 0, stderr
   on /dev/null, every other fd closed), it reads the judge's request. A compiled module (call
   tests, HumanEval checks) it runs itself, as sandbox._execute does, calling sandbox.py for what
   needs Python (calling the program's functions and encoding their results, describing a failed
   load), and exits. Anything else it returns as (kind, program) for sandbox.py to run.

   A step that worked in the fork server's probe run (the caller passes only those) and fails in
   a run ends that run at once with status 71: a run is never less confined than reported.

   syscall(), try_syscall() and fork() make sandbox.py's system calls where this file is built
   (ctypes otherwise): see the comment above syscall(). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <marshal.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Steps of a run's confinement (sandbox.NATIVE_STEPS gives the same bits). */
#define STEP_GROUP 1
#define STEP_CHROOT 2
#define STEP_RLIMIT_CPU 4
#define STEP_RLIMIT_AS 8
#define STEP_RLIMIT_FSIZE 16
#define STEP_RLIMIT_NPROC 32
#define STEP_RLIMIT_CORE 64
#define STEP_SETUID 128
#define STEP_DROP_CAPS 256
#define STEP_LANDLOCK 512
#define STEP_CGROUP 1024

#define CONFINE_FAILED 71

/* Wire format (sandbox.py's _SPAWN, _KILL and _EXITED): little-endian, no padding. */
#pragma pack(push, 1)
struct spawn {          /* judge -> fork server, with 2 or 3 fds: control socket, stdout, stdin */
    char kind;          /* 'S' */
    uint64_t run_id;
    double deadline;    /* CLOCK_MONOTONIC seconds, as Python's time.monotonic() */
    int64_t cpu_seconds, address_space, output_bytes, processes;
};
struct kill_request {   /* judge -> fork server */
    char kind;          /* 'K' */
    uint64_t run_id;
};
struct exited {         /* fork server -> judge */
    char kind;          /* 'E' */
    uint64_t run_id;
    uint8_t how;        /* 0: exit status, 1: killed by a signal */
    int32_t code;
    double cpu;         /* user + system seconds of the run */
    uint8_t killed;     /* 0: no, 1: at the deadline, 2: on the judge's word */
};
#pragma pack(pop)

struct plan {
    int channel, devnull, steps, ruleset, check_siblings;
    int cgroup; /* the judge's memory cgroup's cgroup.procs, open for writing; -1 if none */
    unsigned int uid;
    const char *run_dir, *inside, *root, *runs; /* root: b"" when there is no jail */
    PyObject *tidy;
    /* for runs of a compiled module (see run_module): the module, made by the fork server and in
       its sys.modules as "candidate"; sandbox._invoke, _raised, _returned, _DUMPS, _load_failed
       and _LOADED */
    PyObject *module, *invoke, *raised, *returned, *dumps, *load_failed, *loaded;
};

static long long now_ns(void) { /* Python's time.perf_counter_ns() */
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double now(void) { return (double)now_ns() * 1e-9; } /* Python's time.monotonic() */

/* soft = hard: nothing left to raise; never above the hard limit inherited (as _set_limit in
   sandbox.py): a stricter one set from outside stays, where raising it could fail and end every run. */
static int set_limit(int resource, int64_t value) {
    struct rlimit limit;
    if (getrlimit(resource, &limit) == 0 && limit.rlim_max != RLIM_INFINITY && (rlim_t)value > limit.rlim_max)
        value = (int64_t)limit.rlim_max;
    limit.rlim_cur = limit.rlim_max = (rlim_t)value;
    return setrlimit(resource, &limit);
}

/* 0 once the process holds no capabilities: dropped now, or none to drop where capset itself is
   refused (as sandbox._confine decides). */
static int drop_capabilities(void) {
    struct { uint32_t version; int pid; } header = {0x20080522, 0}; /* _LINUX_CAPABILITY_VERSION_3 */
    uint32_t data[6] = {0};
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
            break; /* EINVAL past the last capability */
    if (syscall(SYS_capset, &header, data) == 0)
        return 0;
    if (syscall(SYS_capget, &header, data) != 0)
        return -1;
    return (data[0] | data[1] | data[3] | data[4]) ? -1 : 0; /* effective and permitted, both words */
}

/* In the child: sandbox._confine's steps, in its order. Never returns on failure. */
static void confine(const struct plan *plan, const struct spawn *request, const int fds[3]) {
    int steps = plan->steps;
#define REQUIRE(step, call) do { if ((steps & (step)) && (call) != 0) _exit(CONFINE_FAILED); } while (0)
    REQUIRE(STEP_CGROUP, write(plan->cgroup, "0", 1) == 1 ? 0 : -1); /* first: before it allocates anything */
    REQUIRE(STEP_GROUP, setpgid(0, 0));
    setpriority(PRIO_PROCESS, 0, 0); /* the judge's raised priority is not the program's */
    REQUIRE(STEP_CHROOT, chroot(plan->root));
    if (chdir((steps & STEP_CHROOT) ? plan->inside : plan->run_dir) != 0)
        _exit(CONFINE_FAILED);
    REQUIRE(STEP_RLIMIT_CPU, set_limit(RLIMIT_CPU, request->cpu_seconds));
    REQUIRE(STEP_RLIMIT_AS, set_limit(RLIMIT_AS, request->address_space));
    REQUIRE(STEP_RLIMIT_FSIZE, set_limit(RLIMIT_FSIZE, request->output_bytes));
    REQUIRE(STEP_RLIMIT_NPROC, set_limit(RLIMIT_NPROC, request->processes));
    REQUIRE(STEP_RLIMIT_CORE, set_limit(RLIMIT_CORE, 0));
    if (steps & STEP_SETUID) {
        if (setgroups(0, NULL) != 0 || setresgid(plan->uid, plan->uid, plan->uid) != 0
            || setresuid(plan->uid, plan->uid, plan->uid) != 0)
            _exit(CONFINE_FAILED);
    }
    REQUIRE(STEP_DROP_CAPS, drop_capabilities());
    REQUIRE(STEP_LANDLOCK, syscall(446 /* landlock_restrict_self */, plan->ruleset, 0));
#undef REQUIRE
    if (dup2(fds[2] >= 0 ? fds[2] : plan->devnull, 0) < 0 || dup2(fds[1], 1) < 0
        || dup2(plan->devnull, 2) < 0 || dup2(fds[0], 3) < 0)
        _exit(CONFINE_FAILED);
    if (syscall(436 /* close_range */, 4, ~0U, 0) != 0) {
        for (int fd = 4; fd < 65536; fd++)
            close(fd);
    }
}

/* The fork server's Python clean-up (non-empty run directory, siblings left in a user namespace). */
static int tidy(const struct plan *plan) {
    PyObject *result = PyObject_CallNoArgs(plan->tidy);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

static int has_siblings(const char *runs) {
    int fd = open(runs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buffer[512];
    long size = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    close(fd);
    return size > 48; /* "." and ".." take 24 bytes each */
}

/* Kill everything left in our PID namespace (we are its PID 1) and reap it. */
static void end_leftovers(void) {
    double give_up = now() + 5.0;
    for (;;) {
        kill(-1, SIGKILL);
        pid_t pid;
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0 || (pid < 0 && errno == EINTR))
            ;
        if (pid < 0 || now() > give_up) /* ECHILD: nothing left */
            return;
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
}

/* Wait for the run to end, killing it at its deadline or on the judge's word. 0, or -1 when the
   judge has hung up (the run is killed). */
static int await_run(const struct plan *plan, pid_t pid, const struct spawn *request, uint8_t *killed) {
    int pidfd = (int)syscall(434 /* pidfd_open */, pid, 0);
    for (;;) {
        double remaining = request->deadline - now();
        if (remaining <= 0) {
            *killed = 1;
            kill(pid, SIGKILL);
            break;
        }
        if (pidfd < 0) { /* no pidfd (old kernel): has it ended? */
            siginfo_t info = {0};
            if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
                break;
        }
        struct pollfd watch[2] = {{plan->channel, POLLIN, 0}, {pidfd, POLLIN, 0}};
        if (pidfd < 0 && remaining > 0.002)
            remaining = 0.002; /* no pidfd (old kernel): poll the child */
        struct timespec timeout = {(time_t)remaining, (long)((remaining - (double)(time_t)remaining) * 1e9)};
        if (ppoll(watch, pidfd >= 0 ? 2 : 1, &timeout, NULL) < 0 && errno != EINTR) {
            *killed = 1; /* cannot watch it: end it rather than wait past its deadline */
            kill(pid, SIGKILL);
            break;
        }
        if (pidfd >= 0 && watch[1].revents)
            break;
        if (watch[0].revents) {
            struct kill_request message;
            ssize_t size = recv(plan->channel, &message, sizeof message, 0);
            if (size <= 0) {
                kill(pid, SIGKILL);
                if (pidfd >= 0)
                    close(pidfd);
                return -1;
            }
            if (size == sizeof message && message.kind == 'K' && message.run_id == request->run_id) {
                *killed = 2;
                kill(pid, SIGKILL);
                break;
            }
        }
    }
    if (pidfd >= 0)
        close(pidfd);
    return 0;
}

/* ---- In a run: sandbox._execute's protocol for a compiled module, without its Python frames ---- */

#define CONTROL 3 /* the run's socket to its judge */
#define PAGE 4096

/* Shared by the judge, its fork server and each run (made by loaded_page() in the judge before
   it forks the fork server). A run sets byte 0 once its module has loaded; the judge zeroes the
   whole page before every run, so nothing a run writes there reaches the next one. */
static unsigned char *shared_page;

static PyObject *loaded_page(PyObject *module, PyObject *unused) {
    if (shared_page == NULL) {
        void *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED)
            return PyErr_SetFromErrno(PyExc_OSError);
        shared_page = page;
    }
    return PyMemoryView_FromMemory((char *)shared_page, PAGE, PyBUF_WRITE);
}

/* A Python error in a run: it ends like an uncaught exception in sandbox.py's run (status 70). */
static void fail(void) { _exit(70); }

/* All of it, or -1 at the end of the stream; an error ends the run as os.read/os.write's would. */
static int transfer(int fd, char *buffer, size_t size, int writing) {
    while (size) {
        ssize_t done = writing ? write(fd, buffer, size) : read(fd, buffer, size);
        if (done < 0 && errno == EINTR) {
            if (PyErr_CheckSignals() < 0) /* the program's own signal handlers, as os.read would */
                fail();
            continue;
        }
        if (done < 0 || (done == 0 && writing))
            fail();
        if (done == 0)
            return -1;
        buffer += done;
        size -= (size_t)done;
    }
    return 0;
}

/* The next frame (4-byte little-endian length, then marshal data) from the judge, loaded; NULL at
   the end of the stream. */
static PyObject *next_message(void) {
    unsigned char header[4];
    if (transfer(CONTROL, (char *)header, 4, 0) != 0)
        return NULL;
    size_t size = header[0] | header[1] << 8 | header[2] << 16 | (size_t)header[3] << 24;
    char *payload = PyMem_Malloc(size ? size : 1);
    if (payload == NULL)
        fail();
    if (transfer(CONTROL, payload, size, 0) != 0) {
        PyMem_Free(payload);
        return NULL;
    }
    PyObject *message = PyMarshal_ReadObjectFromString(payload, (Py_ssize_t)size);
    PyMem_Free(payload);
    if (message == NULL)
        fail();
    return message;
}

struct replies {
    char *data;
    size_t size, capacity;
    long long oldest;
};

static void send_replies(struct replies *out) {
    if (out->size)
        transfer(CONTROL, out->data, out->size, 1);
    out->size = 0;
    out->oldest = 0;
}

static void add_reply(struct replies *out, PyObject *text) {
    Py_ssize_t length;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &length);
    if (utf8 == NULL)
        fail();
    size_t needed = out->size + 4 + (size_t)length;
    if (needed > out->capacity) {
        size_t capacity = needed * 2;
        char *grown = PyMem_Realloc(out->data, capacity);
        if (grown == NULL)
            fail();
        out->data = grown;
        out->capacity = capacity;
    }
    uint32_t size = (uint32_t)length;
    unsigned char header[4] = {size & 255, size >> 8 & 255, size >> 16 & 255, size >> 24};
    memcpy(out->data + out->size, header, 4);
    memcpy(out->data + out->size + 4, utf8, (size_t)length);
    out->size = needed;
}

/* Is this value plain data that sandbox.to_wire would return unchanged? None, a bool, a str, a
   float, an int that fits in 64 bits (to_wire tags only huge ints), or a list of those. */
static int plain_scalar(PyObject *value) {
    if (value == Py_None || PyBool_Check(value) || PyUnicode_CheckExact(value) || PyFloat_CheckExact(value))
        return 1;
    if (PyLong_CheckExact(value)) {
        int overflow;
        PyLong_AsLongLongAndOverflow(value, &overflow);
        return !overflow && !PyErr_Occurred();
    }
    return 0;
}

static int plain(PyObject *value) {
    if (!PyList_CheckExact(value))
        return plain_scalar(value);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++)
        if (!plain_scalar(PyList_GET_ITEM(value, i)))
            return 0;
    return 1;
}

/* The exception being raised, as `except BaseException as error` gives it: normalized, with its
   traceback attached; the error indicator is cleared. A new reference. */
static PyObject *caught(void) {
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL)
        PyException_SetTraceback(value, traceback);
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return value;
}

/* sandbox._invoke (call the program's function, make the reply), with the common case here: a
   function that returns plain data needs no Python frame of ours. */
static PyObject *invoke(const struct plan *plan, PyObject *namespace, PyObject *call) {
    PyObject *name = PyTuple_GET_ITEM(call, 0), *args = PyTuple_GET_ITEM(call, 1), *kwargs = PyTuple_GET_ITEM(call, 2);
    PyObject *function = PyUnicode_Check(name) ? PyDict_GetItemWithError(namespace, name) : NULL;
    if (function == NULL || !PyTuple_Check(args) || !PyDict_Check(kwargs)) {
        if (PyErr_Occurred())
            fail();
        return PyObject_CallFunctionObjArgs(plan->invoke, namespace, name, args, kwargs, NULL);
    }
    Py_INCREF(function); /* the call may rebind its own name */
    PyObject *value = PyObject_Call(function, args, PyDict_GET_SIZE(kwargs) ? kwargs : NULL);
    Py_DECREF(function);
    if (value == NULL) {
        PyObject *error = caught();
        PyObject *reply = PyObject_CallOneArg(plan->raised, error);
        Py_XDECREF(error);
        return reply;
    }
    PyObject *reply = plain(value) ? Py_BuildValue("[sO]", "ret", value) : PyObject_CallOneArg(plan->returned, value);
    Py_DECREF(value);
    return reply;
}

/* Load the module (compiled by the judge), then answer batches of calls until told to stop:
   sandbox._execute for kind "module", the same messages in the same order. Never returns. */
static void run_module(const struct plan *plan, PyObject *compiled) {
    PyObject *code = PyMarshal_ReadObjectFromString(PyBytes_AS_STRING(compiled), PyBytes_GET_SIZE(compiled));
    if (code == NULL)
        fail();
    PyObject *namespace = PyModule_GetDict(plan->module); /* fresh in every run: nothing ran in it */
    PyObject *result = PyEval_EvalCode(code, namespace, namespace);
    if (result == NULL) {
        if (PyObject_CallOneArg(plan->load_failed, caught()) == NULL)
            fail();
        _exit(0);
    }
    struct replies out = {NULL, 0, 0, 0};
    /* Loaded: said through the shared page, and also as a message unless calls are already
       waiting (their replies will say it, and a wake-up of the judge is saved). Either way a call
       that never ends does not hide that the module loaded. */
    char waiting;
    if (shared_page != NULL)
        shared_page[0] = 1;
    if (shared_page == NULL || recv(CONTROL, &waiting, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
        transfer(CONTROL, PyBytes_AS_STRING(plan->loaded), (size_t)PyBytes_GET_SIZE(plan->loaded), 1);
    for (;;) {
        PyObject *command = next_message();
        if (command == NULL || !PyTuple_Check(command) || PyTuple_GET_SIZE(command) != 2
            || !PyUnicode_Check(PyTuple_GET_ITEM(command, 0))
            || PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(command, 0), "calls") != 0)
            _exit(0); /* ("exit",) or the end of the stream */
        PyObject *calls = PyTuple_GET_ITEM(command, 1);
        if (!PyList_Check(calls))
            fail();
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(calls); i++) {
            PyObject *call = PyList_GET_ITEM(calls, i);
            if (!PyTuple_Check(call) || PyTuple_GET_SIZE(call) != 3)
                fail();
            long long began = now_ns();
            PyObject *reply = invoke(plan, namespace, call);
            PyObject *spent = PyLong_FromLongLong(now_ns() - began); /* nanoseconds, as sandbox.py sends */
            if (reply == NULL || spent == NULL || PyList_Append(reply, spent) != 0)
                fail();
            PyObject *text = PyObject_CallOneArg(plan->dumps, reply);
            if (text == NULL)
                fail();
            add_reply(&out, text);
            Py_DECREF(text);
            Py_DECREF(spent);
            Py_DECREF(reply);
            /* Replies go out together (one wake-up of the judge), but not later than 2 ms after the
               oldest one, so that a crash in a later call loses little of what was done. */
            if (out.oldest == 0)
                out.oldest = began;
            if (out.size > 1 << 16 || now_ns() - out.oldest > 2000000)
                send_replies(&out);
        }
        send_replies(&out);
        Py_DECREF(command);
    }
}

/* In a run, once confined: a compiled module is run here (never returns); anything else (a
   whole program, source too long for the judge to compile) goes back to Python as
   (kind, program), or None at the end of the stream. */
static PyObject *run(const struct plan *plan) {
    PyObject *request = next_message();
    if (request == NULL)
        Py_RETURN_NONE;
    if (PyTuple_Check(request) && PyTuple_GET_SIZE(request) == 2 && PyUnicode_Check(PyTuple_GET_ITEM(request, 0))
        && PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(request, 0), "module") == 0
        && PyBytes_Check(PyTuple_GET_ITEM(request, 1)))
        run_module(plan, PyTuple_GET_ITEM(request, 1));
    return request;
}

/* Set by configure(), once; serve() takes no arguments, so that a run, which returns from it
   into Python, frees no argument tuple or dict (each object freed there is a page copied). */
static struct plan plan;
static int configured;

static char *keep(PyObject *bytes) { /* a copy that lives as long as the process */
    return strdup(PyBytes_AS_STRING(bytes));
}

static PyObject *configure(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"channel", "devnull", "uid", "steps", "ruleset", "cgroup", "run_dir", "inside", "root",
                            "runs", "check_siblings", "tidy", "module", "invoke", "raised", "returned", "dumps",
                            "load_failed", "loaded", NULL};
    struct plan given = {0};
    PyObject *run_dir, *inside, *root, *runs;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "iiIiiiSSSSpOO!OOOOOS", names, &given.channel,
                                     &given.devnull, &given.uid, &given.steps, &given.ruleset, &given.cgroup,
                                     &run_dir, &inside, &root, &runs, &given.check_siblings, &given.tidy,
                                     &PyModule_Type, &given.module, &given.invoke, &given.raised, &given.returned,
                                     &given.dumps, &given.load_failed, &given.loaded))
        return NULL;
    PyObject *callables[] = {given.tidy, given.invoke, given.raised, given.returned, given.dumps, given.load_failed};
    for (size_t i = 0; i < sizeof callables / sizeof *callables; i++) {
        if (!PyCallable_Check(callables[i])) {
            PyErr_SetString(PyExc_TypeError,
                            "configure: tidy, invoke, raised, returned, dumps and load_failed must be callable");
            return NULL;
        }
    }
    if ((given.steps & STEP_CGROUP) && given.cgroup < 0) {
        PyErr_SetString(PyExc_ValueError, "configure: the cgroup step needs the group's cgroup.procs");
        return NULL;
    }
    if ((given.steps & STEP_CHROOT) && PyBytes_GET_SIZE(root) == 0) {
        PyErr_SetString(PyExc_ValueError, "configure: the chroot step needs a root");
        return NULL;
    }
    given.run_dir = keep(run_dir);
    given.inside = keep(inside);
    given.root = keep(root);
    given.runs = keep(runs);
    if (!given.run_dir || !given.inside || !given.root || !given.runs)
        return PyErr_NoMemory();
    Py_INCREF(given.tidy);
    Py_INCREF(given.module);
    Py_INCREF(given.invoke);
    Py_INCREF(given.raised);
    Py_INCREF(given.returned);
    Py_INCREF(given.dumps);
    Py_INCREF(given.load_failed);
    Py_INCREF(given.loaded);
    plan = given;
    configured = 1;
    Py_RETURN_NONE;
}

static PyObject *serve(PyObject *module, PyObject *unused) {
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "serve: call configure() first");
        return NULL;
    }
    if (getpid() != 1) { /* kill(-1) below must reach only our own PID namespace */
        PyErr_SetString(PyExc_RuntimeError, "serve: the fork server must be PID 1 of its own PID namespace");
        return NULL;
    }
    for (;;) {
        struct spawn request;
        union { char buffer[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } control;
        struct iovec data = {&request, sizeof request};
        struct msghdr message = {0};
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control.buffer;
        message.msg_controllen = sizeof control.buffer;
        ssize_t size = recvmsg(plan.channel, &message, MSG_CMSG_CLOEXEC);
        if (size <= 0) {
            if (size < 0 && errno == EINTR)
                continue;
            Py_RETURN_FALSE; /* the judge is gone */
        }
        int fds[3] = {-1, -1, -1}, count = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c != NULL; c = CMSG_NXTHDR(&message, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                if (count < 3)
                    fds[count++] = fd;
                else
                    close(fd);
            }
        }
        if (size != sizeof request || request.kind != 'S' || count < 2 /* a late kill */
            || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
            for (int i = 0; i < count; i++)
                close(fds[i]);
            continue;
        }
        if (mkdir(plan.run_dir, 0700) != 0) {
            if (errno != EEXIST || tidy(&plan) != 0 || mkdir(plan.run_dir, 0700) != 0)
                goto failed;
        }
        if (plan.steps & STEP_SETUID && chown(plan.run_dir, plan.uid, plan.uid) != 0)
            goto failed;
        pid_t pid = fork();
        if (pid < 0)
            goto failed;
        if (pid == 0) {
            confine(&plan, &request, fds);
            return run(&plan);
        }
        for (int i = 0; i < count; i++)
            close(fds[i]);
        struct exited reply = {'E', request.run_id, 0, 0, 0.0, 0};
        int hung_up = await_run(&plan, pid, &request, &reply.killed);
        int status = 0;
        struct rusage usage = {0};
        while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR)
            ;
        end_leftovers();
        if (hung_up)
            _exit(0);
        if (rmdir(plan.run_dir) != 0 || (plan.check_siblings && has_siblings(plan.runs))) {
            if (tidy(&plan) != 0)
                return NULL;
        }
        reply.how = WIFSIGNALED(status) ? 1 : 0;
        reply.code = WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status);
        reply.cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6
                    + (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6;
        if (send(plan.channel, &reply, sizeof reply, 0) != (ssize_t)sizeof reply)
            Py_RETURN_FALSE;
        continue;
    failed:
        for (int i = 0; i < count; i++)
            close(fds[i]);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
}

/* syscall(number, *args) and try_syscall(number, *args): one system call with up to six
   arguments, each an int, None (0) or a buffer passed by address (bytes read-only, a bytearray
   writable). syscall raises OSError on failure; try_syscall returns -errno instead (for calls
   whose failure is the usual case, such as killing what is not there). sandbox.py calls these
   instead of ctypes where this file is built, so that the judge, and the fork server it forks,
   never load ctypes and libffi: every fork of a run copies each memory mapping of a library. */
static PyObject *system_call(PyObject *args, int raising) {
    Py_ssize_t count = PyTuple_GET_SIZE(args);
    if (count < 1 || count > 7) {
        PyErr_SetString(PyExc_TypeError, "expected (number, up to 6 arguments)");
        return NULL;
    }
    long number = PyLong_AsLong(PyTuple_GET_ITEM(args, 0));
    if (number == -1 && PyErr_Occurred())
        return NULL;
    long values[6] = {0};
    Py_buffer views[6];
    int held = 0;
    PyObject *result = NULL;
    for (Py_ssize_t i = 1; i < count; i++) {
        PyObject *arg = PyTuple_GET_ITEM(args, i);
        if (arg == Py_None)
            continue;
        if (PyLong_Check(arg)) {
            values[i - 1] = PyLong_AsLong(arg);
            if (values[i - 1] == -1 && PyErr_Occurred())
                goto done;
            continue;
        }
        int writable = PyByteArray_Check(arg);
        if (!writable && !PyBytes_Check(arg)) {
            PyErr_Format(PyExc_TypeError, "argument %zd: expected int, None, bytes or bytearray, got %.100s",
                         i, Py_TYPE(arg)->tp_name);
            goto done;
        }
        if (PyObject_GetBuffer(arg, &views[held], writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) != 0)
            goto done;
        values[i - 1] = (long)views[held++].buf;
    }
    errno = 0;
    long answer = syscall(number, values[0], values[1], values[2], values[3], values[4], values[5]);
    if (answer == -1 && raising)
        PyErr_SetFromErrno(PyExc_OSError);
    else
        result = PyLong_FromLong(answer == -1 ? -errno : answer);
done:
    while (held > 0)
        PyBuffer_Release(&views[--held]);
    return result;
}

static PyObject *py_syscall(PyObject *module, PyObject *args) { return system_call(args, 1); }
static PyObject *py_try_syscall(PyObject *module, PyObject *args) { return system_call(args, 0); }

/* fork(2) with the GIL held and none of Python's at-fork hooks (see sandbox._fork). */
static PyObject *raw_fork(PyObject *module, PyObject *unused) {
    pid_t pid = fork();
    if (pid < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    return PyLong_FromLong(pid);
}

static PyMethodDef methods[] = {
    {"syscall", py_syscall, METH_VARARGS,
     "syscall(number, *args)\n--\n\nA system call: ints, None, bytes or bytearray (by address); OSError on failure."},
    {"try_syscall", py_try_syscall, METH_VARARGS,
     "try_syscall(number, *args)\n--\n\nA system call; its result, or -errno on failure."},
    {"fork", raw_fork, METH_NOARGS, "fork()\n--\n\nfork(2), without Python's at-fork hooks."},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_VARARGS | METH_KEYWORDS,
     "configure(channel, devnull, uid, steps, ruleset, cgroup, run_dir, inside, root, runs, check_siblings, tidy,\n"
     "          module, invoke, raised, returned, dumps, load_failed, loaded)\n"
     "--\n\nWhat serve() will do: the channel to the judge, the run's directory and confinement steps,\n"
     "and sandbox.py's helpers for a run's replies."},
    {"loaded_page", loaded_page, METH_NOARGS,
     "loaded_page()\n--\n\nThe page shared with runs (made once, before the fork server is forked) in which a run\n"
     "says its module has loaded."},
    {"serve", serve, METH_NOARGS,
     "serve()\n--\n\nThe fork server's loop: False when the judge hangs up; in a confined run, the request\n"
     "(kind, program) that Python must run, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef definition = {PyModuleDef_HEAD_INIT, "_forkserver",
                                        "The fork server's loop in C (see sandbox.py).", -1, methods};

/* The numbers sandbox.py needs for syscall(): system calls by their libc name, and constants. */
PyMODINIT_FUNC PyInit__forkserver(void) {
    PyObject *module = PyModule_Create(&definition);
    if (module == NULL)
        return NULL;
    PyObject *numbers = Py_BuildValue(
        "{sl sl sl sl sl sl sl sl sl sl si si si si si si si si si si}",
        "unshare", (long)SYS_unshare, "mount", (long)SYS_mount, "umount2", (long)SYS_umount2,
        "prctl", (long)SYS_prctl, "capget", (long)SYS_capget, "capset", (long)SYS_capset,
        "socketpair", (long)SYS_socketpair, "prlimit64", (long)SYS_prlimit64, "kill", (long)SYS_kill,
        "wait4", (long)SYS_wait4,
        "AF_UNIX", AF_UNIX, "SOCK_STREAM", SOCK_STREAM, "SOCK_SEQPACKET", SOCK_SEQPACKET, "SOCK_DGRAM", SOCK_DGRAM,
        "SOCK_CLOEXEC", SOCK_CLOEXEC, "RLIMIT_CPU", RLIMIT_CPU, "RLIMIT_AS", RLIMIT_AS, "RLIMIT_FSIZE", RLIMIT_FSIZE,
        "RLIMIT_NPROC", RLIMIT_NPROC, "RLIMIT_CORE", RLIMIT_CORE);
    if (numbers == NULL || PyModule_AddObject(module, "NUMBERS", numbers) != 0) {
        Py_XDECREF(numbers);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
