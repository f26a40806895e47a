/*
 * A C bot on the agent (httpqq_agent_*), through the trouble bots meet,
 * against the in-process reference server and its test controls: a
 * restart, an expired session, a penalty, a black hole, a stop during
 * backoff, a password changed while it was away.
 *
 * Built and run by `make test-c` like test_httpqq.c: with the shared and
 * the static library, and under valgrind memcheck.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <pthread.h>
#include <stdlib.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#endif

static const char *endpoint;

/* A client whose requests give up after `timeout_ms`. */
static httpqq_client *client_with_timeout(uint64_t timeout_ms) {
    httpqq_client_builder *builder = httpqq_client_builder_new();
    httpqq_client *client = NULL;
    OK(httpqq_client_builder_set_endpoint(builder, endpoint, NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, timeout_ms, NULL));
    OK(httpqq_client_builder_set_connect_timeout_ms(builder, timeout_ms, NULL));
    OK(httpqq_client_builder_build(builder, &client, NULL));
    httpqq_client_builder_free(builder);
    return client;
}

/* Bob's agent: polls every 100 ms, backoff from `initial_ms` to `max_ms`. */
static httpqq_agent *start_bob(httpqq_client *client, uint64_t initial_ms, uint64_t max_ms,
                               uint64_t penalty_ms) {
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_poll_interval_ms(options, 100, NULL));
    OK(httpqq_agent_options_set_backoff_initial_ms(options, initial_ms, NULL));
    OK(httpqq_agent_options_set_backoff_max_ms(options, max_ms, NULL));
    if (penalty_ms > 0) {
        OK(httpqq_agent_options_set_throttle_penalty_ms(options, penalty_ms, NULL));
    }
    httpqq_agent *agent = NULL;
    OK(httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    httpqq_agent_options_free(options);
    return agent;
}

/* Messages seen while waiting, by text. */
struct inbox {
    int count;
    char texts[64][64];
};

static void note_message(struct inbox *inbox, const httpqq_event *event) {
    const httpqq_message *message = httpqq_event_message(event);
    if (message != NULL && httpqq_message_get_kind(message) == HTTPQQ_MESSAGE_KIND_TEXT &&
        inbox != NULL && inbox->count < 64) {
        snprintf(inbox->texts[inbox->count++], 64, "%s", httpqq_message_text(message, NULL));
    }
}

/* Takes events until one of `kind` (owned: free it), noting messages in
 * `inbox` (may be NULL); NULL when none came within `seconds`. */
static httpqq_event *wait_for(httpqq_agent *agent, uint32_t kind, double seconds, struct inbox *inbox) {
    double deadline = now() + seconds;
    while (now() < deadline) {
        httpqq_event *event = NULL;
        httpqq_status status = httpqq_agent_next_event(agent, 50, &event, NULL);
        if (status != HTTPQQ_STATUS_OK) {
            fprintf(stderr, "next_event: %s\n", httpqq_last_error_message());
            return NULL;
        }
        if (event == NULL) {
            continue;
        }
        note_message(inbox, event);
        if (httpqq_event_get_kind(event) == kind) {
            return event;
        }
        httpqq_event_free(event);
    }
    fprintf(stderr, "no event of kind %u within %.1f s\n", kind, seconds);
    return NULL;
}

/* As wait_for, for events that need no look inside. */
static int await(httpqq_agent *agent, uint32_t kind, double seconds, struct inbox *inbox) {
    httpqq_event *event = wait_for(agent, kind, seconds, inbox);
    httpqq_event_free(event);
    return event != NULL;
}

static int count_text(const struct inbox *inbox, const char *text) {
    int n = 0;
    for (int i = 0; i < inbox->count; i++) {
        n += strcmp(inbox->texts[i], text) == 0;
    }
    return n;
}

static httpqq_session *login_alice(httpqq_client *client) {
    httpqq_session *alice = NULL;
    OK(httpqq_client_login(client, 10001, "demo", &alice, NULL));
    return alice;
}

