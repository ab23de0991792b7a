/*
 * libselectors._selectors: the selector classes of the Python binding, in C against Python.h.
 *
 * Each registration's `data` pointer in the library is the Python SelectorKey itself, holding
 * one strong reference: select() turns the library's entries into (key, mask) pairs without any
 * table of its own, and register, modify and unregister are one call into this module each.
 * The library (libselectors.so) is opened by path with dlopen() at import (see _library.py),
 * so LIBSELECTORS_PATH can choose another copy than the one inside the package.
 *
 * Memory safety rests on three rules:
 *  - every key the library points to is owned by the selector until it leaves the library;
 *  - while a select() is between its library call and the end of its result list (the GIL may
 *    be released, or Python code may run from the garbage collector), released keys are parked
 *    in `graveyard` instead of being freed, and the entries are re-read from the library when
 *    anything was released meanwhile;
 *  - close() during that window only marks the selector closed; the select() frees it.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "selectors.h"

/* ---- The library, opened by path -------------------------------------------------------- */

#define LIBRARY_FUNCTIONS(X)                                                                      \
    X(sel_new) X(sel_register) X(sel_modify) X(sel_unregister) X(sel_select) X(sel_close)         \
    X(sel_get_key) X(sel_get_map) X(sel_kind_name) X(sel_fileno) X(sel_wakeup) X(sel_after_fork) \
    X(sel_version)

/* One pointer per function, typed by the header's own prototypes. */
static struct {
#define DECLARE_POINTER(name) __typeof__(name) *name;
    LIBRARY_FUNCTIONS(DECLARE_POINTER)
#undef DECLARE_POINTER
} lib;
static void *lib_handle;

/* The SelectorKey namedtuple and the mapping class of _base.py (set by use_types()). */
static PyTypeObject *key_type;
static PyTypeObject *mapping_type;

static const uint32_t ALL_EVENTS = SEL_EVENT_READ | SEL_EVENT_WRITE;

static int
library_loaded(void)
{
    if (lib_handle == NULL || key_type == NULL || mapping_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "libselectors: the library is not loaded");
        return 0;
    }
    return 1;
}

/* ---- Errors ------------------------------------------------------------------------------ */

static PyObject *
raise_closed(void)
{
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed selector");
    return NULL;
}

static PyObject *
raise_not_registered(PyObject *fileobj)
{
    PyErr_Format(PyExc_KeyError, "%R is not registered", fileobj);
    return NULL;
}

static PyObject *
raise_errno(int number)
{
    errno = number;
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* docs/CONTRACT.md's table: -EINVAL is ValueError, -EEXIST / -ENOENT are KeyError, anything else
 * the kernel's OSError (PyErr_SetFromErrno picks the subclass: PermissionError, ...). */
static PyObject *
raise_code(int code, PyObject *fileobj, int fd)
{
    if (code == -EINVAL) {
        PyErr_Format(PyExc_ValueError, "fd %d: %s", fd, strerror(EINVAL));
        return NULL;
    }
    if (code == -EEXIST) {
        PyErr_Format(PyExc_KeyError, "%R (FD %d) is already registered", fileobj, fd);
        return NULL;
    }
    if (code == -ENOENT)
        return raise_not_registered(fileobj);
    return raise_errno(-code);
}

/* ---- Arguments ---------------------------------------------------------------------------- */

/* Fills out[0 .. count) from a vectorcall's positional and keyword arguments, like a Python
 * function with parameters `names`, the first `required` of them without default; unset ones
 * are NULL. */
static int
parse_arguments(const char *function, const char *const *names, Py_ssize_t required,
                Py_ssize_t count, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                PyObject **out)
{
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", function,
                     count, nargs);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t keywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < keywords; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t j = 0;
        while (j < count && PyUnicode_CompareWithASCIIString(name, names[j]) != 0)
            j++;
        if (j == count) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'",
                         function, name);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'",
                         function, names[j]);
            return -1;
        }
        out[j] = args[nargs + k];
    }
    for (Py_ssize_t j = 0; j < required; j++) {
        if (out[j] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %zd)",
                         function, names[j], j + 1);
            return -1;
        }
    }
    return 0;
}

/* The standard module's `if (not events) or (events & ~(EVENT_READ | EVENT_WRITE))`, with its
 * exceptions (ValueError, or TypeError from `&`); stores the mask in *out. */
static int
check_events(PyObject *events, uint32_t *out)
{
    if (PyLong_CheckExact(events)) {
        int overflow;
        long value = PyLong_AsLongAndOverflow(events, &overflow);
        if (!overflow && value > 0 && (value & ~(long)ALL_EVENTS) == 0) {
            *out = (uint32_t)value;
            return 0;
        }
        if (value == -1 && PyErr_Occurred())
            return -1;
        PyErr_Format(PyExc_ValueError, "Invalid events: %R", events);
        return -1;
    }
    int truth = PyObject_IsTrue(events);
    if (truth < 0)
        return -1;
    if (truth) {
        PyObject *beyond_mask = PyLong_FromLong(~(long)ALL_EVENTS); /* ~3: every other bit */
        PyObject *beyond = beyond_mask == NULL ? NULL : PyNumber_And(events, beyond_mask);
        Py_XDECREF(beyond_mask);
        if (beyond == NULL)
            return -1;
        int extra = PyObject_IsTrue(beyond);
        Py_DECREF(beyond);
        if (extra < 0)
            return -1;
        if (!extra) {
            PyObject *all = PyLong_FromUnsignedLong(ALL_EVENTS);
            PyObject *within = all == NULL ? NULL : PyNumber_And(events, all);
            Py_XDECREF(all);
            long value = within == NULL ? -1 : PyLong_AsLong(within);
            Py_XDECREF(within);
            if (value == -1 && PyErr_Occurred())
                return -1;
            if (value > 0) {
                *out = (uint32_t)value;
                return 0;
            }
        }
    }
    PyErr_Format(PyExc_ValueError, "Invalid events: %R", events);
    return -1;
}

