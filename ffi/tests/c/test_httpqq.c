/*
 * The C test suite of libhttpqq, against the in-process reference server.
 *
 * Built twice by `make test-c` (once with the shared, once with the static
 * library, both from the installed prefix) and run under valgrind memcheck.
 * Prints one line per check that fails and exits 1 if any did.
 */
#define _POSIX_C_SOURCE 200809L
#include <httpqq_testing.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "net.h"

static const char *endpoint;

static httpqq_session *login(httpqq_client *client, uint64_t uin) {
    httpqq_session *session = NULL;
    OK(httpqq_client_login(client, uin, "demo", &session, NULL));
    return session;
}

/* Fetches until `want` messages arrived or 20 polls passed. */
static httpqq_message_list *fetch(httpqq_session *session) {
    httpqq_message_list *list = NULL;
    OK(httpqq_session_fetch_messages(session, &list, NULL));
    return list;
}

/* A listening socket on an ephemeral loopback port; its "127.0.0.1:port"
 * goes to `address`. */
static sock_t loopback_listener(char *address, size_t size) {
    sock_t listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(listener, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(listener, 8) == 0);
    socklen_t len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &len);
    snprintf(address, size, "127.0.0.1:%d", ntohs(addr.sin_port));
    return listener;
}

static void test_version_and_names(void) {
    CHECK_STR(httpqq_version(), HTTPQQ_VERSION);
    CHECK(HTTPQQ_VERSION_NUMBER ==
          HTTPQQ_VERSION_MAJOR * 10000 + HTTPQQ_VERSION_MINOR * 100 +
              HTTPQQ_VERSION_PATCH);
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_OK), "ok");
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_NOT_LOGGED_IN), "not logged in");
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_INTERNAL), "internal error");
    CHECK_STR(httpqq_status_name(999), "unknown status");
    CHECK_STR(httpqq_online_status_name(HTTPQQ_ONLINE_STATUS_BUSY), "busy");
    CHECK_STR(httpqq_online_status_chinese_name(HTTPQQ_ONLINE_STATUS_ONLINE), "上线");
    CHECK_STR(httpqq_online_status_name(15), "other");
    CHECK_STR(httpqq_message_kind_name(HTTPQQ_MESSAGE_KIND_TEXT), "text");
    CHECK(strlen(httpqq_gender_name(1)) > 0);
    CHECK(strlen(httpqq_gender_chinese_name(1)) > 0);
    CHECK(strlen(httpqq_blood_type_name(2)) > 0);
    CHECK(strlen(httpqq_blood_type_chinese_name(2)) > 0);
    CHECK(strlen(httpqq_constellation_name(6)) > 0);
    CHECK(strlen(httpqq_constellation_chinese_name(6)) > 0);
    CHECK(strlen(httpqq_zodiac_name(3)) > 0);
    CHECK(strlen(httpqq_zodiac_chinese_name(3)) > 0);
}

static void test_free_null_is_a_no_op(void) {
    httpqq_client_builder_free(NULL);
    httpqq_client_free(NULL);
    httpqq_session_free(NULL);
    httpqq_friend_list_free(NULL);
    httpqq_online_list_free(NULL);
    httpqq_message_list_free(NULL);
    httpqq_user_info_free(NULL);
    httpqq_request_free(NULL);
    httpqq_reply_free(NULL);
    httpqq_server_free(NULL);
    httpqq_string_free(NULL);
    CHECK(httpqq_friend_list_len(NULL) == 0);
    CHECK(httpqq_message_list_get(NULL, 0) == NULL);
    CHECK(httpqq_message_text(NULL, NULL) == NULL);
    CHECK(httpqq_user_info_age(NULL) == -1);
    CHECK(httpqq_session_uin(NULL) == 0);
    CHECK(httpqq_server_endpoint(NULL) == NULL);
}

static void test_invalid_arguments(httpqq_client *client, httpqq_session *alice) {
    httpqq_session *session = (httpqq_session *)0x1; /* sentinel: must stay */
    httpqq_client *other = (httpqq_client *)0x1;
    uint32_t count = 4242;

    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_login(NULL, 10001, "demo", &session, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_login(client, 10001, NULL, &session, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_login(client, 10001, "demo", NULL, NULL));
    CHECK(strstr(httpqq_last_error_message(), "NULL") != NULL);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_login(client, 10001, "de\xffmo", &session, NULL));
    CHECK(strstr(httpqq_last_error_message(), "UTF-8") != NULL);
    CHECK(session == (httpqq_session *)0x1);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_login_md5(client, 10001, "abc", &session, NULL));
    CHECK(session == (httpqq_session *)0x1);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_new(NULL, &other, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_new("\xc3\x28", &other, NULL));
    CHECK(other == (httpqq_client *)0x1);

    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_friend_count(NULL, &count, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_friend_count(alice, NULL, NULL));
    CHECK(count == 4242);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_send_message(alice, 10002, NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_send_message(alice, 10002, "bad \xfe utf-8", NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_reject(alice, 10002, NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_verify(alice, 10002, 7, "x", NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_listen(alice, 10, NULL, NULL, NULL));
    httpqq_user_info *info = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_user_info(alice, 10001, 1, &info, NULL));
    CHECK(info == NULL);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_builder_set_endpoint(NULL, "x", NULL));
    CHECK(httpqq_user_info_get(NULL, "NK") == NULL);

    /* A successful call clears the last error. */
    OK(httpqq_session_friend_count(alice, &count, NULL));
    CHECK_STR(httpqq_last_error_message(), "");
}