static void test_restart(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent *bob = start_bob(client, 100, 1000, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    CHECK(httpqq_agent_get_state(bob) == HTTPQQ_AGENT_STATE_ONLINE);

    httpqq_server_stop_listening(server);
    httpqq_event *failed = wait_for(bob, HTTPQQ_EVENT_KIND_RECONNECTING, 5, NULL);
    CHECK(failed != NULL);
    CHECK(httpqq_event_attempt(failed) == 1);
    /* Refused connections, or a poll in flight cut off (the NULL). */
    CHECK(httpqq_event_error_status(failed) == HTTPQQ_STATUS_TRANSPORT ||
          httpqq_event_error_status(failed) == HTTPQQ_STATUS_NO_REPLY);
    CHECK(httpqq_event_error_message(failed) != NULL);
    CHECK(httpqq_event_delay_ms(failed) >= 80 && httpqq_event_delay_ms(failed) <= 120);
    CHECK(httpqq_event_uin(failed) == 10002);
    httpqq_event_free(failed);
    /* Down until the backoff reaches its cap (the 5th retry: 100, 200,
     * 400, 800, then 1000 ms, each moved by up to the default jitter of
     * 20%): no retry waits longer, so the restarted server is tried within
     * 1.2 s. The delays the agent
     * announces are the claim, not the wall clock (a loaded machine, or
     * wine, adds to every refused connection). */
    uint64_t last = 0;
    for (uint32_t attempt = 2; attempt <= 5; attempt++) {
        failed = wait_for(bob, HTTPQQ_EVENT_KIND_RECONNECTING, 20, NULL);
        CHECK(failed != NULL);
        if (failed == NULL) {
            break;
        }
        CHECK(httpqq_event_attempt(failed) == attempt);
        uint64_t delay = httpqq_event_delay_ms(failed);
        CHECK(delay >= 80 && delay <= 1200);
        last = delay;
        httpqq_event_free(failed);
    }
    CHECK(last >= 800);
    CHECK(httpqq_agent_get_state(bob) == HTTPQQ_AGENT_STATE_RECONNECTING);

    OK(httpqq_server_restart(server, NULL));
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 10, NULL));

    httpqq_session *alice = login_alice(client);
    char text[32];
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof text, "after restart %d", i);
        OK(httpqq_session_send_message(alice, 10002, text, NULL));
    }
    struct inbox inbox = {0};
    double deadline = now() + 5;
    while (inbox.count < 10 && now() < deadline) {
        await(bob, HTTPQQ_EVENT_KIND_MESSAGE, 1, &inbox);
    }
    sleep_ms(300);
    httpqq_event *more = NULL;
    while (httpqq_agent_next_event(bob, 0, &more, NULL) == HTTPQQ_STATUS_OK && more != NULL) {
        note_message(&inbox, more);
        httpqq_event_free(more);
        more = NULL;
    }
    CHECK(inbox.count == 10);
    for (int i = 0; i < 10; i++) {
        snprintf(text, sizeof text, "after restart %d", i);
        CHECK(count_text(&inbox, text) == 1);
    }
    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_agent_stop(bob);
    CHECK(httpqq_agent_wait_stopped(bob, 5000));
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

