/*
 * with_test_server.c: what a C test does with libhttpqq_testing: start the
 * reference server in the test's own process, chat through it, rehearse
 * a restart, and check what happened.
 *
 *   cc with_test_server.c -o with_test_server $(pkg-config --cflags --libs httpqq-testing)
 *   ./with_test_server
 */
#include <httpqq_testing.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAILED: %s (%s)\n", what, httpqq_last_error_message());
        exit(1);
    }
}

int main(void) {
    httpqq_error *error = httpqq_error_new();
    httpqq_server *server = NULL;
    check(httpqq_server_start(NULL, NULL, &server, error) == HTTPQQ_STATUS_OK, "starting the server");

    httpqq_client *client = NULL;
    check(httpqq_client_new(httpqq_server_endpoint(server), &client, error) == HTTPQQ_STATUS_OK,
          "making the client");
    httpqq_session *alice = NULL, *bob = NULL;
    check(httpqq_client_login(client, 10001, "demo", &alice, error) == HTTPQQ_STATUS_OK, "Alice's login");
    check(httpqq_client_login(client, 10002, "demo", &bob, error) == HTTPQQ_STATUS_OK, "Bob's login");
    check(httpqq_session_send_message(alice, 10002, "你好, Bob", error) == HTTPQQ_STATUS_OK, "sending");

    httpqq_message_list *messages = NULL;
    check(httpqq_session_fetch_messages(bob, &messages, error) == HTTPQQ_STATUS_OK, "fetching");
    int got = 0;
    for (size_t i = 0; i < httpqq_message_list_len(messages); i++) {
        const httpqq_message *m = httpqq_message_list_get(messages, i);
        if (httpqq_message_get_kind(m) == HTTPQQ_MESSAGE_KIND_TEXT &&
            strcmp(httpqq_message_text(m, NULL), "你好, Bob") == 0) {
            got = 1;
        }
    }
    httpqq_message_list_free(messages);
    check(got, "Bob got Alice's message");

    /* A restart: the sessions are gone, and the server says so (RES=20). */
    httpqq_server_stop_listening(server);
    check(httpqq_server_restart(server, error) == HTTPQQ_STATUS_OK, "restarting");
    check(httpqq_session_send_message(alice, 10002, "again", error) == HTTPQQ_STATUS_NOT_LOGGED_IN,
          "a session the restart ended");
    check(httpqq_server_request_count(server, 10001, "CLTMSG", -1) == 2, "two sends counted");

    httpqq_session_free(alice);
    httpqq_session_free(bob);
    httpqq_client_free(client);
    httpqq_server_free(server);
    httpqq_error_free(error);
    printf("with_test_server: ok\n");
    return 0;
}