static void test_profile(httpqq_session *alice) {
    httpqq_user_info *info = NULL;
    OK(httpqq_session_user_info(alice, 10001, HTTPQQ_INFO_LEVEL_FULL, &info, NULL));
    CHECK(httpqq_user_info_uin(info) == 10001);
    CHECK(httpqq_user_info_level(info) == 3);
    CHECK_STR(httpqq_user_info_nickname(info), "Alice 爱丽丝");
    CHECK_STR(httpqq_user_info_city(info), "苏州");
    CHECK_STR(httpqq_user_info_province(info), "江苏");
    CHECK_STR(httpqq_user_info_country(info), "中华人民共和国");
    CHECK_STR(httpqq_user_info_address(info), "苏州市某路1号");
    CHECK_STR(httpqq_user_info_email(info), "alice@example.com");
    CHECK_STR(httpqq_user_info_homepage(info), "http://alice.example.com");
    CHECK_STR(httpqq_user_info_occupation(info), "学生");
    CHECK_STR(httpqq_user_info_mobile(info), "136********");
    CHECK_STR(httpqq_user_info_postal_code(info), "215000");
    CHECK_STR(httpqq_user_info_phone(info), "0512-0000000");
    CHECK_STR(httpqq_user_info_introduction(info), "Testing HTTP QQ, 1+1=2 & more");
    CHECK_STR(httpqq_user_info_real_name(info), "爱丽丝");
    CHECK_STR(httpqq_user_info_school(info), "某大学");
    CHECK(httpqq_user_info_age(info) == 19);
    CHECK(httpqq_user_info_face(info) == 270);
    CHECK(httpqq_user_info_gender(info) == 1);
    CHECK(httpqq_user_info_blood_type(info) == 2);
    CHECK(httpqq_user_info_constellation(info) == 6);
    CHECK(httpqq_user_info_zodiac(info) == 3);
    CHECK_STR(httpqq_user_info_get(info, "CV"), "\x01");
    CHECK(httpqq_user_info_get(info, "NO") == NULL);
    size_t n = httpqq_user_info_field_count(info);
    CHECK(n > 20);
    int saw_nk = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = httpqq_user_info_field_key(info, i);
        CHECK(key != NULL && httpqq_user_info_field_value(info, i) != NULL);
        if (key && strcmp(key, "NK") == 0) saw_nk = 1;
    }
    CHECK(saw_nk);
    CHECK(httpqq_user_info_field_key(info, n) == NULL);
    httpqq_user_info_free(info);

    OK(httpqq_session_user_info(alice, 10002, HTTPQQ_INFO_LEVEL_BRIEF, &info, NULL));
    CHECK_STR(httpqq_user_info_nickname(info), "Bob 鲍勃");
    CHECK(httpqq_user_info_email(info) == NULL);
    CHECK(httpqq_user_info_age(info) == -1);
    httpqq_user_info_free(info);

    info = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_UIN, httpqq_session_user_info(alice, 99999, 0, &info, NULL));
    CHECK(info == NULL);
}

static void test_lists(httpqq_session *alice) {
    uint32_t count = 0;
    OK(httpqq_session_friend_count(alice, &count, NULL));
    CHECK(count == 1);
    httpqq_friend_list *friends = NULL;
    OK(httpqq_session_friends(alice, 0, &friends, NULL));
    CHECK(httpqq_friend_list_len(friends) == 1);
    CHECK(httpqq_friend_list_get(friends, 0) == 10002);
    CHECK(httpqq_friend_list_get(friends, 1) == 0);
    httpqq_friend_list_free(friends);

    OK(httpqq_session_online_count(alice, &count, NULL));
    CHECK(count == 1);
    httpqq_online_list *online = NULL;
    OK(httpqq_session_online_friends(alice, 10, &online, NULL));
    CHECK(httpqq_online_list_len(online) == 1);
    const httpqq_online_friend *bob = httpqq_online_list_get(online, 0);
    CHECK(httpqq_online_friend_uin(bob) == 10002);
    CHECK(httpqq_online_friend_face(bob) == 3);
    CHECK(httpqq_online_friend_status(bob) == HTTPQQ_ONLINE_STATUS_ONLINE);
    CHECK_STR(httpqq_online_friend_nickname(bob), "Bob 鲍勃");
    CHECK(httpqq_online_list_get(online, 1) == NULL);
    httpqq_online_list_free(online);
}

static void test_message_round_trip(httpqq_session *alice, httpqq_session *bob) {
    const char *text = "a&b=c,d%e+f 1+1=2\nnew line 你好 ünïcode";
    OK(httpqq_session_send_message(alice, 10002, text, NULL));
    httpqq_message_list *list = fetch(bob);
    CHECK(httpqq_message_list_len(list) == 1);
    const httpqq_message *m = httpqq_message_list_get(list, 0);
    CHECK(httpqq_message_get_kind(m) == HTTPQQ_MESSAGE_KIND_TEXT);
    CHECK(httpqq_message_sender(m) == 10001);
    size_t len = 0;
    CHECK_STR(httpqq_message_text(m, &len), text);
    CHECK(len == strlen(text));
    CHECK(httpqq_message_status(m) == 0);
    httpqq_message_list_free(list);

    /* Nothing twice. */
    list = fetch(bob);
    CHECK(httpqq_message_list_len(list) == 0);
    httpqq_message_list_free(list);
}

static void test_status_change(httpqq_session *alice, httpqq_session *bob) {
    httpqq_message_list *drain = fetch(alice);
    httpqq_message_list_free(drain);
    OK(httpqq_session_set_status(bob, HTTPQQ_ONLINE_STATUS_BUSY, NULL));
    httpqq_message_list *list = NULL;
    OK(httpqq_session_poll(alice, &list, NULL));
    int seen = 0;
    for (size_t i = 0; i < httpqq_message_list_len(list); i++) {
        const httpqq_message *m = httpqq_message_list_get(list, i);
        if (httpqq_message_get_kind(m) == HTTPQQ_MESSAGE_KIND_STATUS_CHANGE &&
            httpqq_message_sender(m) == 10002) {
            seen = httpqq_message_status(m) == HTTPQQ_ONLINE_STATUS_BUSY;
            CHECK_STR(httpqq_message_text(m, NULL), "30");
        }
    }
    CHECK(seen);
    httpqq_message_list_free(list);
    OK(httpqq_session_set_status(bob, HTTPQQ_ONLINE_STATUS_ONLINE, NULL));
}

/* Returns the first message of `kind` from `from` in one fetch, as text. */
static int fetch_finds(httpqq_session *session, uint32_t kind, uint64_t from,
                       const char *text) {
    httpqq_message_list *list = fetch(session);
    int found = 0;
    for (size_t i = 0; i < httpqq_message_list_len(list); i++) {
        const httpqq_message *m = httpqq_message_list_get(list, i);
        if (httpqq_message_get_kind(m) == kind && httpqq_message_sender(m) == from &&
            strcmp(httpqq_message_text(m, NULL), text) == 0)
            found = 1;
    }
    httpqq_message_list_free(list);
    return found;
}