static void test_expired_session(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent *bob = start_bob(client, 100, 1000, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_session *alice = login_alice(client);
    OK(httpqq_session_send_message(alice, 10002, "before", NULL));
    CHECK(httpqq_server_expire_session(server, 10002));
    OK(httpqq_session_send_message(alice, 10002, "while expired", NULL));
    struct inbox inbox = {0};
    CHECK(await(bob, HTTPQQ_EVENT_KIND_SESSION_RENEWED, 5, &inbox));
    OK(httpqq_session_send_message(alice, 10002, "after", NULL));
    double deadline = now() + 5;
    while (inbox.count < 3 && now() < deadline) {
        await(bob, HTTPQQ_EVENT_KIND_MESSAGE, 1, &inbox);
    }
    CHECK(inbox.count == 3);
    CHECK(count_text(&inbox, "before") == 1);
    CHECK(count_text(&inbox, "while expired") == 1);
    CHECK(count_text(&inbox, "after") == 1);
    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

static void test_throttled(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent *bob = start_bob(client, 100, 1000, 700);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_server_throttle(server, 10002, 1000);
    httpqq_event *throttled = wait_for(bob, HTTPQQ_EVENT_KIND_THROTTLED, 5, NULL);
    CHECK(throttled != NULL && httpqq_event_delay_ms(throttled) == 700);
    httpqq_event_free(throttled);
    CHECK(httpqq_agent_get_state(bob) == HTTPQQ_AGENT_STATE_THROTTLED);
    /* No request of bob's while the penalty runs. */
    uint64_t requests = httpqq_server_request_count(server, 10002, NULL, -1);
    sleep_ms(300);
    CHECK(httpqq_server_request_count(server, 10002, NULL, -1) == requests);
    /* A send during the penalty waits it out, then goes. */
    uint32_t outcome = 99;
    OK(httpqq_agent_send(bob, 10001, "after the penalty", &outcome, NULL));
    CHECK(outcome == HTTPQQ_OUTCOME_ACCEPTED);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_session *alice = login_alice(client);
    OK(httpqq_session_send_message(alice, 10002, "resumed", NULL));
    struct inbox inbox = {0};
    double deadline = now() + 5;
    while (inbox.count < 1 && now() < deadline) {
        await(bob, HTTPQQ_EVENT_KIND_MESSAGE, 1, &inbox);
    }
    CHECK(count_text(&inbox, "resumed") == 1);
    OK(httpqq_agent_send(bob, 10001, "thanks", &outcome, NULL));
    CHECK(outcome == HTTPQQ_OUTCOME_ACCEPTED);
    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

static void test_black_hole(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(300);
    httpqq_agent *bob = start_bob(client, 200, 400, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_server_pause(server);
    uint64_t before = httpqq_server_connections_accepted(server);
    double started = now();
    int failures_seen = 0;
    while (now() - started < 3.0) {
        httpqq_event *event = NULL;
        if (httpqq_agent_next_event(bob, 50, &event, NULL) == HTTPQQ_STATUS_OK && event != NULL) {
            if (httpqq_event_get_kind(event) == HTTPQQ_EVENT_KIND_RECONNECTING) {
                failures_seen++;
                CHECK(httpqq_event_error_status(event) == HTTPQQ_STATUS_TIMEOUT);
            }
            httpqq_event_free(event);
        }
    }
    uint64_t requests = httpqq_server_connections_accepted(server) - before;
    /* Each try costs its timeout (0.3 s) and then at least 0.16 s. */
    CHECK(requests >= 3 && requests <= 8);
    CHECK(failures_seen >= 3);
    httpqq_server_resume(server);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

static void *stop_from_another_thread(void *agent) {
    httpqq_agent_stop(agent);
    httpqq_agent_stop(agent);
    return NULL;
}

static void test_stop_during_backoff(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(1000);
    httpqq_agent *bob = start_bob(client, 10000, 10000, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_server_stop_listening(server);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_RECONNECTING, 5, NULL));
    double asked = now();
    pthread_t stopper;
    CHECK(pthread_create(&stopper, NULL, stop_from_another_thread, bob) == 0);
    httpqq_event *stopped = wait_for(bob, HTTPQQ_EVENT_KIND_STOPPED, 5, NULL);
    double took = now() - asked;
    CHECK(took <= 0.1 + LATE_BY_AT_MOST); /* not the 10 s backoff */
    CHECK(stopped != NULL && httpqq_event_error_status(stopped) == HTTPQQ_STATUS_OK);
    CHECK(stopped != NULL && httpqq_event_reason(stopped) == NULL);
    httpqq_event_free(stopped);
    pthread_join(stopper, NULL);
    httpqq_event *none = (httpqq_event *)0x1;
    EXPECT(HTTPQQ_STATUS_STOPPED, httpqq_agent_next_event(bob, 10, &none, NULL));
    CHECK(none == (httpqq_event *)0x1);
    uint32_t outcome = 99;
    EXPECT(HTTPQQ_STATUS_STOPPED, httpqq_agent_send(bob, 10001, "late", &outcome, NULL));
    CHECK(outcome == HTTPQQ_OUTCOME_REFUSED);
    CHECK(httpqq_agent_get_state(bob) == HTTPQQ_AGENT_STATE_STOPPED);
    httpqq_agent_free(bob);
    httpqq_client_free(client);
    OK(httpqq_server_restart(server, NULL));
}

/* A send from another thread, waiting on a paused server. */
struct pending_send {
    httpqq_agent *agent;
    int32_t status;
    uint32_t outcome;
};

static void *send_in_flight(void *data) {
    struct pending_send *send = data;
    send->status = httpqq_agent_send(send->agent, 10001, "into the void", &send->outcome, NULL);
    return NULL;
}

/* Round 2, finding 13: stop waited out the request in flight (9.8 s). */
static void test_stop_with_a_request_in_flight(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(10000);
    httpqq_agent *bob = start_bob(client, 100, 1000, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    httpqq_server_pause(server);
    struct pending_send send = {bob, -1, 99};
    pthread_t sender;
    CHECK(pthread_create(&sender, NULL, send_in_flight, &send) == 0);
    sleep_ms(300); /* a poll and the send are in flight now */
    double asked = now();
    httpqq_agent_stop(bob);
    CHECK(httpqq_agent_wait_stopped(bob, 5000));
    double took = now() - asked;
    pthread_join(sender, NULL);
    CHECK(took <= 0.1 + LATE_BY_AT_MOST); /* not the 10 s timeout */
    CHECK(send.status == HTTPQQ_STATUS_CANCELLED);
    CHECK(send.outcome == HTTPQQ_OUTCOME_UNKNOWN);
    httpqq_server_resume(server);
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

/* Round 2, finding 3: a server that ends every session right after its
 * login (a NAT changing the client's address) made the agent spin. */
static void test_dropped_sessions_are_backed_off(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    uint64_t before = httpqq_server_request_count(server, 10002, NULL, -1);
    httpqq_server_drop_sessions(server, true);
    httpqq_agent *bob = start_bob(client, 100, 1000, 0);
    httpqq_event *event = wait_for(bob, HTTPQQ_EVENT_KIND_RECONNECTING, 5, NULL);
    CHECK(event != NULL && httpqq_event_error_status(event) == HTTPQQ_STATUS_NOT_LOGGED_IN);
    CHECK(event != NULL && strstr(httpqq_event_error_message(event), "right after a login") != NULL);
    httpqq_event_free(event);
    sleep_ms(2000);
    uint64_t made = httpqq_server_request_count(server, 10002, NULL, -1) - before;
    httpqq_server_drop_sessions(server, false);
    /* Backoff from 100 ms doubling to 1 s: a dozen requests, not thousands. */
    CHECK(made <= 24);
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

static void test_password_changed(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent *bob = start_bob(client, 100, 300, 0);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_ONLINE, 5, NULL));
    uint64_t logins = httpqq_server_request_count(server, 10002, "Login", -1);
    httpqq_server_stop_listening(server);
    CHECK(await(bob, HTTPQQ_EVENT_KIND_RECONNECTING, 5, NULL));
    CHECK(httpqq_server_change_password(server, 10002, "new secret"));
    OK(httpqq_server_restart(server, NULL));
    httpqq_event *stopped = wait_for(bob, HTTPQQ_EVENT_KIND_STOPPED, 5, NULL);
    CHECK(stopped != NULL);
    if (stopped != NULL) {
        CHECK(httpqq_event_error_status(stopped) == HTTPQQ_STATUS_LOGIN_FAILED);
        CHECK_STR(httpqq_event_reason(stopped), "密码错误");
    }
    httpqq_event_free(stopped);
    sleep_ms(500);
    /* One refused login: no loop. */
    CHECK(httpqq_server_request_count(server, 10002, "login", -1) == logins + 1);
    httpqq_agent_free(bob);
    CHECK(httpqq_server_change_password(server, 10002, "demo"));
    httpqq_client_free(client);
}

/* httpqq_agent_run: a callback that stops at the second message. */
struct run_seen {
    int messages;
    int states;
};

static int on_event(const httpqq_event *event, void *user_data) {
    struct run_seen *seen = user_data;
    if (httpqq_event_get_kind(event) == HTTPQQ_EVENT_KIND_MESSAGE) {
        return ++seen->messages == 2;
    }
    seen->states++;
    return 0;
}

static void test_run_callback(void) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_session *alice = login_alice(client);
    httpqq_agent *bob = start_bob(client, 100, 1000, 0);
    OK(httpqq_session_send_message(alice, 10002, "one", NULL));
    OK(httpqq_session_send_message(alice, 10002, "two", NULL));
    OK(httpqq_session_send_message(alice, 10002, "three", NULL));
    struct run_seen seen = {0, 0};
    OK(httpqq_agent_run(bob, on_event, &seen, NULL));
    CHECK(seen.messages == 2);
    CHECK(seen.states >= 1);
    /* The third waits for the next call. */
    struct inbox inbox = {0};
    CHECK(await(bob, HTTPQQ_EVENT_KIND_MESSAGE, 5, &inbox));
    CHECK(inbox.count == 1 && strcmp(inbox.texts[0], "three") == 0);
    /* After stop, run delivers the rest and the stop, then returns OK. */
    httpqq_agent_stop(bob);
    seen.states = 0;
    OK(httpqq_agent_run(bob, on_event, &seen, NULL));
    CHECK(seen.states == 1);
    EXPECT(HTTPQQ_STATUS_STOPPED, httpqq_agent_run(bob, on_event, &seen, NULL));
    httpqq_agent_free(bob);

    /* A refused login: run returns its status. */
    httpqq_agent *wrong = NULL;
    OK(httpqq_agent_start(client, 10002, "wrong", NULL, &wrong, NULL));
    EXPECT(HTTPQQ_STATUS_LOGIN_FAILED, httpqq_agent_run(wrong, on_event, &seen, NULL));
    httpqq_agent_free(wrong);
    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_client_free(client);
}

/* Starts Bob's agent on the inbox at `path`. */
static httpqq_agent *start_bob_with_inbox(httpqq_client *client, const char *path) {
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_poll_interval_ms(options, 100, NULL));
    OK(httpqq_agent_options_set_inbox(options, path, NULL));
    httpqq_agent *agent = NULL;
    OK(httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    httpqq_agent_options_free(options);
    return agent;
}

/* Takes the next message's text into `text` (64 bytes); whether one came. */
static int next_text(httpqq_agent *agent, char *text) {
    httpqq_event *event = wait_for(agent, HTTPQQ_EVENT_KIND_MESSAGE, 5, NULL);
    if (event == NULL) {
        return 0;
    }
    snprintf(text, 64, "%s", httpqq_message_text(httpqq_event_message(event), NULL));
    httpqq_event_free(event);
    return 1;
}

/* An inbox: a program that ends mid-batch loses nothing; the message in
 * hand comes again unless it was acknowledged. */
static void test_inbox(void) {
    char dir[400];
    CHECK(make_temp_dir(dir, sizeof dir));
    char path[512];
    snprintf(path, sizeof path, "%s/bot.inbox", dir);
    httpqq_client *client = client_with_timeout(2000);
    httpqq_session *alice = login_alice(client);
    /* Sent before Bob's agent starts: its first poll fetches all three. */
    OK(httpqq_session_send_message(alice, 10002, "one", NULL));
    OK(httpqq_session_send_message(alice, 10002, "two", NULL));
    OK(httpqq_session_send_message(alice, 10002, "three", NULL));
    httpqq_agent *bob = start_bob_with_inbox(client, path);
    char text[64] = "";
    CHECK(next_text(bob, text) && strcmp(text, "one") == 0);
    CHECK(httpqq_agent_undelivered(bob) == 2);
    httpqq_agent_free(bob); /* "one" in hand, not acknowledged */

    bob = start_bob_with_inbox(client, path);
    CHECK(next_text(bob, text) && strcmp(text, "one") == 0);
    httpqq_agent_ack(bob); /* done with "one" */
    CHECK(httpqq_agent_undelivered(bob) == 2);
    CHECK(httpqq_agent_undelivered(NULL) == 0);
    httpqq_agent_free(bob);

    bob = start_bob_with_inbox(client, path);
    CHECK(next_text(bob, text) && strcmp(text, "two") == 0);
    CHECK(next_text(bob, text) && strcmp(text, "three") == 0);
    httpqq_agent_ack(bob);
    httpqq_agent_free(bob);

    /* Nothing is left: a new message is the next one. */
    bob = start_bob_with_inbox(client, path);
    OK(httpqq_session_send_message(alice, 10002, "four", NULL));
    CHECK(next_text(bob, text) && strcmp(text, "four") == 0);

    /* One process at a time per UIN: a second agent on it is refused. */
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_inbox(options, path, NULL));
    httpqq_agent *twin = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10002, "demo", options, &twin, NULL));
    CHECK(twin == NULL);
    /* A file that cannot be made: refused with its path. */
    OK(httpqq_agent_options_set_inbox(options, "/nonexistent/dir/bot.inbox", NULL));
    httpqq_error *error = httpqq_error_new();
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10003, "demo", options, &twin, error));
    CHECK(strstr(httpqq_error_message(error), "/nonexistent/dir/bot.inbox") != NULL);
    httpqq_error_free(error);
    /* NULL turns it off again. */
    OK(httpqq_agent_options_set_inbox(options, NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_inbox(options, "bad \xfe", NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_inbox(NULL, path, NULL));
    httpqq_agent_options_free(options);
    httpqq_agent_free(bob);

    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_client_free(client);
    CHECK(remove_temp_dir(dir));
}

/* Sends keep the pace set; a throttled send fails at once with retries
 * off; a send with no login in sight is refused as not online. */
static void test_send_pace_and_retries(httpqq_server *server) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_session *alice = login_alice(client);
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_send_pace(options, 2, 600, NULL));
    OK(httpqq_agent_options_set_throttle_retries(options, 0, NULL));
    OK(httpqq_agent_options_set_logout_on_stop(options, false, NULL));
    httpqq_agent *bob = NULL;
    OK(httpqq_agent_start(client, 10002, "demo", options, &bob, NULL));
    httpqq_agent_options_free(options);
    uint32_t outcome = 99;
    double started = now();
    for (int i = 0; i < 3; i++) {
        OK(httpqq_agent_send(bob, 10001, "paced", &outcome, NULL));
        CHECK(outcome == HTTPQQ_OUTCOME_ACCEPTED);
    }
    /* Two in any 600 ms: the third waited for the first to leave the window. */
    CHECK(now() - started >= 0.59);

    /* With retries off, a throttled send fails at once, and so does one
     * during the penalty, without a request. */
    httpqq_server_throttle(server, 10002, 1000);
    EXPECT(HTTPQQ_STATUS_THROTTLED, httpqq_agent_send(bob, 10001, "too soon", &outcome, NULL));
    CHECK(outcome == HTTPQQ_OUTCOME_REFUSED);
    uint64_t requests = httpqq_server_request_count(server, 10002, NULL, -1);
    EXPECT(HTTPQQ_STATUS_THROTTLED, httpqq_agent_send(bob, 10001, "still too soon", &outcome, NULL));
    CHECK(httpqq_last_error_retry_after_ms() > 0 && httpqq_last_error_retry_after_ms() <= 20000);
    CHECK(httpqq_last_error_outcome() == HTTPQQ_OUTCOME_REFUSED);
    CHECK(httpqq_server_request_count(server, 10002, NULL, -1) == requests);
    uint64_t logouts = httpqq_server_request_count(server, 10002, "Logout", -1);
    httpqq_agent_free(bob);
    /* Told not to, it left its session to the idle timeout. */
    CHECK(httpqq_server_request_count(server, 10002, "Logout", -1) == logouts);
    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_client_free(client);

    /* Nothing listens at the endpoint: no login within the timeout. */
    httpqq_client_builder *builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, "127.0.0.1:9", NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, 300, NULL));
    OK(httpqq_client_builder_build(builder, &client, NULL));
    httpqq_client_builder_free(builder);
    OK(httpqq_agent_start(client, 10002, "demo", NULL, &bob, NULL));
    EXPECT(HTTPQQ_STATUS_NOT_ONLINE, httpqq_agent_send(bob, 10001, "nobody home", &outcome, NULL));
    CHECK(outcome == HTTPQQ_OUTCOME_REFUSED);
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_NOT_ONLINE), "not online");
    httpqq_agent_free(bob);
    httpqq_client_free(client);
}