/* The fd of a file object, as the standard module's _fileobj_to_fd: an int, or
 * int(fileobj.fileno()); ValueError for anything else or a negative fd. An fd beyond a C int
 * sets *too_big (no library call can name it: register raises OverflowError, the others
 * KeyError). Returns a new reference to the fd as a Python int. */
static PyObject *
fileobj_to_fd(PyObject *fileobj, int *fd, int *too_big)
{
    PyObject *number;
    if (PyLong_Check(fileobj)) {
        number = Py_NewRef(fileobj);
    } else {
        PyObject *result = PyObject_CallMethod(fileobj, "fileno", NULL);
        number = result == NULL ? NULL : PyNumber_Long(result);
        Py_XDECREF(result);
        if (number == NULL) {
            if (PyErr_ExceptionMatches(PyExc_AttributeError) ||
                PyErr_ExceptionMatches(PyExc_TypeError) ||
                PyErr_ExceptionMatches(PyExc_ValueError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_ValueError, "Invalid file object: %R", fileobj);
            }
            return NULL;
        }
    }
    int overflow;
    long value = PyLong_AsLongAndOverflow(number, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        Py_DECREF(number);
        return NULL;
    }
    if (overflow < 0 || (!overflow && value < 0)) {
        PyErr_Format(PyExc_ValueError, "Invalid file descriptor: %S", number);
        Py_DECREF(number);
        return NULL;
    }
    *too_big = overflow > 0 || value > INT_MAX;
    *fd = *too_big ? -1 : (int)value;
    return number;
}

/* ---- The selector ------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    /* The library's selector: NULL before __init__ and once freed. A close() during a select()
     * sets `closed` and leaves the freeing to that select(). */
    sel_selector *sel;
    int closed;
    /* Registrations whose key the library holds (one reference each). */
    Py_ssize_t count;
    /* select()'s result buffer. */
    sel_event *events;
    size_t capacity;
    /* Set from a select()'s library call to the end of its result list. */
    int in_select;
    /* Keys released during that window (a list, or NULL): freed when it ends. */
    PyObject *graveyard;
    /* The object made by the class's _selector_cls when CPython's tests replace it, else NULL:
     * it is then told of every register, modify, unregister and close, as the standard module
     * tells its kernel object, and may refuse them. */
    PyObject *kernel;
    /* The live read-only mapping of get_map(). */
    PyObject *mapping;
} SelectorObject;

static PyTypeObject SelectorType;

/* Drops the selector's reference to a key the library no longer holds; during a select()'s
 * window the key is parked instead, since that select() may still read it. Steals `key`. */
static void
release_key(SelectorObject *self, PyObject *key)
{
    if (!self->in_select) {
        Py_DECREF(key);
        return;
    }
    if (self->graveyard == NULL)
        self->graveyard = PyList_New(0);
    /* Out of memory: keep the key alive for ever rather than free it under the select(). */
    if (self->graveyard != NULL && PyList_Append(self->graveyard, key) == 0)
        Py_DECREF(key);
}

/* Frees the parked keys (which may run arbitrary code, so last). */
static void
flush_graveyard(SelectorObject *self)
{
    PyObject *graveyard = self->graveyard;
    self->graveyard = NULL;
    Py_XDECREF(graveyard);
}

/* The library's keys, in ascending fd order: a PyMem array of *length entries (NULL with
 * *length 0 when there are none; NULL with an exception on failure). */
static sel_key *
snapshot(SelectorObject *self, size_t *length)
{
    *length = 0;
    if (self->sel == NULL)
        return NULL;
    size_t total = lib.sel_get_map(self->sel, NULL, 0);
    if (total == 0)
        return NULL;
    sel_key *keys = PyMem_New(sel_key, total);
    if (keys == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *length = lib.sel_get_map(self->sel, keys, total);
    if (*length > total)
        *length = total;
    return keys;
}

/* The registered fd of a file object: its own fd, or, when it has none any more (a closed
 * file), the fd it was registered with (the standard module's _fileobj_lookup). Returns a new
 * reference to the fd as a Python int. */
static PyObject *
lookup_fd(SelectorObject *self, PyObject *fileobj, int *fd, int *too_big)
{
    PyObject *number = fileobj_to_fd(fileobj, fd, too_big);
    if (number != NULL || !PyErr_ExceptionMatches(PyExc_ValueError) || self->closed)
        return number;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    size_t length;
    sel_key *keys = snapshot(self, &length);
    for (size_t i = 0; i < length && number == NULL; i++) {
        PyObject *key = keys[i].data;
        if (PyTuple_GET_ITEM(key, 0) == fileobj) {
            number = Py_NewRef(PyTuple_GET_ITEM(key, 1));
            *fd = keys[i].fd;
            *too_big = 0;
        }
    }
    PyMem_Free(keys);
    if (number != NULL) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
    } else if (!PyErr_Occurred()) {
        PyErr_Restore(type, value, traceback);
    } else {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(traceback);
    }
    return number;
}