static void test_friends_and_verification(httpqq_client *client, httpqq_session *alice,
                                          httpqq_session *bob) {
    uint32_t outcome = 99;
    OK(httpqq_session_add_friend(alice, 10005, &outcome, NULL));
    CHECK(outcome == HTTPQQ_ADD_FRIEND_OUTCOME_ADDED);
    OK(httpqq_session_add_friend(alice, 10004, &outcome, NULL));
    CHECK(outcome >= HTTPQQ_ADD_FRIEND_OUTCOME_REFUSED);
    OK(httpqq_session_add_friend(alice, 10003, &outcome, NULL));
    CHECK(outcome == HTTPQQ_ADD_FRIEND_OUTCOME_NEEDS_VERIFICATION);

    httpqq_session *carol = login(client, 10003);
    OK(httpqq_session_request_verification(alice, 10003, "我是 Alice & friends", NULL));
    CHECK(fetch_finds(carol, HTTPQQ_MESSAGE_KIND_VERIFICATION_REQUEST, 10001,
                      "我是 Alice & friends"));
    OK(httpqq_session_approve(carol, 10001, NULL));
    CHECK(fetch_finds(alice, HTTPQQ_MESSAGE_KIND_APPROVED, 10003, ""));

    OK(httpqq_session_add_friend(bob, 10003, &outcome, NULL));
    OK(httpqq_session_verify(bob, 10003, 2, "Bob here", NULL));
    CHECK(fetch_finds(carol, HTTPQQ_MESSAGE_KIND_VERIFICATION_REQUEST, 10002, "Bob here"));
    OK(httpqq_session_reject(carol, 10002, "no, thanks", NULL));
    CHECK(fetch_finds(bob, HTTPQQ_MESSAGE_KIND_REJECTED, 10003, "no, thanks"));

    OK(httpqq_session_remove_friend(alice, 10005, NULL));
    EXPECT(HTTPQQ_STATUS_THROTTLED, httpqq_session_remove_friend(alice, 10005, NULL));

    OK(httpqq_session_logout(carol, NULL));
    httpqq_session_free(carol);
}

static void test_login_failures_and_logout(httpqq_client *client) {
    httpqq_session *session = NULL;
    EXPECT(HTTPQQ_STATUS_LOGIN_FAILED, httpqq_client_login(client, 10005, "wrong", &session, NULL));
    CHECK(session == NULL);
    CHECK(httpqq_last_error_reason() != NULL && strlen(httpqq_last_error_reason()) > 0);
    CHECK(strstr(httpqq_last_error_message(), httpqq_last_error_reason()) != NULL);

    /* md5("demo") */
    OK(httpqq_client_login_md5(client, 10005, "fe01ce2a7fbac8fafaed7c982a04e229", &session, NULL));
    CHECK(httpqq_session_uin(session) == 10005);
    CHECK(httpqq_session_heartbeat_ms(session) == 60000);
    CHECK(httpqq_session_idle_timeout_ms(session) == 300000);
    OK(httpqq_session_logout(session, NULL));
    uint32_t count = 77;
    EXPECT(HTTPQQ_STATUS_NOT_LOGGED_IN, httpqq_session_friend_count(session, &count, NULL));
    CHECK(count == 77);
    CHECK(httpqq_last_error_reason() == NULL);
    OK(httpqq_session_relogin(session, NULL));
    OK(httpqq_session_friend_count(session, &count, NULL));
    OK(httpqq_session_logout(session, NULL));
    OK(httpqq_session_set_auto_relogin(session, true, NULL));
    OK(httpqq_session_friend_count(session, &count, NULL));
    OK(httpqq_session_logout(session, NULL));
    httpqq_session_free(session);
}

static void test_network_failures(void) {
    /* A port nobody listens on: stop a server and reuse its address. */
    httpqq_server *gone = NULL;
    OK(httpqq_server_start(NULL, NULL, &gone, NULL));
    char address[64];
    snprintf(address, sizeof address, "%s", httpqq_server_endpoint(gone));
    httpqq_server_free(gone);
    httpqq_client *client = NULL;
    OK(httpqq_client_new(address, &client, NULL));
    httpqq_session *session = NULL;
    EXPECT(HTTPQQ_STATUS_TRANSPORT, httpqq_client_login(client, 10001, "demo", &session, NULL));
    httpqq_client_free(client);

    /* A server that accepts (in the backlog) and never answers. */
    sock_t silent = loopback_listener(address, sizeof address);

    httpqq_client_builder *builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, address, NULL));
    OK(httpqq_client_builder_set_connect_timeout_ms(builder, 300, NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, 400, NULL));
    OK(httpqq_client_builder_set_keep_alive(builder, false, NULL));
    OK(httpqq_client_builder_set_auto_relogin(builder, false, NULL));
    OK(httpqq_client_builder_set_max_reply_size(builder, 1 << 20, NULL));
    OK(httpqq_client_builder_build(builder, &client, NULL));
    double start = now();
    EXPECT(HTTPQQ_STATUS_TIMEOUT, httpqq_client_login(client, 10001, "demo", &session, NULL));
    double elapsed = now() - start;
    /* Not early (a 10% allowance for the clocks), and bounded. */
    CHECK(elapsed >= 0.36 && elapsed <= 0.4 + LATE_BY_AT_MOST);
    httpqq_client_free(client);
    sock_close(silent);

    /* Settings that cannot be used. */
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_client_new("http://host/path", &client, NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, 0, NULL));
    client = NULL;
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_client_builder_build(builder, &client, NULL));
    CHECK(client == NULL);
    httpqq_client_builder_free(builder);
}

/* A message too long for a server: refused before it is sent. */
static void test_too_large(httpqq_session *alice) {
    size_t size = 65 * 1024;
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memset(text, 'x', size);
    text[size] = '\0';
    EXPECT(HTTPQQ_STATUS_TOO_LARGE, httpqq_session_send_message(alice, 10002, text, NULL));
    CHECK(httpqq_last_error_outcome() == HTTPQQ_OUTCOME_REFUSED);
    CHECK(strstr(httpqq_last_error_message(), "send the message in parts") != NULL);
    CHECK_STR(httpqq_status_name(HTTPQQ_STATUS_TOO_LARGE), "too large");
    text[60 * 1024] = '\0';
    OK(httpqq_session_send_message(alice, 10005, text, NULL)); /* what fits is sent */
    free(text);
}