/* Readiness: the agent writes to a pipe when events become waiting; the
 * program waits in poll(2) (as an event loop would), never in the
 * library, and takes what is there without waiting. On Windows, where the
 * agent writes to no descriptor, its callback sets an event object the
 * program waits on instead, as the header advises. */
struct ready_count {
    pthread_mutex_t lock;
    int calls;
#ifdef _WIN32
    HANDLE event;
#endif
};

static void count_ready(void *user_data) {
    struct ready_count *count = user_data;
    pthread_mutex_lock(&count->lock);
    count->calls++;
    pthread_mutex_unlock(&count->lock);
#ifdef _WIN32
    if (count->event != NULL) {
        SetEvent(count->event);
    }
#endif
}

#ifdef _WIN32
/* An auto-reset event: waiting for it takes the wake-up. */
typedef HANDLE ready_t;
static int wait_ready(ready_t event, int timeout_ms) {
    return WaitForSingleObject(event, (DWORD)timeout_ms) == WAIT_OBJECT_0;
}
#else
/* The pipe's read end: waits in poll(2), then drains it. */
typedef int ready_t;
static int wait_ready(ready_t fd, int timeout_ms) {
    struct pollfd wait = {fd, POLLIN, 0};
    if (poll(&wait, 1, timeout_ms) != 1) {
        return 0;
    }
    uint64_t drained[64];
    CHECK(read(fd, drained, sizeof drained) >= 8);
    return 1;
}
#endif

