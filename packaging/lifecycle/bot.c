/*
 * A bot on the installed libhttpqq (and libhttpqq_testing for its server),
 * run by check.py to one of three ends: `stop`, `sigint` (Ctrl-C while
 * waiting for an event: the handler sets a flag, the loop stops the
 * agent, as the header says) or `exit` (returning from main while another
 * thread is inside a login to ENDPOINT, check.py's listener that never
 * answers).
 *
 *   cc bot.c -o bot $(pkg-config --cflags --libs httpqq-testing) -pthread
 *   ./bot stop|sigint|exit [ENDPOINT]
 */
#define _POSIX_C_SOURCE 200809L
#include <httpqq_testing.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted = 0;

static void on_sigint(int signum) {
    (void)signum;
    interrupted = 1;
}

static void fail(const char *what) {
    fprintf(stderr, "%s: %s\n", what, httpqq_last_error_message());
    exit(1);
}

/* The next event's kind, waiting at most `ms`; 0 if none came. */
static uint32_t next_kind(httpqq_agent *agent, uint64_t ms) {
    httpqq_event *event = NULL;
    int32_t status = httpqq_agent_next_event(agent, ms, &event, NULL);
    if (status == HTTPQQ_STATUS_STOPPED) return HTTPQQ_EVENT_KIND_STOPPED;
    if (status != HTTPQQ_STATUS_OK) fail("next event");
    uint32_t kind = event ? httpqq_event_get_kind(event) : 0;
    httpqq_event_free(event);
    return kind;
}

static void *login(void *client) {
    httpqq_session *session = NULL;
    httpqq_client_login(client, 10001, "demo", &session, NULL);
    puts("returned");
    fflush(stdout);
    httpqq_session_free(session);
    return NULL;
}

static int exit_with_a_call_in_flight(const char *endpoint) {
    httpqq_client_builder *builder = httpqq_client_builder_new();
    httpqq_client *client = NULL;
    if (httpqq_client_builder_set_endpoint(builder, endpoint, NULL) != HTTPQQ_STATUS_OK ||
        httpqq_client_builder_set_timeout_ms(builder, 60000, NULL) != HTTPQQ_STATUS_OK ||
        httpqq_client_builder_build(builder, &client, NULL) != HTTPQQ_STATUS_OK) {
        fail("client");
    }
    httpqq_client_builder_free(builder);
    pthread_t thread;
    pthread_create(&thread, NULL, login, client);
    nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    return 0; /* exit() while the login waits */
}

int main(int argc, char **argv) {
    const char *end = argc > 1 ? argv[1] : "";
    if (strcmp(end, "exit") == 0) return exit_with_a_call_in_flight(argc > 2 ? argv[2] : "");

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_sigint;
    sigaction(SIGINT, &action, NULL);

    httpqq_server *server = NULL;
    httpqq_client *client = NULL;
    httpqq_agent *agent = NULL;
    if (httpqq_server_start(NULL, NULL, &server, NULL) != HTTPQQ_STATUS_OK) fail("server");
    if (httpqq_client_new(httpqq_server_endpoint(server), &client, NULL) != HTTPQQ_STATUS_OK) fail("client");
    if (httpqq_agent_start(client, 10001, "demo", NULL, &agent, NULL) != HTTPQQ_STATUS_OK) fail("agent");
    for (int waited = 0; next_kind(agent, 100) != HTTPQQ_EVENT_KIND_ONLINE; waited += 100) {
        if (waited > 10000) fail("no online event within 10 s");
    }
    int status = 0;
    if (strcmp(end, "stop") == 0) {
        httpqq_agent_stop(agent);
    } else {
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        /* The loop a C bot runs: wait in the library a slice at a time,
         * and stop when the handler says so. */
        while (!interrupted) {
            if (next_kind(agent, 100) == HTTPQQ_EVENT_KIND_STOPPED) fail("stopped by itself");
        }
        httpqq_agent_stop(agent);
        status = 130;
    }
    uint32_t kind = 0;
    for (int waited = 0; (kind = next_kind(agent, 100)) != HTTPQQ_EVENT_KIND_STOPPED; waited += 100) {
        if (waited > 10000) fail("not stopped within 10 s");
    }
    puts(status == 130 ? "interrupted" : "stopped");
    httpqq_agent_free(agent);
    httpqq_client_free(client);
    httpqq_server_free(server);
    return status;
}