/* A new SelectorKey(fileobj, fd, events, data), made as tuple.__new__ would make it. */
static PyObject *
new_key(PyObject *fileobj, PyObject *fd, PyObject *events, PyObject *data)
{
    PyObject *key = key_type->tp_alloc(key_type, 4);
    if (key == NULL)
        return NULL;
    PyTuple_SET_ITEM(key, 0, Py_NewRef(fileobj));
    PyTuple_SET_ITEM(key, 1, Py_NewRef(fd));
    PyTuple_SET_ITEM(key, 2, Py_NewRef(events));
    PyTuple_SET_ITEM(key, 3, Py_NewRef(data));
    return key;
}

static PyObject *
Selector_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    SelectorObject *self = (SelectorObject *)type->tp_alloc(type, 0);
    if (self != NULL)
        self->closed = 1; /* until __init__ made the library's selector */
    return (PyObject *)self;
}

/* Selector.__init__(kind, kernel=None): a library selector of SEL_KIND_* `kind`, made with
 * SEL_FLAG_EINTR so that Python's signal handlers run during select(). */
static int
Selector_init(SelectorObject *self, PyObject *args, PyObject *kwargs)
{
    static char *names[] = {"kind", "kernel", NULL};
    int kind;
    PyObject *kernel = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "i|O:Selector", names, &kind, &kernel))
        return -1;
    if (!library_loaded())
        return -1;
    if (self->mapping != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the selector is already initialized");
        return -1;
    }
    PyObject *mapping = PyObject_CallOneArg((PyObject *)mapping_type, (PyObject *)self);
    if (mapping == NULL)
        return -1;
    self->sel = lib.sel_new(kind, SEL_FLAG_EINTR);
    if (self->sel == NULL) {
        Py_DECREF(mapping);
        raise_errno(errno);
        return -1;
    }
    self->mapping = mapping;
    self->kernel = kernel == Py_None ? NULL : Py_NewRef(kernel);
    self->closed = 0;
    return 0;
}

/* Tells the kernel object of CPython's tests about a change, as the standard module does. */
static int
tell_kernel(SelectorObject *self, const char *method, PyObject *fd, uint32_t events)
{
    PyObject *result = events ? PyObject_CallMethod(self->kernel, method, "OI", fd, events)
                              : PyObject_CallMethod(self->kernel, method, "O", fd);
    Py_XDECREF(result);
    return result == NULL ? -1 : 0;
}

static PyObject *
Selector_register(SelectorObject *self, PyObject *const *args, Py_ssize_t nargs,
                  PyObject *kwnames)
{
    static const char *const names[] = {"fileobj", "events", "data"};
    PyObject *argv[3];
    uint32_t events;
    int fd, too_big;
    if (parse_arguments("register", names, 2, 3, args, nargs, kwnames, argv) < 0)
        return NULL;
    PyObject *fileobj = argv[0], *data = argv[2] == NULL ? Py_None : argv[2];
    if (check_events(argv[1], &events) < 0)
        return NULL;
    PyObject *number = lookup_fd(self, fileobj, &fd, &too_big);
    if (number == NULL)
        return NULL;
    if (self->closed) {
        Py_DECREF(number);
        return raise_closed();
    }
    if (too_big) {
        PyErr_Format(PyExc_OverflowError, "fd %S does not fit in a C int", number);
        Py_DECREF(number);
        return NULL;
    }
    PyObject *key = new_key(fileobj, number, argv[1], data);
    if (key == NULL) {
        Py_DECREF(number);
        return NULL;
    }
    int code = lib.sel_register(self->sel, fd, events, key, NULL);
    if (code < 0) {
        Py_DECREF(key);
        Py_DECREF(number);
        return raise_code(code, fileobj, fd);
    }
    self->count++;
    if (self->kernel != NULL && tell_kernel(self, "register", number, events) < 0) {
        lib.sel_unregister(self->sel, fd, NULL);
        self->count--;
        release_key(self, key);
        Py_DECREF(number);
        return NULL;
    }
    Py_DECREF(number);
    return Py_NewRef(key);
}

static PyObject *
Selector_unregister(SelectorObject *self, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames)
{
    static const char *const names[] = {"fileobj"};
    PyObject *fileobj;
    sel_key old;
    int fd, too_big;
    if (parse_arguments("unregister", names, 1, 1, args, nargs, kwnames, &fileobj) < 0)
        return NULL;
    PyObject *number = lookup_fd(self, fileobj, &fd, &too_big);
    if (number == NULL)
        return NULL;
    if (self->closed || too_big) {
        Py_DECREF(number);
        return raise_not_registered(fileobj);
    }
    int code = lib.sel_unregister(self->sel, fd, &old);
    if (code < 0) {
        Py_DECREF(number);
        return raise_code(code, fileobj, fd);
    }
    self->count--;
    PyObject *key = old.data;
    /* The standard module ignores its kernel object's OSError here (a closed fd). */
    if (self->kernel != NULL && tell_kernel(self, "unregister", number, 0) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_OSError)) {
            release_key(self, key);
            Py_DECREF(number);
            return NULL;
        }
        PyErr_Clear();
    }
    Py_DECREF(number);
    if (!self->in_select)
        return key; /* the library's reference becomes the caller's */
    Py_INCREF(key);
    release_key(self, key);
    return key;
}