static int ready_calls(struct ready_count *count) {
    pthread_mutex_lock(&count->lock);
    int calls = count->calls;
    pthread_mutex_unlock(&count->lock);
    return calls;
}

/* Takes the results of started sends that are waiting. */
static void take_results(httpqq_agent *agent, uint64_t *sent_id, int32_t *sent_status) {
    for (;;) {
        httpqq_sent *sent = NULL;
        OK(httpqq_agent_take_sent(agent, &sent, NULL));
        if (sent == NULL) {
            return;
        }
        *sent_id = httpqq_sent_id(sent);
        *sent_status = httpqq_sent_status(sent);
        httpqq_sent_free(sent);
    }
}

/* Waits for the wake-up (wait_ready), then takes the results of started
 * sends and every waiting event with a zero timeout; returns the number of
 * events taken, noting messages and results. */
static int take_when_ready(httpqq_agent *agent, ready_t ready, int timeout_ms, struct inbox *inbox,
                           uint64_t *sent_id, int32_t *sent_status) {
    if (!wait_ready(ready, timeout_ms)) {
        return 0;
    }
    take_results(agent, sent_id, sent_status);
    int taken = 0;
    for (;;) {
        httpqq_event *event = NULL;
        OK(httpqq_agent_next_event(agent, 0, &event, NULL));
        if (event == NULL) {
            return taken;
        }
        taken++;
        note_message(inbox, event);
        httpqq_event_free(event);
    }
}