/* TLS (this project's extension): a round trip with the test server's
 * certificate trusted; without it, a TLS error with nothing sent; settings
 * that cannot work refused when the client is built. */
static void test_tls(void) {
    httpqq_server *server = NULL;
    OK(httpqq_server_start_tls(NULL, NULL, &server, NULL));
    const char *tls_endpoint = httpqq_server_tls_endpoint(server);
    const char *pem = httpqq_server_tls_ca_pem(server);
    CHECK(tls_endpoint != NULL && strncmp(tls_endpoint, "https://127.0.0.1:", 18) == 0);
    CHECK(pem != NULL && strstr(pem, "-----BEGIN CERTIFICATE-----") != NULL);

    httpqq_client_builder *builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, tls_endpoint, NULL));
    OK(httpqq_client_builder_set_ca_pem(builder, pem, NULL));
    OK(httpqq_client_builder_set_keep_alive(builder, true, NULL));
    httpqq_client *client = NULL;
    OK(httpqq_client_builder_build(builder, &client, NULL));
    httpqq_client_builder_free(builder);
    httpqq_session *alice = login(client, 10001);
    httpqq_session *bob = login(client, 10002);
    OK(httpqq_session_send_message(alice, 10002, "over TLS", NULL));
    httpqq_message_list *list = fetch(bob);
    CHECK(httpqq_message_list_len(list) == 1);
    size_t length = 0;
    CHECK(strcmp(httpqq_message_text(httpqq_message_list_get(list, 0), &length), "over TLS") == 0);
    httpqq_message_list_free(list);
    OK(httpqq_session_logout(alice, NULL));
    OK(httpqq_session_logout(bob, NULL));
    httpqq_session_free(alice);
    httpqq_session_free(bob);
    httpqq_client_free(client);

    /* Not trusted: Mozilla's roots do not hold the test certificate. */
    OK(httpqq_client_new(tls_endpoint, &client, NULL));
    httpqq_session *session = NULL;
    EXPECT(HTTPQQ_STATUS_TRANSPORT, httpqq_client_login(client, 10001, "demo", &session, NULL));
    CHECK(httpqq_last_error_outcome() == HTTPQQ_OUTCOME_REFUSED);
    CHECK(strstr(httpqq_last_error_message(), "tls") != NULL);
    CHECK(strstr(httpqq_last_error_message(), "unknown issuer") != NULL);
    httpqq_client_free(client);

    /* A CA without TLS, a CA file that is not there, TLS off with https. */
    builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, httpqq_server_endpoint(server), NULL));
    OK(httpqq_client_builder_set_ca_pem(builder, pem, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_client_builder_build(builder, &client, NULL));
    OK(httpqq_client_builder_set_tls(builder, true, NULL));
    OK(httpqq_client_builder_set_ca_file(builder, "/nonexistent/ca.pem", NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_client_builder_build(builder, &client, NULL));
    CHECK(strstr(httpqq_last_error_message(), "/nonexistent/ca.pem") != NULL);
    OK(httpqq_client_builder_set_endpoint(builder, tls_endpoint, NULL));
    OK(httpqq_client_builder_set_ca_pem(builder, pem, NULL));
    OK(httpqq_client_builder_set_tls(builder, false, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_CONFIG, httpqq_client_builder_build(builder, &client, NULL));
    httpqq_client_builder_free(builder);
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_builder_set_ca_pem(NULL, pem, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_client_builder_set_tls(NULL, true, NULL));
    CHECK(httpqq_server_tls_endpoint(NULL) == NULL && httpqq_server_tls_ca_pem(NULL) == NULL);
    httpqq_server_free(server);

    /* A server without TLS has neither. */
    OK(httpqq_server_start(NULL, NULL, &server, NULL));
    CHECK(httpqq_server_tls_endpoint(server) == NULL && httpqq_server_tls_ca_pem(server) == NULL);
    httpqq_server_free(server);
}

/* A peer that reads one request and closes without a reply (the NULL). */
static void *close_without_reply(void *arg) {
    sock_t listener = *(sock_t *)arg;
    sock_t connection = accept(listener, NULL, NULL);
    if (connection != SOCK_INVALID) {
        char buffer[4096];
        (void)sock_read(connection, buffer, sizeof buffer);
        sock_close(connection);
    }
    return NULL;
}

static void test_no_reply_over_the_network(void) {
    char address[64];
    sock_t listener = loopback_listener(address, sizeof address);
    pthread_t peer;
    CHECK(pthread_create(&peer, NULL, close_without_reply, &listener) == 0);

    httpqq_client *client = NULL;
    OK(httpqq_client_new(address, &client, NULL));
    httpqq_session *session = NULL;
    EXPECT(HTTPQQ_STATUS_NO_REPLY, httpqq_client_login(client, 10001, "demo", &session, NULL));
    CHECK(session == NULL);
    pthread_join(peer, NULL);
    sock_close(listener);
    httpqq_client_free(client);
}

/* A login on its own thread, and what became of it. */
struct waiting_login {
    httpqq_client *client;
    int32_t status;
    uint32_t outcome;
};

static void *login_and_record(void *arg) {
    struct waiting_login *w = arg;
    httpqq_error *error = httpqq_error_new();
    httpqq_session *session = NULL;
    w->status = httpqq_client_login(w->client, 10001, "demo", &session, error);
    w->outcome = httpqq_error_outcome(error);
    httpqq_session_free(session);
    httpqq_error_free(error);
    return NULL;
}

/* httpqq_client_shutdown ends a call in flight on another thread (here a
 * login to a peer that takes the connection and never answers) instead of
 * leaving it to its 30 s timeout, and every later call of the client and
 * of its sessions fails at once. */
static void test_shutdown(void) {
    char address[64];
    sock_t listener = loopback_listener(address, sizeof address); /* never accepts */
    struct waiting_login w = {NULL, -1, 0};
    OK(httpqq_client_new(address, &w.client, NULL));
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, login_and_record, &w) == 0);
    sleep_ms(300);
    httpqq_client_shutdown(w.client);
    pthread_join(thread, NULL);
    EXPECT(HTTPQQ_STATUS_CANCELLED, w.status);
    CHECK(w.outcome == HTTPQQ_OUTCOME_UNKNOWN); /* it was sent */
    httpqq_client_free(w.client);
    sock_close(listener);

    /* Through a session, once its client is freed. */
    httpqq_client *other = NULL;
    OK(httpqq_client_new(endpoint, &other, NULL));
    httpqq_session *dave = login(other, 10004);
    httpqq_client_free(other);
    httpqq_session_shutdown(dave);
    EXPECT(HTTPQQ_STATUS_CANCELLED, httpqq_session_send_message(dave, 10001, "after", NULL));
    httpqq_session_shutdown(NULL);
    httpqq_session_free(dave);

    httpqq_client *client = NULL;
    OK(httpqq_client_new(endpoint, &client, NULL));
    httpqq_session *carol = login(client, 10003);
    httpqq_client_shutdown(client);
    httpqq_client_shutdown(client); /* idempotent */
    httpqq_error *error = httpqq_error_new();
    EXPECT(HTTPQQ_STATUS_CANCELLED, httpqq_session_send_message(carol, 10001, "after", error));
    CHECK(httpqq_error_outcome(error) == HTTPQQ_OUTCOME_REFUSED); /* nothing sent */
    httpqq_session *again = NULL;
    EXPECT(HTTPQQ_STATUS_CANCELLED, httpqq_client_login(client, 10003, "demo", &again, NULL));
    CHECK(again == NULL);
    httpqq_client_shutdown(NULL);
    httpqq_error_free(error);
    httpqq_session_free(carol);
    httpqq_client_free(client);
}

