/*
 * colo-tcg-shim: an LD_PRELOAD crutch that lets QEMU 7.2's COLO checkpoints
 * run under TCG (no KVM). LAB ONLY.
 *
 * Why it exists
 * -------------
 * On the COLO primary, colo_do_checkpoint_transaction() calls
 * qemu_savevm_live_state() without holding the big QEMU lock (BQL). Under TCG
 * the RAM save path ends in
 *     ram_save_complete -> migration_bitmap_sync -> tcg_log_global_after_sync
 *       -> run_on_cpu() -> qemu_cond_wait(&qemu_work_cond, &BQL)
 * i.e. pthread_cond_wait() on a mutex the calling thread does NOT own. That is
 * undefined behaviour: glibc "releases" a mutex that another thread may hold,
 * and because the wait is no longer protected by the mutex, the wake-up from
 * the vCPU thread can be lost. The migration thread then sleeps forever and
 * COLO hangs within the first few checkpoints. KVM never takes this path
 * (tcg_log_global_after_sync is TCG-only), so KVM hosts never need, and must
 * never get, this library.
 *
 * What it does
 * ------------
 * It interposes pthread_cond_wait() for the whole process:
 *   1. If the calling thread does not own the mutex, it takes the mutex first,
 *      waits, and releases it again afterwards, so the caller's view
 *      ("I do not hold it") is unchanged and nobody else's lock is broken.
 *   2. Every untimed wait is bounded (default 10 ms, COLO_TCG_SHIM_WAIT_MS).
 *      A timeout is reported to the caller as a normal return, i.e. as a
 *      spurious wake-up, which POSIX allows and every correct wait loop
 *      (QEMU's included) already handles by re-checking its predicate. This
 *      recovers from wake-ups lost before the shim could take the mutex and
 *      from lost vCPU kicks.
 * Timed waits (pthread_cond_timedwait, pthread_cond_clockwait) are untouched.
 *
 * Limits
 * ------
 * Ownership is read from glibc's pthread_mutex_t (__data.__owner, the owner's
 * kernel thread id), which glibc maintains for normal, error-checking and
 * recursive mutexes on Linux. This ties the shim to glibc on Linux (Debian 12,
 * glibc 2.36, is what it was written and tested for). Mutexes using hardware
 * lock elision do not record an owner; Debian's glibc leaves elision off.
 *
 * Build: see Makefile (make OUTDIR=dir). Use:
 *   LD_PRELOAD=/path/libcolo-tcg-shim.so qemu-system-x86_64 -accel tcg ...
 * Set COLO_TCG_SHIM_DEBUG=1 to log the first repaired wait at once and, at a
 * normal exit, how many waits it repaired and how many ended by the bound.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_WAIT_NS (10L * 1000 * 1000) /* 10 ms */

static long wait_bound_ns = DEFAULT_WAIT_NS;
static int debug;
static atomic_ulong unowned_waits; /* waits entered without owning the mutex */
static atomic_ulong bounded_wakeups; /* waits ended by our bound, not a signal */

/* Exported so a test (or gdb) can tell whether the shim is loaded. */
const char colo_tcg_shim_version[] = "colo-tcg-shim 1";

static __thread pid_t cached_tid;

static pid_t self_tid(void)
{
    if (cached_tid == 0) {
        cached_tid = gettid();
    }
    return cached_tid;
}

static int owned_by_caller(const pthread_mutex_t *mutex)
{
    /* glibc keeps the owner's TID here while the mutex is locked, 0 if free. */
    return __atomic_load_n(&mutex->__data.__owner, __ATOMIC_RELAXED) == self_tid();
}

static void report_at_exit(void)
{
    fprintf(stderr,
            "colo-tcg-shim: %lu waits on an unowned mutex repaired, "
            "%lu waits ended by the %ld us bound\n",
            atomic_load(&unowned_waits), atomic_load(&bounded_wakeups),
            wait_bound_ns / 1000);
}

__attribute__((constructor)) static void shim_init(void)
{
    const char *ms = getenv("COLO_TCG_SHIM_WAIT_MS");
    if (ms != NULL && *ms != '\0') {
        char *end;
        long v = strtol(ms, &end, 10);
        if (*end == '\0' && v > 0 && v <= 1000) {
            wait_bound_ns = v * 1000L * 1000L;
        }
    }
    const char *dbg = getenv("COLO_TCG_SHIM_DEBUG");
    if (dbg != NULL && *dbg != '\0' && *dbg != '0') {
        debug = 1;
        atexit(report_at_exit);
    }
}

/* Wait at most wait_bound_ns on a mutex the caller owns; a timeout is success. */
static int bounded_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += wait_bound_ns;
    while (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_nsec -= 1000000000L;
        deadline.tv_sec += 1;
    }
    /* clockwait names its clock, so the cond's own clock attribute is irrelevant. */
    int err = pthread_cond_clockwait(cond, mutex, CLOCK_MONOTONIC, &deadline);
    if (err == ETIMEDOUT) {
        atomic_fetch_add_explicit(&bounded_wakeups, 1, memory_order_relaxed);
        return 0; /* a spurious wake-up: the caller re-checks its predicate */
    }
    return err;
}

/*
 * Replaces glibc's pthread_cond_wait (QEMU binds to the GLIBC_2.3.2 version;
 * an unversioned definition in a preloaded object satisfies that reference).
 */
int pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    if (owned_by_caller(mutex)) {
        return bounded_wait(cond, mutex);
    }

    /* The QEMU 7.2 TCG/COLO case: make the wait legal, then restore. */
    if (atomic_fetch_add_explicit(&unowned_waits, 1, memory_order_relaxed) == 0 && debug) {
        fprintf(stderr, "colo-tcg-shim: first wait on an unowned mutex (thread %d), repairing\n",
                (int)self_tid());
    }
    int err = pthread_mutex_lock(mutex);
    if (err != 0) {
        return err;
    }
    err = bounded_wait(cond, mutex);
    int unlock_err = pthread_mutex_unlock(mutex);
    return err != 0 ? err : unlock_err;
}