/* Whether the data of a modify() differs from the key's, as `data != key.data` says. */
static int
data_changed(PyObject *data, PyObject *old)
{
    if (data == old)
        return 0;
    PyObject *differs = PyObject_RichCompare(data, old, Py_NE);
    if (differs == NULL)
        return -1;
    int truth = PyObject_IsTrue(differs);
    Py_DECREF(differs);
    return truth;
}

static PyObject *
Selector_modify(SelectorObject *self, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    static const char *const names[] = {"fileobj", "events", "data"};
    PyObject *argv[3];
    sel_key current;
    uint32_t events;
    int fd, too_big;
    if (parse_arguments("modify", names, 2, 3, args, nargs, kwnames, argv) < 0)
        return NULL;
    PyObject *fileobj = argv[0], *data = argv[2] == NULL ? Py_None : argv[2];
    PyObject *number = lookup_fd(self, fileobj, &fd, &too_big);
    if (number == NULL)
        return NULL;
    Py_DECREF(number);
    if (self->closed || too_big || lib.sel_get_key(self->sel, fd, &current) < 0)
        return raise_not_registered(fileobj);
    PyObject *old = current.data;
    if (check_events(argv[1], &events) < 0)
        return NULL;
    int changed = data_changed(data, PyTuple_GET_ITEM(old, 3));
    if (changed < 0)
        return NULL;
    if (!changed && events == current.events)
        return Py_NewRef(old);
    if (self->closed) /* the comparison ran Python code, which may have closed the selector */
        return raise_not_registered(fileobj);
    if (lib.sel_get_key(self->sel, fd, &current) < 0 || current.data != old)
        return raise_not_registered(fileobj); /* ... or unregistered it */
    PyObject *key = new_key(PyTuple_GET_ITEM(old, 0), PyTuple_GET_ITEM(old, 1), argv[1], data);
    if (key == NULL)
        return NULL;
    if (self->kernel != NULL && events != current.events &&
        tell_kernel(self, "modify", PyTuple_GET_ITEM(old, 1), events) < 0) {
        Py_DECREF(key);
        /* CPython's bpo-30014: a modify the kernel refused leaves the file unregistered. */
        if (!self->closed && lib.sel_get_key(self->sel, fd, &current) == 0 &&
            current.data == old) {
            lib.sel_unregister(self->sel, fd, NULL);
            self->count--;
            release_key(self, old);
        }
        return NULL;
    }
    int code = lib.sel_modify(self->sel, fd, events, key, NULL);
    if (code < 0) {
        Py_DECREF(key);
        if (lib.sel_get_key(self->sel, fd, NULL) == -ENOENT) { /* the kernel refused it */
            self->count--;
            release_key(self, old);
        }
        return raise_code(code, fileobj, fd);
    }
    release_key(self, old);
    return Py_NewRef(key);
}

static double
monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Makes room in the result buffer for one entry per registration, and one more: an EPOLL or
 * KQUEUE wait takes no more reports than the buffer holds, and the kernel may also answer for
 * the wakeup fd or a stale entry (a closed file a dup keeps open), which the library drops. With
 * no spare slot such a report can take the place of a ready fd, and select(0) returns [] while
 * an fd is ready (docs/CONTRACT.md allows it; the standard module never does it). */