/* A peer that reads one request, writes `reply` (then `flood_mb` MiB of
 * zeros, as a reply that never ends), then waits `stall_ms` before
 * closing. */
struct scripted {
    sock_t listener;
    const char *reply;
    size_t len;
    int stall_ms;
    int flood_mb;
};

static void *scripted_peer(void *arg) {
    struct scripted *peer = arg;
    sock_t connection = accept(peer->listener, NULL, NULL);
    if (connection != SOCK_INVALID) {
        char buffer[4096];
        (void)sock_read(connection, buffer, sizeof buffer);
        (void)sock_write(connection, peer->reply, peer->len);
        static const char zeros[65536];
        for (int n = 0; n < peer->flood_mb * 16; n++) {
            /* The client hangs up at its cap: an error, not a signal. */
            if (sock_write(connection, zeros, sizeof zeros) < 0) {
                break;
            }
        }
        if (peer->stall_ms > 0) {
            struct timespec pause = {peer->stall_ms / 1000, (peer->stall_ms % 1000) * 1000000L};
            nanosleep(&pause, NULL);
        }
        sock_close(connection);
    }
    return NULL;
}

/* Logs in against a peer answering `reply`; checks the status and that a
 * timeout comes within 400 ms ±10% (see timing_slack). */
static void expect_fault_flooding(const char *name, const char *reply, int stall_ms, int flood_mb,
                                  httpqq_status want) {
    char address[64];
    struct scripted peer = {loopback_listener(address, sizeof address), reply, strlen(reply), stall_ms,
                            flood_mb};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, scripted_peer, &peer) == 0);

    httpqq_client_builder *builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, address, NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, 400, NULL));
    OK(httpqq_client_builder_set_max_reply_size(builder, 1 << 20, NULL));
    httpqq_client *client = NULL;
    OK(httpqq_client_builder_build(builder, &client, NULL));
    httpqq_session *session = NULL;
    double start = now();
    httpqq_status got = httpqq_client_login(client, 10001, "demo", &session, NULL);
    double elapsed = now() - start;
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "FAIL fault \"%s\": %s (%s), wanted %s\n", name, httpqq_status_name(got),
                httpqq_last_error_message(), httpqq_status_name(want));
    }
    if (want == HTTPQQ_STATUS_TIMEOUT) {
        CHECK(elapsed >= 0.36 && elapsed <= 0.4 + LATE_BY_AT_MOST);
    }
    CHECK(session == NULL);
    pthread_join(thread, NULL);
    sock_close(peer.listener);
    httpqq_client_free(client);
    httpqq_client_builder_free(builder);
}

static void expect_fault(const char *name, const char *reply, int stall_ms, httpqq_status want) {
    expect_fault_flooding(name, reply, stall_ms, 0, want);
}

/* A peer that answers every request on a connection (echoing CMD and SEQ,
 * for a user with 3 friends), and answers the first request of the first
 * connection twice: the Query_Stat quirk's double reply, on a connection a
 * keep-alive client would like to reuse. */
