/* Row 8: GetMsgEx round trips through libhttpqq from C against a running
 * server. Prints the median time per round trip in nanoseconds.
 *
 *   c_roundtrip HOST:PORT ROUNDS ITERATIONS
 */
#define _POSIX_C_SOURCE 200809L
#include <httpqq.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s HOST:PORT ROUNDS ITERATIONS\n", argv[0]);
        return 2;
    }
    int rounds = atoi(argv[2]), iterations = atoi(argv[3]);
    httpqq_client *client = NULL;
    httpqq_session *session = NULL;
    if (httpqq_client_new(argv[1], &client, NULL) != HTTPQQ_STATUS_OK ||
        httpqq_client_login(client, 10002, "demo", &session, NULL) != HTTPQQ_STATUS_OK) {
        fprintf(stderr, "%s\n", httpqq_last_error_message());
        return 1;
    }
    double *per_op = calloc((size_t)rounds, sizeof *per_op);
    for (int r = 0; r < rounds; r++) {
        double start = now();
        for (int i = 0; i < iterations; i++) {
            httpqq_message_list *messages = NULL;
            if (httpqq_session_fetch_messages(session, &messages, NULL) != HTTPQQ_STATUS_OK) {
                fprintf(stderr, "%s\n", httpqq_last_error_message());
                return 1;
            }
            httpqq_message_list_free(messages);
        }
        per_op[r] = (now() - start) / iterations;
    }
    qsort(per_op, (size_t)rounds, sizeof *per_op, compare);
    printf("%.0f\n", per_op[rounds / 2]);
    free(per_op);
    httpqq_session_free(session);
    httpqq_client_free(client);
    return 0;
}
