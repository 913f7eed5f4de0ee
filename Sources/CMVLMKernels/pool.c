// A small thread pool whose workers spin between jobs, for the many short parallel regions of
// decode (about a hundred products per token, each a few hundred microseconds): waking a sleeping
// thread per region (what DispatchQueue.concurrentPerform does) costs tens of microseconds and left
// one of two cores idle a fifth of the time. Workers spin on a generation counter for about a
// quarter of a millisecond after each job (2^13 PAUSEs, about 0.23 ms on Zen 4), then sleep on a condition variable until the next one.
//
// One job runs at a time: a caller that finds the pool busy (another thread's job, or a job
// started from inside a task) gets 0 back and runs its work some other way.

#include "mvlm_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

enum { MAX_WORKERS = 255, SPIN_LIMIT = 1 << 13 };

static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;  // one job at a time
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static int workers = 0;                    // started so far (guarded by job_lock)
// (job number << 8) | workers taking part: one atomic snapshot, so a worker that sees a job late
// decides from that job's own count whether it takes part (it cannot have ended if it does).
static _Atomic uint64_t state = 0;
static _Atomic int64_t next_chunk = 0;
static _Atomic int finished = 0;           // workers done with the current job
static int64_t job_chunks = 0;
static mvlm_pool_task job_task = 0;
static void *job_context = 0;
static _Thread_local int inside_task = 0;

static void run_chunks(void) {
    inside_task = 1;
    for (;;) {
        int64_t chunk = atomic_fetch_add_explicit(&next_chunk, 1, memory_order_relaxed);
        if (chunk >= job_chunks) break;
        job_task(job_context, chunk);
    }
    inside_task = 0;
}

static void *worker_main(void *arg) {
    // arg: (index << 48) | the job number current when the worker was made (all jobs up to it are
    // done: workers are made under job_lock, before the next job is posted).
    uint64_t packed = (uint64_t)(uintptr_t)arg;
    uint64_t index = packed >> 48, seen = packed & ((1ull << 48) - 1);
    for (;;) {
        uint64_t now;
        int spins = 0;
        while (((now = atomic_load_explicit(&state, memory_order_acquire)) >> 8) == seen) {
            if (++spins < SPIN_LIMIT) {
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&sleep_lock);
            while (((now = atomic_load_explicit(&state, memory_order_acquire)) >> 8) == seen) pthread_cond_wait(&wake, &sleep_lock);
            pthread_mutex_unlock(&sleep_lock);
            break;
        }
        seen = now >> 8;
        if (index < (now & 0xFF)) {
            run_chunks();
            atomic_fetch_add_explicit(&finished, 1, memory_order_release);
        }
    }
    return 0;
}

int mvlm_pool_run(int threads, int64_t chunks, mvlm_pool_task task, void *context) {
    if (inside_task || threads < 2 || chunks < 2) return 0;
    if (pthread_mutex_trylock(&job_lock) != 0) return 0;
    int helpers = threads - 1;
    if (helpers > MAX_WORKERS) helpers = MAX_WORKERS;
    while (workers < helpers) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        uint64_t current = atomic_load_explicit(&state, memory_order_relaxed) >> 8;
        int failed = pthread_create(&thread, &attr, worker_main, (void *)(uintptr_t)(((uint64_t)workers << 48) | current));
        pthread_attr_destroy(&attr);
        if (failed) break;
        workers++;
    }
    if (helpers > workers) helpers = workers;
    if (helpers == 0) {
        pthread_mutex_unlock(&job_lock);
        return 0;
    }
    job_chunks = chunks;
    job_task = task;
    job_context = context;
    atomic_store_explicit(&next_chunk, 0, memory_order_relaxed);
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    pthread_mutex_lock(&sleep_lock);
    uint64_t job = (atomic_load_explicit(&state, memory_order_relaxed) >> 8) + 1;
    atomic_store_explicit(&state, (job << 8) | (uint64_t)helpers, memory_order_release);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&sleep_lock);
    run_chunks();
    while (atomic_load_explicit(&finished, memory_order_acquire) < helpers) CPU_RELAX();
    pthread_mutex_unlock(&job_lock);
    return 1;
}