static void *double_replying_peer(void *arg) {
    sock_t listener = *(sock_t *)arg;
    for (int connection_no = 0; connection_no < 2; connection_no++) {
        sock_t connection = accept(listener, NULL, NULL);
        if (connection == SOCK_INVALID) {
            return NULL;
        }
        for (int request_no = 0;; request_no++) {
            char request[4096];
            long got = sock_read(connection, request, sizeof request - 1);
            if (got <= 0) {
                break;
            }
            request[got] = '\0';
            const char *seq = strstr(request, "SEQ=");
            int seq_value = seq != NULL ? atoi(seq + 4) : 0;
            char body[256];
            if (strstr(request, "CMD=Login") != NULL) {
                snprintf(body, sizeof body,
                         "VER=1.1&CMD=LOGIN&SEQ=%d&UIN=10001&RES=0&RS=0&HI=60&LI=300", seq_value);
            } else {
                snprintf(body, sizeof body, "VER=1.1&CMD=LIST&SEQ=%d&UIN=10001&RES=0&FN=3",
                         seq_value);
            }
            char reply[512];
            int length = snprintf(reply, sizeof reply,
                                  "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                                  strlen(body), body);
            int times = connection_no == 0 && request_no == 0 ? 2 : 1;
            for (int n = 0; n < times; n++) {
                if (n > 0) {
                    /* Late, so that it is in the socket, not in the
                     * client's buffer, when the client looks again. */
                    struct timespec pause = {0, 20 * 1000000L};
                    nanosleep(&pause, NULL);
                }
                (void)sock_write(connection, reply, (size_t)length);
            }
        }
        sock_close(connection);
    }
    return NULL;
}

/* A keep-alive client never takes the stale second reply for the answer
 * to its next request: the connection it came on is not reused. */
static void test_double_reply_on_a_kept_connection(void) {
    char address[64];
    sock_t listener = loopback_listener(address, sizeof address);
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, double_replying_peer, &listener) == 0);

    httpqq_client_builder *builder = httpqq_client_builder_new();
    OK(httpqq_client_builder_set_endpoint(builder, address, NULL));
    OK(httpqq_client_builder_set_keep_alive(builder, true, NULL));
    OK(httpqq_client_builder_set_timeout_ms(builder, 2000, NULL));
    httpqq_client *client = NULL;
    OK(httpqq_client_builder_build(builder, &client, NULL));
    httpqq_session *session = NULL;
    OK(httpqq_client_login(client, 10001, "demo", &session, NULL));
    struct timespec pause = {0, 100 * 1000000L};
    nanosleep(&pause, NULL);
    uint32_t count = 0;
    OK(httpqq_session_friend_count(session, &count, NULL));
    CHECK(count == 3);
    httpqq_session_free(session);
    httpqq_client_free(client);
    httpqq_client_builder_free(builder);
    shutdown(listener, SHUT_RDWR);
    pthread_join(thread, NULL);
    sock_close(listener);
}

static void test_server_faults(void) {
    expect_fault("garbage", "\x01\x02 not HTTP at all\r\n\r\n", 0, HTTPQQ_STATUS_PROTOCOL);
    expect_fault("http error", "HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy", 0,
                 HTTPQQ_STATUS_PROTOCOL);
    expect_fault("closes mid-reply", "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\nVER=1.1&CMD=LO", 0,
                 HTTPQQ_STATUS_TRANSPORT);
    expect_fault("wrong Content-Length, short",
                 "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nVER=1.1&CMD=LOGIN&SEQ=1&UIN=10001&RES=0",
                 0, HTTPQQ_STATUS_PROTOCOL);
    expect_fault("wrong Content-Length, long",
                 "HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\nVER=1.1&CMD=LOGIN&SEQ=1&UIN=10001&RES=0",
                 0, HTTPQQ_STATUS_TRANSPORT);
    /* 100 MiB announced and sent: cut off at the 1 MiB cap. */
    expect_fault_flooding("a 100 MiB reply", "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n", 0,
                          100, HTTPQQ_STATUS_PROTOCOL);
    test_double_reply_on_a_kept_connection();
    expect_fault("half a reply, then a stall",
                 "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\nVER=1.1&CMD=LO", 1500,
                 HTTPQQ_STATUS_TIMEOUT);
}

static void test_server_errors(void) {
    httpqq_server *server = NULL;
    EXPECT(HTTPQQ_STATUS_SERVER, httpqq_server_start(endpoint, NULL, &server, NULL));
    EXPECT(HTTPQQ_STATUS_SERVER, httpqq_server_start(NULL, "/nonexistent/accounts.toml", &server, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_server_start("not an address", NULL, &server, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_server_start(NULL, NULL, NULL, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_server_restart(NULL, NULL));
    CHECK(server == NULL);

    /* libhttpqq_testing reports into libhttpqq's error objects (through
     * httpqq_error_set), and into the thread's last error; a success
     * clears them. */
    httpqq_error *error = httpqq_error_new();
    EXPECT(HTTPQQ_STATUS_SERVER, httpqq_server_start(endpoint, NULL, &server, error));
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_SERVER);
    CHECK(strstr(httpqq_error_message(error), "could not start") != NULL);
    CHECK(strstr(httpqq_last_error_message(), "could not start") != NULL);
    OK(httpqq_server_start(NULL, NULL, &server, error));
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_OK);
    CHECK_STR(httpqq_error_message(error), "");
    httpqq_server_free(server);

    /* What httpqq_error_set itself does with what it is given. */
    CHECK(httpqq_error_set(error, HTTPQQ_STATUS_SERVER, "a message") == HTTPQQ_STATUS_SERVER);
    CHECK_STR(httpqq_error_message(error), "a message");
    CHECK(httpqq_error_set(error, 9999, NULL) == HTTPQQ_STATUS_INTERNAL);
    CHECK(strstr(httpqq_error_message(error), "message is NULL") != NULL);
    CHECK(httpqq_error_set(NULL, HTTPQQ_STATUS_TIMEOUT, "last only") == HTTPQQ_STATUS_TIMEOUT);
    CHECK_STR(httpqq_last_error_message(), "last only");
    CHECK(httpqq_error_set(error, HTTPQQ_STATUS_OK, NULL) == HTTPQQ_STATUS_OK);
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_OK);
    httpqq_error_free(error);
}

