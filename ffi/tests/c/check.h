/*
 * The checks shared by the C test programs: each failing check prints one
 * line; the program exits 1 if any did (see `finish`).
 */
#ifndef HTTPQQ_TEST_CHECK_H
#define HTTPQQ_TEST_CHECK_H

#include <httpqq_testing.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        checks++;                                                              \
        if (!(cond)) {                                                         \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
        }                                                                      \
    } while (0)

/* Expects a status, printing the library's message when it differs. */
#define EXPECT(expected, call)                                                 \
    do {                                                                       \
        int32_t got_ = (call);                                           \
        checks++;                                                              \
        if (got_ != (expected)) {                                              \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s\n  gave %s (%s), wanted %s\n",     \
                    __FILE__, __LINE__, #call, httpqq_status_name(got_),       \
                    httpqq_last_error_message(),                               \
                    httpqq_status_name(expected));                             \
        }                                                                      \
    } while (0)

#define OK(call) EXPECT(HTTPQQ_STATUS_OK, call)

#define CHECK_STR(actual, expected)                                            \
    do {                                                                       \
        const char *a_ = (actual);                                             \
        checks++;                                                              \
        if (a_ == NULL || strcmp(a_, (expected)) != 0) {                       \
            failures++;                                                        \
            fprintf(stderr, "FAIL %s:%d: %s is \"%s\", wanted \"%s\"\n",       \
                    __FILE__, __LINE__, #actual, a_ ? a_ : "(null)",           \
                    (expected));                                               \
        }                                                                      \
    } while (0)

static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* How late a bounded wait may end and still count as bounded: a loaded
 * machine (or valgrind, or wine) wakes a thread late, so the tests claim
 * "never early" and "not waited on", never a precise time; how long things
 * take is measured in bench/ (a stop's, row 19). */
#define LATE_BY_AT_MOST 1.0

/* Sleeps `ms` milliseconds. */
static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Makes a fresh folder under the system's temporary one, its path in
 * `dir`; 0 when it cannot. */
#ifdef _WIN32
#include <direct.h>
#include <process.h>
#include <winsock2.h> /* before windows.h, for net.h */
#include <windows.h>
static inline int make_temp_dir(char *dir, size_t size) {
    char base[MAX_PATH];
    if (GetTempPathA(sizeof base, base) == 0) {
        return 0;
    }
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        snprintf(dir, size, "%shttpqq-%d-%lu", base, _getpid(), GetTickCount() + attempt);
        if (_mkdir(dir) == 0) {
            return 1;
        }
    }
    return 0;
}
#else
static inline int make_temp_dir(char *dir, size_t size) {
    snprintf(dir, size, "/tmp/httpqq-XXXXXX");
    return mkdtemp(dir) != NULL;
}
#endif

/* Removes a folder made by make_temp_dir and what is in it; 0 when it
 * cannot. */
static inline int remove_temp_dir(const char *dir) {
    char command[512];
#ifdef _WIN32
    snprintf(command, sizeof command, "rmdir /s /q \"%s\"", dir);
#else
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
#endif
    return system(command) == 0;
}

/* The in-process reference server (demo accounts); exits the program
 * saying why when it cannot start. */
static inline httpqq_server *start_server_or_exit(void) {
    httpqq_server *server = NULL;
    if (httpqq_server_start(NULL, NULL, &server, NULL) != HTTPQQ_STATUS_OK) {
        fprintf(stderr, "cannot start the server: %s\n", httpqq_last_error_message());
        exit(1);
    }
    return server;
}

/* Prints the tally; the exit status of the program. */
static inline int finish(const char *name) {
    if (failures > 0) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, checks);
    return 0;
}

#endif