static int
reserve_events(SelectorObject *self)
{
    size_t wanted = (size_t)self->count + 1;
    if (wanted <= self->capacity)
        return 0;
    size_t capacity = self->capacity * 2 > wanted ? self->capacity * 2 : wanted;
    sel_event *events = PyMem_Resize(self->events, sel_event, capacity);
    if (events == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->events = events;
    self->capacity = capacity;
    return 0;
}

/* The (key, mask) list of a select() that got `count` entries. When keys were released since
 * the library wrote them (another thread's unregister while the GIL was free), each entry is
 * looked up again, as the standard module looks each fd up in its table: an fd unregistered
 * meanwhile is left out, a modified one gets its new key. */
static PyObject *
ready_list(SelectorObject *self, int count)
{
    if (self->closed)
        return PyList_New(0);
    if (self->graveyard == NULL) {
        PyObject *ready = PyList_New(count);
        if (ready == NULL)
            return NULL;
        for (int i = 0; i < count; i++) {
            PyObject *pair = PyTuple_New(2);
            PyObject *mask = PyLong_FromUnsignedLong(self->events[i].mask);
            if (pair == NULL || mask == NULL) {
                Py_XDECREF(pair);
                Py_XDECREF(mask);
                Py_DECREF(ready);
                return NULL;
            }
            PyTuple_SET_ITEM(pair, 0, Py_NewRef((PyObject *)self->events[i].key.data));
            PyTuple_SET_ITEM(pair, 1, mask);
            PyList_SET_ITEM(ready, i, pair);
        }
        return ready;
    }
    PyObject *ready = PyList_New(0);
    for (int i = 0; ready != NULL && i < count; i++) {
        sel_key current;
        if (self->closed || lib.sel_get_key(self->sel, self->events[i].key.fd, &current) < 0)
            continue;
        uint32_t mask = self->events[i].mask & current.events;
        if (mask == 0)
            continue;
        PyObject *pair = Py_BuildValue("(OI)", (PyObject *)current.data, mask);
        if (pair == NULL || PyList_Append(ready, pair) < 0)
            Py_CLEAR(ready);
        Py_XDECREF(pair);
    }
    return ready;
}

static void close_selector(SelectorObject *self);

/* Ends a select()'s window: frees the parked keys and, if close() came meanwhile, the
 * library's selector. */
static void
end_select(SelectorObject *self)
{
    self->in_select = 0;
    if (self->closed && self->sel != NULL) {
        lib.sel_close(self->sel);
        self->sel = NULL;
    }
    flush_graveyard(self);
}

static PyObject *
Selector_select(SelectorObject *self, PyObject *const *args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    static const char *const names[] = {"timeout"};
    PyObject *timeout_arg;
    double timeout = -1.0, deadline = 0.0;
    if (parse_arguments("select", names, 0, 1, args, nargs, kwnames, &timeout_arg) < 0)
        return NULL;
    if (timeout_arg != NULL && timeout_arg != Py_None) {
        timeout = PyFloat_AsDouble(timeout_arg);
        if (timeout == -1.0 && PyErr_Occurred())
            return NULL;
        if (timeout <= 0.0)
            timeout = 0.0;
        else
            deadline = monotonic_seconds() + timeout;
    }
    if (self->closed)
        return raise_closed();
    if (self->in_select)
        return raise_errno(EBUSY);
    if (reserve_events(self) < 0)
        return NULL;
    for (;;) {
        int count;
        self->in_select = 1;
        if (timeout == 0.0) {
            count = lib.sel_select(self->sel, 0.0, self->events, self->capacity);
        } else {
            Py_BEGIN_ALLOW_THREADS
            count = lib.sel_select(self->sel, timeout, self->events, self->capacity);
            Py_END_ALLOW_THREADS
        }
        if (count >= 0) {
            PyObject *ready = ready_list(self, count);
            end_select(self);
            return ready;
        }
        end_select(self);
        if (count != -EINTR)
            return raise_code(count, Py_None, -1);
        /* PEP 475: run the handlers; an exception from one ends the wait, otherwise wait
         * again for the time left. */
        if (PyErr_CheckSignals() < 0)
            return NULL;
        if (self->closed) /* by a handler */
            return raise_closed();
        if (timeout > 0.0) {
            timeout = deadline - monotonic_seconds();
            if (timeout <= 0.0)
                return PyList_New(0);
        } else if (timeout == 0.0) {
            return PyList_New(0);
        }
    }
}

/* Frees the library's selector (now, or at the end of a select() in progress) and releases
 * every key; idempotent. */
static void
close_selector(SelectorObject *self)
{
    if (self->closed)
        return;
    self->closed = 1;
    size_t length;
    sel_key *keys = snapshot(self, &length);
    if (keys == NULL && length == 0 && PyErr_Occurred())
        PyErr_Clear(); /* no memory: the keys leak, nothing is freed early */
    self->count = 0;
    if (self->in_select) {
        lib.sel_wakeup(self->sel);
    } else {
        lib.sel_close(self->sel);
        self->sel = NULL;
    }
    for (size_t i = 0; i < length; i++)
        release_key(self, keys[i].data);
    PyMem_Free(keys);
}

static PyObject *
Selector_close(SelectorObject *self, PyObject *unused)
{
    if (self->closed)
        return Py_NewRef(Py_None);
    PyObject *kernel = self->kernel;
    self->kernel = NULL;
    close_selector(self);
    if (kernel != NULL) {
        PyObject *result = PyObject_CallMethod(kernel, "close", NULL);
        Py_DECREF(kernel);
        if (result == NULL)
            return NULL;
        Py_DECREF(result);
    }
    return Py_NewRef(Py_None);
}

/* The key of a registered file object (the mapping's __getitem__); KeyError if none. */
static PyObject *
key_of(SelectorObject *self, PyObject *fileobj)
{
    sel_key current;
    int fd, too_big;
    PyObject *number = lookup_fd(self, fileobj, &fd, &too_big);
    if (number == NULL)
        return NULL;
    Py_DECREF(number);
    if (self->closed || too_big || lib.sel_get_key(self->sel, fd, &current) < 0)
        return raise_not_registered(fileobj);
    return Py_NewRef((PyObject *)current.data);
}

static PyObject *
Selector_get_key(SelectorObject *self, PyObject *fileobj)
{
    if (self->closed) {
        PyErr_SetString(PyExc_RuntimeError, "Selector is closed");
        return NULL;
    }
    return key_of(self, fileobj);
}

static PyObject *
Selector_get_map(SelectorObject *self, PyObject *unused)
{
    return Py_NewRef(self->closed || self->mapping == NULL ? Py_None : self->mapping);
}

static PyObject *
Selector_map_getter(SelectorObject *self, void *unused)
{
    return Selector_get_map(self, NULL);
}

/* wakeup() and fileno(): a library call that takes the selector alone, on an open one. */
static PyObject *
selector_only_call(SelectorObject *self, int is_wakeup)
{
    if (self->closed)
        return raise_closed();
    int code = is_wakeup ? lib.sel_wakeup(self->sel) : lib.sel_fileno(self->sel);
    if (code < 0)
        return raise_code(code, Py_None, -1);
    return is_wakeup ? Py_NewRef(Py_None) : PyLong_FromLong(code);
}

static PyObject *
Selector_wakeup(SelectorObject *self, PyObject *unused)
{
    return selector_only_call(self, 1);
}

static PyObject *
Selector_kernel_fileno(SelectorObject *self, PyObject *unused)
{
    return selector_only_call(self, 0);
}

/* In a child after fork(): the library's sel_after_fork, then the keys of registrations it
 * dropped (fds closed in the child) are released. */
static PyObject *
Selector_after_fork(SelectorObject *self, PyObject *unused)
{
    /* A select() of another thread of the parent does not exist in the child. */
    self->in_select = 0;
    flush_graveyard(self);
    if (self->closed)
        return Py_NewRef(Py_None);
    size_t length;
    sel_key *keys = snapshot(self, &length);
    if (keys == NULL && PyErr_Occurred())
        return NULL;
    int dropped = lib.sel_after_fork(self->sel);
    for (size_t i = 0; dropped > 0 && i < length; i++) {
        sel_key current;
        if (lib.sel_get_key(self->sel, keys[i].fd, &current) < 0 ||
            current.data != keys[i].data) {
            self->count--;
            release_key(self, keys[i].data);
        }
    }
    PyMem_Free(keys);
    return dropped < 0 ? raise_code(dropped, Py_None, -1) : Py_NewRef(Py_None);
}

/* The library's own registrations, [(fd, events)] in ascending fd order (for the tests). */
static PyObject *
Selector_registered(SelectorObject *self, PyObject *unused)
{
    size_t length;
    sel_key *keys = snapshot(self, &length);
    if (keys == NULL && PyErr_Occurred())
        return NULL;
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && i < length; i++) {
        PyObject *pair = Py_BuildValue("(iI)", keys[i].fd, keys[i].events);
        if (pair == NULL || PyList_Append(list, pair) < 0)
            Py_CLEAR(list);
        Py_XDECREF(pair);
    }
    PyMem_Free(keys);
    return list;
}