static void test_codec(void) {
    httpqq_request *request = NULL;
    char *body = NULL;
    OK(httpqq_request_send_message(10002, "1+1=2, 好", &request, NULL));
    OK(httpqq_request_encode(request, 10001, 7, &body, NULL));
    CHECK_STR(body, "VER=1.1&CMD=CLTMSG&SEQ=7&UIN=10001&UN=10002&MG=1%2b1%3d2%2c 好");
    CHECK(!httpqq_request_closes_connection(request));
    httpqq_string_free(body);
    httpqq_request_free(request);

    OK(httpqq_request_online_count(&request, NULL));
    CHECK(httpqq_request_closes_connection(request));
    httpqq_request_free(request);
    /* max 0 asks for the default, as in the session functions. */
    OK(httpqq_request_friend_list(0, &request, NULL));
    OK(httpqq_request_encode(request, 10001, 1, &body, NULL));
    CHECK(strstr(body, "&TN=160&") != NULL);
    httpqq_string_free(body);
    httpqq_request_free(request);

    /* Every constructor gives a request that encodes. */
    httpqq_request *all[13] = {0};
    OK(httpqq_request_login("demo", &all[0], NULL));
    OK(httpqq_request_login_md5("fe01ce2a7fbac8fafaed7c982a04e229", &all[1], NULL));
    OK(httpqq_request_friend_count(&all[2], NULL));
    OK(httpqq_request_friend_list(5, &all[3], NULL));
    OK(httpqq_request_online_friends(5, &all[4], NULL));
    OK(httpqq_request_user_info(10002, 2, &all[5], NULL));
    OK(httpqq_request_add_friend(10002, &all[6], NULL));
    OK(httpqq_request_verify(10002, 1, "no", &all[7], NULL));
    OK(httpqq_request_remove_friend(10002, &all[8], NULL));
    OK(httpqq_request_set_status(30, &all[9], NULL));
    OK(httpqq_request_fetch_messages(&all[10], NULL));
    OK(httpqq_request_logout(&all[11], NULL));
    OK(httpqq_request_online_count(&all[12], NULL));
    for (int i = 0; i < 13; i++) {
        OK(httpqq_request_encode(all[i], 10001, (uint16_t)(i + 1), &body, NULL));
        CHECK(body != NULL && strncmp(body, "VER=1.1&CMD=", 12) == 0);
        httpqq_string_free(body);
    }
    char *login_body = NULL;
    OK(httpqq_request_encode(all[0], 10001, 1, &login_body, NULL));
    CHECK(strstr(login_body, "PS=fe01ce2a7fbac8fafaed7c982a04e229") != NULL);
    httpqq_string_free(login_body);

    /* Replies from the field notes. */
    const char *login_reply = "VER=1.1&CMD=LOGIN&SEQ=9&UIN=106814&RES=0&RS=0&HI=60&LI=300";
    httpqq_reply *reply = NULL;
    OK(httpqq_reply_decode(all[0], 9, (const uint8_t *)login_reply, strlen(login_reply), &reply, NULL));
    CHECK(httpqq_reply_get_kind(reply) == HTTPQQ_REPLY_KIND_LOGIN);
    uint64_t hi = 0, li = 0;
    OK(httpqq_reply_login(reply, &hi, &li, NULL));
    CHECK(hi == 60000 && li == 300000);
    uint32_t n = 5;
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_reply_count(reply, &n, NULL));
    CHECK(n == 5);
    httpqq_reply_free(reply);

    const char *msgs = "VER=1.1&CMD=GETMSGEX&SEQ=11&UIN=106814&RES=0& MN=2&MT=99,9,"
                       "&UN=36791785,106814,&MG= 20,hi ,";
    OK(httpqq_reply_decode(all[10], 11, (const uint8_t *)msgs, strlen(msgs), &reply, NULL));
    const httpqq_message_list *list = NULL;
    OK(httpqq_reply_messages(reply, &list, NULL));
    CHECK(httpqq_message_list_len(list) == 2);
    CHECK(httpqq_message_status(httpqq_message_list_get(list, 0)) == HTTPQQ_ONLINE_STATUS_OFFLINE);
    CHECK_STR(httpqq_message_text(httpqq_message_list_get(list, 1), NULL), "hi ");
    httpqq_reply_free(reply);

    const char *friends = "VER=1.1&CMD=LIST&SEQ=4&UIN=1&RES=0&FN=2&UN=5,6,";
    OK(httpqq_reply_decode(all[3], 4, (const uint8_t *)friends, strlen(friends), &reply, NULL));
    const httpqq_friend_list *uins = NULL;
    OK(httpqq_reply_friend_list(reply, &uins, NULL));
    CHECK(httpqq_friend_list_len(uins) == 2 && httpqq_friend_list_get(uins, 1) == 6);
    httpqq_reply_free(reply);

    reply = NULL;
    const char *res20 = "VER=1.1&CMD=GETMSGEX&SEQ=11&UIN=1&RES=20";
    EXPECT(HTTPQQ_STATUS_NOT_LOGGED_IN,
           httpqq_reply_decode(all[10], 11, (const uint8_t *)res20, strlen(res20), &reply, NULL));
    EXPECT(HTTPQQ_STATUS_NO_REPLY, httpqq_reply_decode(all[10], 11, NULL, 0, &reply, NULL));
    EXPECT(HTTPQQ_STATUS_PROTOCOL,
           httpqq_reply_decode(all[10], 11, (const uint8_t *)"garbage", 7, &reply, NULL));
    EXPECT(HTTPQQ_STATUS_PROTOCOL,
           httpqq_reply_decode(all[10], 12, (const uint8_t *)res20, strlen(res20), &reply, NULL));
    CHECK(reply == NULL);
    for (int i = 0; i < 13; i++) httpqq_request_free(all[i]);
}

/* Several threads share one session. */
#define THREADS 4
#define PER_THREAD 20

struct sender {
    httpqq_session *session;
    int id;
    int failed;
};

static void *send_many(void *arg) {
    struct sender *s = arg;
    char text[64];
    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(text, sizeof text, "t%d-%d", s->id, i);
        if (httpqq_session_send_message(s->session, 10002, text, NULL) != HTTPQQ_STATUS_OK) {
            fprintf(stderr, "thread %d: %s\n", s->id, httpqq_last_error_message());
            s->failed++;
        }
    }
    return NULL;
}