static void test_readiness(httpqq_server *server) {
#ifdef _WIN32
    struct ready_count count = {PTHREAD_MUTEX_INITIALIZER, 0, CreateEventW(NULL, FALSE, FALSE, NULL)};
    CHECK(count.event != NULL);
    ready_t ready = count.event;
#else
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
    struct ready_count count = {PTHREAD_MUTEX_INITIALIZER, 0};
    ready_t ready = fds[0];
#endif
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_poll_interval_ms(options, 100, NULL));
#ifdef _WIN32
    /* No descriptor to write to on Windows: the callback wakes the loop. */
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_event_fd(options, 3, NULL));
#else
    OK(httpqq_agent_options_set_event_fd(options, fds[1], NULL));
#endif
    OK(httpqq_agent_options_set_event_callback(options, count_ready, &count, NULL));
    httpqq_agent *carol = NULL;
    /* Carol (10003): Bob may still be in the last test's server throttle. */
    OK(httpqq_agent_start(client, 10003, "demo", options, &carol, NULL));
    httpqq_agent_options_free(options);

    struct inbox inbox = {0};
    uint64_t sent_id = 0;
    int32_t sent_status = -1;
    /* The Online event is announced. */
    CHECK(take_when_ready(carol, ready, 5000, &inbox, &sent_id, &sent_status) >= 1);
    /* The callback was called too (it may run just after the write). */
    double deadline = now() + 5;
    while (ready_calls(&count) == 0 && now() < deadline) {
        sleep_ms(10);
    }
    CHECK(ready_calls(&count) >= 1);
    /* Nothing waits: nothing is announced. */
    CHECK(take_when_ready(carol, ready, 300, &inbox, &sent_id, &sent_status) == 0);

    httpqq_session *alice = login_alice(client);
    OK(httpqq_session_send_message(alice, 10003, "ready?", NULL));
    deadline = now() + 5;
    while (inbox.count == 0 && now() < deadline) {
        take_when_ready(carol, ready, 500, &inbox, &sent_id, &sent_status);
    }
    CHECK(count_text(&inbox, "ready?") == 1);

    /* A send started without waiting: its result is announced too. */
    uint64_t id = 0;
    OK(httpqq_agent_start_send(carol, 10001, "started", &id, NULL));
    CHECK(id == 1);
    deadline = now() + 5;
    while (sent_id == 0 && now() < deadline) {
        take_when_ready(carol, ready, 500, &inbox, &sent_id, &sent_status);
    }
    CHECK(sent_id == 1 && sent_status == HTTPQQ_STATUS_OK);
    httpqq_message_list *got = NULL;
    OK(httpqq_session_fetch_messages(alice, &got, NULL));
    int found = 0;
    for (size_t i = 0; i < httpqq_message_list_len(got); i++) {
        const char *text = httpqq_message_text(httpqq_message_list_get(got, i), NULL);
        found += text != NULL && strcmp(text, "started") == 0;
    }
    CHECK(found == 1);
    httpqq_message_list_free(got);

    /* A started send to a paused server, then a stop: its result is in by
     * the agent's last event. */
    httpqq_server_pause(server);
    OK(httpqq_agent_start_send(carol, 10001, "cut short", &id, NULL));
    CHECK(id == 2);
    sleep_ms(200);
    httpqq_agent_stop(carol);
    CHECK(await(carol, HTTPQQ_EVENT_KIND_STOPPED, 5, NULL));
    httpqq_sent *sent = NULL;
    OK(httpqq_agent_take_sent(carol, &sent, NULL));
    CHECK(sent != NULL);
    CHECK(httpqq_sent_id(sent) == 2);
    CHECK(httpqq_sent_status(sent) == HTTPQQ_STATUS_CANCELLED);
    CHECK(httpqq_sent_outcome(sent) == HTTPQQ_OUTCOME_UNKNOWN);
    CHECK(strstr(httpqq_sent_error_message(sent), "cancelled") != NULL);
    CHECK(httpqq_sent_retry_after_ms(sent) == 0);
    httpqq_sent_free(sent);
    sent = (httpqq_sent *)0x1;
    OK(httpqq_agent_take_sent(carol, &sent, NULL));
    CHECK(sent == NULL);
    httpqq_server_resume(server);
    httpqq_agent_free(carol);
