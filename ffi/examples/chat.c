/*
 * chat.c: two demo accounts chat through a server, with nothing but
 * libhttpqq (the client).
 *
 *   cc chat.c -o chat $(pkg-config --cflags --libs httpqq)
 *   httpqq-server --demo --listen 127.0.0.1:8000 &
 *   ./chat 127.0.0.1:8000
 *
 * (With PKG_CONFIG_PATH=PREFIX/lib/pkgconfig if the prefix where libhttpqq
 * is installed or unpacked is not searched.) A test starts its server in
 * its own process instead, with libhttpqq_testing: see httpqq_testing.h.
 */
#include <httpqq.h>

#include <stdio.h>
#include <stdlib.h>

/* Prints the library's message for a failed call and exits. */
static void check(httpqq_status status, const char *what) {
    if (status != HTTPQQ_STATUS_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, httpqq_status_name(status),
                httpqq_last_error_message());
        exit(1);
    }
}

static void print_messages(const char *who, httpqq_session *session) {
    httpqq_message_list *messages = NULL;
    check(httpqq_session_fetch_messages(session, &messages, NULL), "fetching messages");
    for (size_t i = 0; i < httpqq_message_list_len(messages); i++) {
        const httpqq_message *m = httpqq_message_list_get(messages, i);
        uint32_t kind = httpqq_message_get_kind(m);
        if (kind == HTTPQQ_MESSAGE_KIND_STATUS_CHANGE) {
            printf("%s sees %llu become %s\n", who,
                   (unsigned long long)httpqq_message_sender(m),
                   httpqq_online_status_name(httpqq_message_status(m)));
        } else {
            printf("%s got from %llu: %s\n", who,
                   (unsigned long long)httpqq_message_sender(m),
                   httpqq_message_text(m, NULL));
        }
    }
    httpqq_message_list_free(messages); /* also frees every message in it */
}

int main(int argc, char **argv) {
    printf("libhttpqq %s\n", httpqq_version());

    /* A server with the demo accounts (password "demo"). */
    const char *endpoint = argc > 1 ? argv[1] : "127.0.0.1:8000";
    printf("talking to %s\n", endpoint);

    httpqq_client *client = NULL;
    check(httpqq_client_new(endpoint, &client, NULL), "making the client");

    httpqq_session *alice = NULL, *bob = NULL;
    check(httpqq_client_login(client, 10001, "demo", &alice, NULL), "Alice's login");
    check(httpqq_client_login(client, 10002, "demo", &bob, NULL), "Bob's login");

    httpqq_online_list *online = NULL;
    check(httpqq_session_online_friends(alice, 0, &online, NULL), "listing friends online");
    for (size_t i = 0; i < httpqq_online_list_len(online); i++) {
        const httpqq_online_friend *f = httpqq_online_list_get(online, i);
        printf("Alice's friend %s (%llu) is %s\n", httpqq_online_friend_nickname(f),
               (unsigned long long)httpqq_online_friend_uin(f),
               httpqq_online_status_name(httpqq_online_friend_status(f)));
    }
    httpqq_online_list_free(online);

    check(httpqq_session_send_message(alice, 10002, "你好, Bob", NULL), "sending");
    check(httpqq_session_send_message(alice, 10002, "1+1=2 & 2+2=4", NULL), "sending");
    print_messages("Bob", bob);

    check(httpqq_session_set_status(bob, HTTPQQ_ONLINE_STATUS_BUSY, NULL), "changing status");
    check(httpqq_session_send_message(bob, 10001, "busy now, talk later", NULL), "sending");
    print_messages("Alice", alice);

    check(httpqq_session_logout(alice, NULL), "Alice's logout");
    check(httpqq_session_logout(bob, NULL), "Bob's logout");
    httpqq_session_free(alice);
    httpqq_session_free(bob);
    httpqq_client_free(client);
    return 0;
}