static int
Selector_traverse(SelectorObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->kernel);
    Py_VISIT(self->mapping);
    Py_VISIT(self->graveyard);
    /* The keys the library holds: each is one reference of ours. Without memory to list them
     * nothing is visited, which only makes the collector keep them. */
    if (!self->closed && self->sel != NULL) {
        size_t total = lib.sel_get_map(self->sel, NULL, 0);
        sel_key *keys = total ? PyMem_RawMalloc(total * sizeof(sel_key)) : NULL;
        if (keys != NULL) {
            size_t length = lib.sel_get_map(self->sel, keys, total);
            for (size_t i = 0; i < length && i < total; i++) {
                int result = visit((PyObject *)keys[i].data, arg);
                if (result) {
                    PyMem_RawFree(keys);
                    return result;
                }
            }
            PyMem_RawFree(keys);
        }
    }
    return 0;
}

static int
Selector_clear(SelectorObject *self)
{
    close_selector(self);
    Py_CLEAR(self->kernel);
    Py_CLEAR(self->mapping);
    flush_graveyard(self);
    return 0;
}

static void
Selector_dealloc(SelectorObject *self)
{
    PyObject_GC_UnTrack(self);
    Selector_clear(self);
    PyMem_Free(self->events);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Selector_methods[] = {
    {"register", (PyCFunction)(void (*)(void))Selector_register, METH_FASTCALL | METH_KEYWORDS,
     "register(fileobj, events, data=None) -> SelectorKey\n\nRegister a file object."},
    {"unregister", (PyCFunction)(void (*)(void))Selector_unregister,
     METH_FASTCALL | METH_KEYWORDS,
     "unregister(fileobj) -> SelectorKey\n\nUnregister a file object, even one closed since."},
    {"modify", (PyCFunction)(void (*)(void))Selector_modify, METH_FASTCALL | METH_KEYWORDS,
     "modify(fileobj, events, data=None) -> SelectorKey\n\nChange a registration's events or "
     "data. Invalid events raise ValueError and change nothing; events the kernel refuses "
     "leave the file object unregistered."},
    {"select", (PyCFunction)(void (*)(void))Selector_select, METH_FASTCALL | METH_KEYWORDS,
     "select(timeout=None) -> [(SelectorKey, events)]\n\nWait until registered file objects "
     "are ready or the timeout expires. Signal handlers run during the wait."},
    {"close", (PyCFunction)Selector_close, METH_NOARGS,
     "close()\n\nClose the selector and release every key; idempotent."},
    {"get_key", (PyCFunction)Selector_get_key, METH_O,
     "get_key(fileobj) -> SelectorKey\n\nThe key of a registered file object."},
    {"get_map", (PyCFunction)Selector_get_map, METH_NOARGS,
     "get_map() -> Mapping\n\nThe live read-only mapping of file objects to keys, or None "
     "once closed."},
    {"wakeup", (PyCFunction)Selector_wakeup, METH_NOARGS,
     "wakeup()\n\nMake a blocking select() in another thread (or the next one) return early."},
    {"_kernel_fileno", (PyCFunction)Selector_kernel_fileno, METH_NOARGS,
     "The fd of the kernel object (epoll, kqueue, /dev/poll)."},
    {"_after_fork", (PyCFunction)Selector_after_fork, METH_NOARGS,
     "Give the selector of a child process kernel state of its own."},
    {"_registered", (PyCFunction)Selector_registered, METH_NOARGS,
     "The library's own registrations as [(fd, events)]."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Selector_getset[] = {
    {"_map", (getter)Selector_map_getter, NULL, "The mapping of get_map(), None once closed.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject SelectorType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libselectors._selectors.Selector",
    .tp_basicsize = sizeof(SelectorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A libselectors selector whose registrations carry their SelectorKey as data.",
    .tp_new = Selector_new,
    .tp_init = (initproc)Selector_init,
    .tp_dealloc = (destructor)Selector_dealloc,
    .tp_traverse = (traverseproc)Selector_traverse,
    .tp_clear = (inquiry)Selector_clear,
    .tp_methods = Selector_methods,
    .tp_getset = Selector_getset,
};

/* ---- The mapping of get_map() ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    SelectorObject *selector;
} MappingObject;

static int
Mapping_init(MappingObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *selector;
    if (!PyArg_ParseTuple(args, "O!:Mapping", &SelectorType, &selector))
        return -1;
    Py_XSETREF(self->selector, (SelectorObject *)Py_NewRef(selector));
    return 0;
}

static int
Mapping_has_selector(MappingObject *self)
{
    if (self->selector == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the mapping has no selector");
        return 0;
    }
    return 1;
}

static Py_ssize_t
Mapping_length(MappingObject *self)
{
    if (!Mapping_has_selector(self))
        return -1;
    return self->selector->closed ? 0 : self->selector->count;
}

static PyObject *
Mapping_subscript(MappingObject *self, PyObject *fileobj)
{
    return Mapping_has_selector(self) ? key_of(self->selector, fileobj) : NULL;
}

static int
Mapping_contains(MappingObject *self, PyObject *fileobj)
{
    PyObject *key = Mapping_subscript(self, fileobj);
    if (key != NULL) {
        Py_DECREF(key);
        return 1;
    }
    if (!PyErr_ExceptionMatches(PyExc_KeyError))
        return -1;
    PyErr_Clear();
    return 0;
}

/* Mapping.get, without the Python frames of collections.abc's (asyncio calls it per change). */
static PyObject *
Mapping_get(MappingObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    PyObject *key = Mapping_subscript(self, args[0]);
    if (key != NULL || !PyErr_ExceptionMatches(PyExc_KeyError))
        return key;
    PyErr_Clear();
    return Py_NewRef(nargs == 2 ? args[1] : Py_None);
}

/* Iterates over the registered fds, in ascending order, as they are when iteration starts. */
static PyObject *
Mapping_iter(MappingObject *self)
{
    if (!Mapping_has_selector(self))
        return NULL;
    SelectorObject *selector = self->selector;
    size_t length = 0;
    sel_key *keys = selector->closed ? NULL : snapshot(selector, &length);
    if (keys == NULL && PyErr_Occurred())
        return NULL;
    PyObject *fds = PyList_New((Py_ssize_t)length);
    for (size_t i = 0; fds != NULL && i < length; i++)
        PyList_SET_ITEM(fds, i, Py_NewRef(PyTuple_GET_ITEM((PyObject *)keys[i].data, 1)));
    PyMem_Free(keys);
    if (fds == NULL)
        return NULL;
    PyObject *iterator = PyObject_GetIter(fds);
    Py_DECREF(fds);
    return iterator;
}

static int
Mapping_traverse(MappingObject *self, visitproc visit, void *arg)
{
    Py_VISIT(self->selector);
    return 0;
}

static int
Mapping_clear(MappingObject *self)
{
    Py_CLEAR(self->selector);
    return 0;
}

static void
Mapping_dealloc(MappingObject *self)
{
    PyObject_GC_UnTrack(self);
    Mapping_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMappingMethods Mapping_as_mapping = {
    .mp_length = (lenfunc)Mapping_length,
    .mp_subscript = (binaryfunc)Mapping_subscript,
};

static PySequenceMethods Mapping_as_sequence = {
    .sq_contains = (objobjproc)Mapping_contains,
};

static PyMethodDef Mapping_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Mapping_get, METH_FASTCALL,
     "get(fileobj, default=None): the key of a registered file object, else default."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject MappingType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "libselectors._selectors.Mapping",
    .tp_basicsize = sizeof(MappingObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The live read-only mapping of a selector's file objects (or fds) to keys.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Mapping_init,
    .tp_dealloc = (destructor)Mapping_dealloc,
    .tp_traverse = (traverseproc)Mapping_traverse,
    .tp_clear = (inquiry)Mapping_clear,
    .tp_iter = (getiterfunc)Mapping_iter,
    .tp_as_mapping = &Mapping_as_mapping,
    .tp_as_sequence = &Mapping_as_sequence,
    .tp_methods = Mapping_methods,
};

/* ---- Module functions -------------------------------------------------------------------- */

/* load(path): dlopen() the library and find every function; OSError if the loader refuses it,
 * AttributeError if a function is missing, ImportError if its major version is not the
 * header's. */
static PyObject *
module_load(PyObject *module, PyObject *path_arg)
{
    PyObject *path_bytes;
    if (lib_handle != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "libselectors: a library is already loaded");
        return NULL;
    }
    if (!PyUnicode_FSConverter(path_arg, &path_bytes))
        return NULL;
    void *handle = dlopen(PyBytes_AS_STRING(path_bytes), RTLD_NOW | RTLD_LOCAL);
    Py_DECREF(path_bytes);
    if (handle == NULL) {
        PyErr_SetString(PyExc_OSError, dlerror());
        return NULL;
    }
#define FIND_FUNCTION(name)                                         \
    lib.name = (__typeof__(name) *)dlsym(handle, #name);           \
    if (lib.name == NULL) {                                         \
        PyErr_SetString(PyExc_AttributeError, dlerror());           \
        dlclose(handle);                                            \
        memset(&lib, 0, sizeof lib);                                \
        return NULL;                                                \
    }
    LIBRARY_FUNCTIONS(FIND_FUNCTION)
#undef FIND_FUNCTION
    uint32_t version = lib.sel_version();
    if (version >> 16 != SEL_VERSION_MAJOR) {
        PyErr_Format(PyExc_ImportError, "libselectors: the library's version %u.%u.%u is not "
                     "compatible with %d.x, which this module was built for",
                     version >> 16, (version >> 8) & 0xFF, version & 0xFF, SEL_VERSION_MAJOR);
        dlclose(handle);
        memset(&lib, 0, sizeof lib);
        return NULL;
    }
    lib_handle = handle;
    return Py_NewRef(Py_None);
}

/* use_types(SelectorKey, mapping class): the namedtuple that keys are made of, and the class
 * (a subclass of Mapping) of get_map(). */
static PyObject *
module_use_types(PyObject *module, PyObject *args)
{
    PyTypeObject *key, *mapping;
    if (!PyArg_ParseTuple(args, "O!O!:use_types", &PyType_Type, &key, &PyType_Type, &mapping))
        return NULL;
    /* new_key() fills the tuple's items itself, which is only right for a plain tuple layout. */
    if (!PyType_IsSubtype(key, &PyTuple_Type) || key->tp_basicsize != PyTuple_Type.tp_basicsize ||
        key->tp_dictoffset != 0 || key->tp_weaklistoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "the key type must be a namedtuple (no __dict__)");
        return NULL;
    }
    if (!PyType_IsSubtype(mapping, &MappingType)) {
        PyErr_SetString(PyExc_TypeError, "the mapping type must subclass _selectors.Mapping");
        return NULL;
    }
    Py_XSETREF(key_type, (PyTypeObject *)Py_NewRef(key));
    Py_XSETREF(mapping_type, (PyTypeObject *)Py_NewRef(mapping));
    return Py_NewRef(Py_None);
}

/* A SEL_KIND_* argument as a C int. */
static int
kind_of(PyObject *kind_arg, int *kind)
{
    long value = PyLong_AsLong(kind_arg);
    if (value == -1 && PyErr_Occurred())
        return -1;
    if (value < INT_MIN || value > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "kind does not fit in a C int");
        return -1;
    }
    *kind = (int)value;
    return 0;
}

static PyObject *
module_version(PyObject *module, PyObject *unused)
{
    return library_loaded() ? PyLong_FromUnsignedLong(lib.sel_version()) : NULL;
}

/* kind_name(kind): CPython's class name for a SEL_KIND_* value, or None. */
static PyObject *
module_kind_name(PyObject *module, PyObject *kind_arg)
{
    int kind;
    if (kind_of(kind_arg, &kind) < 0)
        return NULL;
    if (!library_loaded())
        return NULL;
    const char *name = lib.sel_kind_name(kind);
    return name == NULL ? Py_NewRef(Py_None) : PyUnicode_FromString(name);
}

/* provides(kind): whether sel_new makes selectors of that kind here (it fails with ENOSYS
 * when not; any other failure, EMFILE say, does not prove the kind missing). */
static PyObject *
module_provides(PyObject *module, PyObject *kind_arg)
{
    int kind;
    if (kind_of(kind_arg, &kind) < 0)
        return NULL;
    if (!library_loaded())
        return NULL;
    sel_selector *probe = lib.sel_new(kind, 0);
    if (probe == NULL)
        return PyBool_FromLong(errno != ENOSYS);
    lib.sel_close(probe);
    return Py_NewRef(Py_True);
}

static PyMethodDef module_methods[] = {
    {"load", module_load, METH_O, "load(path): open the libselectors shared library."},
    {"use_types", module_use_types, METH_VARARGS,
     "use_types(SelectorKey, mapping class): the Python types the selectors make."},
    {"version", module_version, METH_NOARGS, "The loaded library's packed version."},
    {"kind_name", module_kind_name, METH_O, "CPython's class name of a SEL_KIND_* value."},
    {"provides", module_provides, METH_O, "Whether the library provides a SEL_KIND_* here."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef selectors_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "libselectors._selectors",
    .m_doc = "The selector classes of libselectors, on the library's C API.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__selectors(void)
{
    if (PyType_Ready(&SelectorType) < 0 || PyType_Ready(&MappingType) < 0)
        return NULL;
    PyObject *module = PyModule_Create(&selectors_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddObjectRef(module, "Selector", (PyObject *)&SelectorType) < 0 ||
        PyModule_AddObjectRef(module, "Mapping", (PyObject *)&MappingType) < 0 ||
        PyModule_AddIntMacro(module, SEL_EVENT_READ) < 0 ||
        PyModule_AddIntMacro(module, SEL_EVENT_WRITE) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_DEFAULT) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_SELECT) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_POLL) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_EPOLL) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_KQUEUE) < 0 ||
        PyModule_AddIntMacro(module, SEL_KIND_DEVPOLL) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