#ifdef _WIN32
    CloseHandle(count.event);
#else
    close(fds[0]);
    close(fds[1]);
#endif

    httpqq_session_logout(alice, NULL);
    httpqq_session_free(alice);
    httpqq_client_free(client);
}

static void test_misuse(void) {
    httpqq_client *client = client_with_timeout(2000);
    httpqq_agent *agent = (httpqq_agent *)0x1;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start(NULL, 10002, "demo", NULL, &agent, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start(client, 10002, NULL, NULL, &agent, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start(client, 10002, "bad \xfe", NULL, &agent, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start(client, 10002, "demo", NULL, NULL, NULL));
    CHECK(agent == (httpqq_agent *)0x1);
    httpqq_agent_options *options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_poll_interval_ms(options, 0, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    OK(httpqq_agent_options_set_poll_interval_ms(options, 100, NULL));
    OK(httpqq_agent_options_set_backoff_initial_ms(options, 0, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    httpqq_agent_options_free(options);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_relogin(NULL, true, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_logout_on_stop(NULL, true, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_event_fd(NULL, 1, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_event_callback(NULL, count_ready, NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_options_set_backoff_factor(NULL, 2.0, NULL));
    options = httpqq_agent_options_new();
    OK(httpqq_agent_options_set_backoff_factor(options, 0.5, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    OK(httpqq_agent_options_set_backoff_factor(options, 2.0, NULL));
    OK(httpqq_agent_options_set_backoff_jitter(options, 1.5, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_agent_start(client, 10002, "demo", options, &agent, NULL));
    OK(httpqq_agent_options_set_event_fd(options, -1, NULL));
    OK(httpqq_agent_options_set_event_callback(options, NULL, NULL, NULL));
    httpqq_agent_options_free(options);
    httpqq_event *event = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_next_event(NULL, 0, &event, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_run(NULL, on_event, NULL, NULL));
    uint32_t outcome = 0;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_send(NULL, 1, "x", &outcome, NULL));
    httpqq_agent_stop(NULL);
    httpqq_agent_free(NULL);
    httpqq_event_free(NULL);
    httpqq_agent_options_free(NULL);
    CHECK(!httpqq_agent_wait_stopped(NULL, 0));
    CHECK(httpqq_agent_get_state(NULL) == HTTPQQ_AGENT_STATE_STOPPED);
    CHECK(httpqq_event_get_kind(NULL) == 0);
    CHECK(httpqq_event_message(NULL) == NULL);
    CHECK(httpqq_event_error_message(NULL) == NULL);
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_STOPPED), "stopped");

    OK(httpqq_agent_start(client, 10002, "demo", NULL, &agent, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_send(agent, 10001, NULL, &outcome, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_send(agent, 10001, "x", NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_run(agent, NULL, NULL, NULL));
    uint64_t id = 99;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start_send(agent, 10001, NULL, &id, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start_send(agent, 10001, "x", NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_start_send(NULL, 10001, "x", &id, NULL));
    CHECK(id == 99);
    httpqq_sent *sent = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_take_sent(NULL, &sent, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_agent_take_sent(agent, NULL, NULL));
    CHECK(httpqq_sent_id(NULL) == 0);
    CHECK(httpqq_sent_status(NULL) == HTTPQQ_STATUS_INVALID_ARGUMENT);
    CHECK(httpqq_sent_outcome(NULL) == HTTPQQ_OUTCOME_UNKNOWN);
    CHECK(httpqq_sent_error_message(NULL) == NULL);
    httpqq_sent_free(NULL);
    CHECK(httpqq_event_outcome(NULL) == HTTPQQ_OUTCOME_ACCEPTED);
    CHECK(httpqq_agent_uin(agent) == 10002);
    httpqq_agent_stop(agent);
    CHECK(httpqq_agent_wait_stopped(agent, 5000));
    httpqq_agent_free(agent);
    httpqq_client_free(client);
}

int main(void) {
    httpqq_server *server = start_server_or_exit();
    endpoint = httpqq_server_endpoint(server);

    test_misuse();
    test_run_callback();
    test_restart(server);
    test_expired_session(server);
    test_throttled(server);
    test_black_hole(server);
    test_stop_during_backoff(server);
    test_stop_with_a_request_in_flight(server);
    test_dropped_sessions_are_backed_off(server);
    test_password_changed(server);
    test_inbox();
    test_send_pace_and_retries(server);
    test_readiness(server);

    httpqq_server_free(server);
    return finish("test_agent");
}