static void test_threads_share_a_session(httpqq_session *alice, httpqq_session *bob) {
    pthread_t threads[THREADS];
    struct sender senders[THREADS];
    for (int t = 0; t < THREADS; t++) {
        senders[t] = (struct sender){alice, t, 0};
        CHECK(pthread_create(&threads[t], NULL, send_many, &senders[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        CHECK(senders[t].failed == 0);
    }
    int next[THREADS] = {0};
    int total = 0;
    for (int round = 0; round < 10 && total < THREADS * PER_THREAD; round++) {
        httpqq_message_list *list = fetch(bob);
        for (size_t i = 0; i < httpqq_message_list_len(list); i++) {
            int t = -1, n = -1;
            const char *text = httpqq_message_text(httpqq_message_list_get(list, i), NULL);
            if (sscanf(text, "t%d-%d", &t, &n) == 2 && t >= 0 && t < THREADS) {
                CHECK(n == next[t]); /* in order per thread */
                next[t] = n + 1;
                total++;
            }
        }
        httpqq_message_list_free(list);
    }
    CHECK(total == THREADS * PER_THREAD);
}

struct listened {
    int count;
    char last[64];
};

static int on_message(const httpqq_message *message, void *user_data) {
    struct listened *seen = user_data;
    seen->count++;
    snprintf(seen->last, sizeof seen->last, "%s", httpqq_message_text(message, NULL));
    return strcmp(seen->last, "stop") == 0;
}

static void test_listen(httpqq_session *alice, httpqq_session *bob) {
    struct listened seen = {0, ""};
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_listen(bob, 0, on_message, &seen, NULL));
    EXPECT(HTTPQQ_STATUS_INVALID_ARGUMENT, httpqq_session_listen(bob, 99, on_message, &seen, NULL));
    CHECK(seen.count == 0);
    OK(httpqq_session_send_message(alice, 10002, "one", NULL));
    OK(httpqq_session_send_message(alice, 10002, "stop", NULL));
    OK(httpqq_session_send_message(alice, 10002, "after stop, same batch", NULL));
    OK(httpqq_session_listen(bob, 100, on_message, &seen, NULL));
    /* It stops at once; the rest of the batch stays with the session. */
    CHECK(seen.count == 2);
    CHECK_STR(seen.last, "stop");
    httpqq_message_list *rest = fetch(bob);
    CHECK(httpqq_message_list_len(rest) == 1);
    CHECK_STR(httpqq_message_text(httpqq_message_list_get(rest, 0), NULL), "after stop, same batch");
    httpqq_message_list_free(rest);
    /* …and comes first from the next listen too, once. */
    OK(httpqq_session_send_message(alice, 10002, "four", NULL));
    OK(httpqq_session_send_message(alice, 10002, "stop", NULL));
    OK(httpqq_session_send_message(alice, 10002, "six", NULL));
    seen.count = 0;
    OK(httpqq_session_listen(bob, 100, on_message, &seen, NULL));
    CHECK(seen.count == 2);
    seen.count = 0;
    strcpy(seen.last, "");
    OK(httpqq_session_send_message(alice, 10002, "stop", NULL));
    OK(httpqq_session_listen(bob, 100, on_message, &seen, NULL));
    CHECK(seen.count == 2);
    CHECK_STR(seen.last, "stop");
}

/* Each thread fails its own way, many times, with its own error object:
 * what it reads is always its own failure (a thread-local last error read
 * from the wrong thread gave another goroutine's error in Go). */
struct failing {
    httpqq_client *client;
    int bad_uin;
    int mismatches;
};

static void *fail_repeatedly(void *arg) {
    struct failing *f = arg;
    httpqq_error *error = httpqq_error_new();
    for (int i = 0; i < 200; i++) {
        int32_t status;
        if (f->bad_uin) {
            httpqq_session *session = NULL;
            status = httpqq_client_login(f->client, 99999, "x", &session, error);
        } else {
            status = httpqq_session_send_message(NULL, 10002, "x", error);
        }
        int32_t wanted = f->bad_uin ? HTTPQQ_STATUS_INVALID_UIN : HTTPQQ_STATUS_INVALID_ARGUMENT;
        if (status != wanted || httpqq_error_status(error) != wanted) {
            f->mismatches++;
        }
    }
    httpqq_error_free(error);
    return NULL;
}

static void test_error_objects_do_not_depend_on_the_thread(httpqq_client *client) {
    struct failing a = {client, 1, 0}, b = {client, 0, 0};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, fail_repeatedly, &a) == 0);
    CHECK(pthread_create(&tb, NULL, fail_repeatedly, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(a.mismatches == 0);
    CHECK(b.mismatches == 0);

    /* Filled on one thread, read on another. */
    httpqq_error *error = httpqq_error_new();
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_OK);
    CHECK_STR(httpqq_error_message(error), "");
    httpqq_session *session = NULL;
    EXPECT(HTTPQQ_STATUS_LOGIN_FAILED, httpqq_client_login(client, 10003, "wrong", &session, error));
    CHECK(session == NULL);
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_LOGIN_FAILED);
    CHECK_STR(httpqq_error_reason(error), "密码错误");
    CHECK(strstr(httpqq_error_message(error), "密码错误") != NULL);
    CHECK(httpqq_error_outcome(error) == HTTPQQ_OUTCOME_REFUSED);
    /* A success clears it. */
    OK(httpqq_client_login(client, 10003, "demo", &session, error));
    CHECK(httpqq_error_status(error) == HTTPQQ_STATUS_OK);
    CHECK(httpqq_error_reason(error) == NULL);
    CHECK(httpqq_error_outcome(error) == HTTPQQ_OUTCOME_ACCEPTED);
    httpqq_session_free(session);
    httpqq_error_free(error);
    httpqq_error_free(NULL);
    CHECK(httpqq_error_status(NULL) == -1);
    CHECK(httpqq_error_message(NULL) == NULL);
}

int main(void) {
    net_init();
    httpqq_server *server = start_server_or_exit();
    endpoint = httpqq_server_endpoint(server);
    CHECK(httpqq_server_port(server) > 0);

    httpqq_client *client = NULL;
    OK(httpqq_client_new(endpoint, &client, NULL));
    httpqq_session *alice = login(client, 10001);
    httpqq_session *bob = login(client, 10002);
    if (!alice || !bob) {
        fprintf(stderr, "cannot log in\n");
        return 1;
    }

    test_version_and_names();
    test_free_null_is_a_no_op();
    test_invalid_arguments(client, alice);
    test_profile(alice);
    test_lists(alice);
    test_message_round_trip(alice, bob);
    test_status_change(alice, bob);
    test_friends_and_verification(client, alice, bob);
    test_login_failures_and_logout(client);
    test_network_failures();
    test_tls();
    test_too_large(alice);
    test_no_reply_over_the_network();
    test_shutdown();
    test_server_faults();
    test_server_errors();
    test_codec();
    test_threads_share_a_session(alice, bob);
    test_listen(alice, bob);
    test_error_objects_do_not_depend_on_the_thread(client);

    OK(httpqq_session_logout(alice, NULL));
    OK(httpqq_session_logout(bob, NULL));
    httpqq_session_free(alice);
    httpqq_session_free(bob);
    httpqq_client_free(client);
    httpqq_server_free(server);

    return finish("test_httpqq");
}
