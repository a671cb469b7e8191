/*
 * shim-test: proves what libcolo-tcg-shim.so does to pthread_cond_wait().
 * Run it with the shim preloaded (the Makefile's `test` target does):
 *   LD_PRELOAD=OUTDIR/libcolo-tcg-shim.so OUTDIR/shim-test
 * Without the shim it refuses to run (several cases would hang or be UB).
 * Every case runs under a watchdog: a hang fails the test instead of blocking.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check(int ok, const char *what)
{
    printf("%s  %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) {
        failures++;
    }
}

static void init_errorcheck(pthread_mutex_t *m)
{
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

/* --- 1. a normal signalled wait still works and returns owning the mutex --- */
static pthread_mutex_t m1;
static pthread_cond_t c1 = PTHREAD_COND_INITIALIZER;
static int flag1;

static void *signaller1(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    pthread_mutex_lock(&m1);
    flag1 = 1;
    pthread_cond_signal(&c1);
    pthread_mutex_unlock(&m1);
    return NULL;
}

static void test_normal_wait(void)
{
    init_errorcheck(&m1);
    pthread_t t;
    pthread_mutex_lock(&m1);
    pthread_create(&t, NULL, signaller1, NULL);
    int rc = 0;
    while (!flag1 && rc == 0) {
        rc = pthread_cond_wait(&c1, &m1);
    }
    check(rc == 0 && flag1, "normal wait: woken by a signal with the predicate true");
    /* An error-checking mutex unlocks only if we own it: proves re-acquisition. */
    check(pthread_mutex_unlock(&m1) == 0, "normal wait: returns owning the mutex");
    pthread_join(t, NULL);
}

/* --- 2. an untimed wait nobody signals returns (bounded, spurious wake-up) --- */
static void test_bounded_wait(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_mutex_lock(&m);
    double t0 = now_ms();
    int rc = pthread_cond_wait(&c, &m);
    double dt = now_ms() - t0;
    check(rc == 0, "unsignalled wait: returns 0 (a spurious wake-up)");
    check(dt >= 5 && dt < 500, "unsignalled wait: returns after about the 10 ms bound");
    check(pthread_mutex_trylock(&m) == EBUSY, "unsignalled wait: mutex still held by us");
    pthread_mutex_unlock(&m);
}

/* --- 3. waiting on a free mutex we do not own: legal, and state restored --- */
static void test_unowned_free_mutex(void)
{
    pthread_mutex_t m;
    init_errorcheck(&m); /* plain glibc would return EPERM here */
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    int rc = pthread_cond_wait(&c, &m);
    check(rc == 0, "unowned free mutex: wait returns 0 instead of EPERM/UB");
    check(pthread_mutex_trylock(&m) == 0, "unowned free mutex: left unlocked afterwards");
    pthread_mutex_unlock(&m);
}

/* --- 4. waiting on a mutex ANOTHER thread holds: its lock is not broken --- */
static pthread_mutex_t m4 = PTHREAD_MUTEX_INITIALIZER; /* normal, like QEMU's BQL */
static pthread_cond_t c4 = PTHREAD_COND_INITIALIZER;
static atomic_int holder_ready;
static atomic_int holder_saw_intruder;

static void *holder4(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m4);
    pid_t me = gettid();
    atomic_store(&holder_ready, 1);
    for (int i = 0; i < 20; i++) { /* hold it for ~200 ms, checking ownership */
        usleep(10 * 1000);
        if (m4.__data.__owner != me) {
            atomic_store(&holder_saw_intruder, 1);
        }
    }
    pthread_mutex_unlock(&m4);
    return NULL;
}

static void test_unowned_held_mutex(void)
{
    pthread_t t;
    pthread_create(&t, NULL, holder4, NULL);
    while (!atomic_load(&holder_ready)) {
        usleep(1000);
    }
    double t0 = now_ms();
    int rc = pthread_cond_wait(&c4, &m4); /* we do not own m4: B does */
    double dt = now_ms() - t0;
    pthread_join(t, NULL);
    check(rc == 0, "mutex held by another thread: wait returns 0");
    check(!atomic_load(&holder_saw_intruder),
          "mutex held by another thread: holder kept ownership throughout");
    check(dt >= 150, "mutex held by another thread: wait waited for the holder");
    check(pthread_mutex_trylock(&m4) == 0, "mutex held by another thread: left unlocked");
    pthread_mutex_unlock(&m4);
}

/*
 * --- 5. QEMU's run_on_cpu() pattern: a waiter without the mutex, a worker that
 * sets `done` and broadcasts, racing. Repeated; a lost wake-up would hang. ---
 */
static pthread_mutex_t m5 = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c5 = PTHREAD_COND_INITIALIZER;
static atomic_int done5;

static void *worker5(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m5); /* the vCPU thread holds the BQL while working */
    atomic_store(&done5, 1);
    pthread_cond_broadcast(&c5);
    pthread_mutex_unlock(&m5);
    return NULL;
}

static void test_run_on_cpu_pattern(void)
{
    const int rounds = 2000;
    double t0 = now_ms();
    int ok = 1;
    for (int i = 0; i < rounds && ok; i++) {
        atomic_store(&done5, 0);
        pthread_t t;
        pthread_create(&t, NULL, worker5, NULL);
        while (!atomic_load(&done5)) {
            if (pthread_cond_wait(&c5, &m5) != 0) { /* m5 NOT held by us */
                ok = 0;
                break;
            }
        }
        pthread_join(t, NULL);
    }
    char what[128];
    snprintf(what, sizeof what,
             "run_on_cpu pattern: %d racing rounds with an unowned mutex, none hung (%.0f ms)",
             rounds, now_ms() - t0);
    check(ok, what);
}

static void *watchdog(void *arg)
{
    (void)arg;
    sleep(30);
    fprintf(stderr, "FAIL  watchdog: a wait hung for 30 s\n");
    _exit(2);
}

int main(void)
{
    if (dlsym(RTLD_DEFAULT, "colo_tcg_shim_version") == NULL) {
        fprintf(stderr, "shim-test: libcolo-tcg-shim.so is not preloaded "
                        "(run with LD_PRELOAD=.../libcolo-tcg-shim.so)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t w;
    pthread_create(&w, NULL, watchdog, NULL);
    pthread_detach(w);

    test_normal_wait();
    test_bounded_wait();
    test_unowned_free_mutex();
    test_unowned_held_mutex();
    test_run_on_cpu_pattern();

    printf("%s\n", failures ? "shim-test: FAILED" : "shim-test: all passed");
    return failures ? 1 : 0;
}
