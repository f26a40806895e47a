// The bindings' common scenario against the in-process reference server:
// two demo accounts; a text with '&', '%26', Chinese and a newline,
// byte-exact both ways; a wrong password failing with the server's reason;
// misuse as exceptions, never a crash; everything freed (run under
// valgrind). Then a callback that throws: the exception leaves listen()
// and no message is lost.
#include <httpqq_testing.hpp>

#include <poll.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

static int failures = 0;

#define CHECK(condition)                                                  \
  do {                                                                    \
    if (!(condition)) {                                                   \
      std::fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #condition); \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

template <typename Body>
static httpqq::status status_of(Body body) {
  try {
    body();
  } catch (const httpqq::error &e) {
    return e.code();
  }
  return httpqq::status::ok;
}

static const std::string text = "你好 & 1+1=2 %26\nsecond line";

static std::vector<std::string> texts(const httpqq::session &session) {
  std::vector<std::string> out;
  for (const httpqq::message &m : session.messages()) {
    if (m.kind == httpqq::message_kind::text) out.push_back(m.text);
  }
  return out;
}

static void a_chat_is_byte_exact_both_ways(const httpqq::client &client) {
  httpqq::session alice = client.login(10001, "demo");
  {
    httpqq::session bob = client.login(10002, "demo");
    alice.send(10002, text);
    std::vector<std::string> got = texts(bob);
    CHECK(got.size() == 1 && got[0] == text);
    bob.send(10001, got.at(0));
  }
  std::vector<std::string> back = texts(alice);
  CHECK(back.size() == 1 && back[0] == text);
  CHECK(alice.friends() == std::vector<uint64_t>{10002});
  alice.logout();
  CHECK(status_of([&] { alice.messages(); }) == httpqq::status::not_logged_in);
}

static void a_wrong_password_fails_with_the_servers_reason(const httpqq::client &client) {
  try {
    client.login(10001, "wrong");
    CHECK(!"the login succeeded");
  } catch (const httpqq::error &e) {
    CHECK(e.code() == httpqq::status::login_failed);
    CHECK(e.reason() == std::optional<std::string>("密码错误"));
    CHECK(std::string(e.status_name()) == "login failed");
    CHECK(e.outcome() == httpqq::outcome::refused);
    CHECK(std::string(e.what()).find("密码错误") != std::string::npos);
  }
  CHECK(status_of([&] { client.login(99999, "x"); }) == httpqq::status::invalid_uin);
}

static void misuse_is_an_exception_never_a_crash(const httpqq::client &client) {
  CHECK(status_of([] { httpqq::client bad("no such:host:99"); }) == httpqq::status::invalid_config);
  httpqq::session alice = client.login(10001, "demo");
  CHECK(status_of([&] { alice.send(10002, std::string("a\0b", 3)); }) == httpqq::status::invalid_argument);
  CHECK(status_of([&] { alice.send(10002, "x\xff\xfe"); }) == httpqq::status::invalid_argument);
  CHECK(status_of([&] { alice.listen([](const httpqq::message &) { return true; }, std::chrono::milliseconds(1)); }) ==
        httpqq::status::invalid_argument);
  // A moved-from or closed handle is NULL to the library: an error.
  httpqq::session moved = std::move(alice);
  CHECK(status_of([&] { alice.send(10002, "hi"); }) == httpqq::status::invalid_argument);  // NOLINT(bugprone-use-after-move)
  moved.close();
  moved.close();
  CHECK(status_of([&] { moved.send(10002, "hi"); }) == httpqq::status::invalid_argument);
}

// Three messages; the callback throws at the first. The exception leaves
// listen(), and the other two come from the next fetch.
static void a_throwing_callback_loses_no_message(const httpqq::client &client) {
  httpqq::session alice = client.login(10001, "demo");
  httpqq::session bob = client.login(10002, "demo");
  bob.messages();  // Alice's status change
  for (const char *body : {"one", "two", "three"}) alice.send(10002, body);
  bool thrown = false;
  try {
    bob.listen([](const httpqq::message &m) -> bool { throw std::runtime_error("stop at " + m.text); },
               std::chrono::milliseconds(100));
  } catch (const std::runtime_error &e) {
    thrown = std::string(e.what()) == "stop at one";
  }
  CHECK(thrown);
  CHECK(texts(bob) == (std::vector<std::string>{"two", "three"}));
  // A callback that returns false stops listening the same way.
  alice.send(10002, "four");
  alice.send(10002, "five");
  std::vector<std::string> seen;
  bob.listen(
      [&](const httpqq::message &m) {
        seen.push_back(m.text);
        return false;
      },
      std::chrono::milliseconds(100));
  CHECK(seen == std::vector<std::string>{"four"});
  CHECK(texts(bob) == std::vector<std::string>{"five"});
}

static void an_agents_events_until_it_stops(const httpqq::client &client) {
  httpqq::agent_options quick;
  quick.poll_interval = std::chrono::milliseconds(100);
  httpqq::agent bob = client.start_agent(10002, "demo", quick);
  httpqq::session alice = client.login(10001, "demo");
  std::vector<httpqq::event_kind> kinds;
  while (!bob.finished()) {
    std::optional<httpqq::event> event = bob.next_event(std::chrono::milliseconds(250));
    if (!event) continue;
    kinds.push_back(event->kind);
    if (event->kind == httpqq::event_kind::online) alice.send(10002, text);
    if (event->message && event->message->text == text) {
      bob.send(10001, "thanks");
      bob.stop();
    }
  }
  CHECK(!kinds.empty() && kinds.front() == httpqq::event_kind::online);
  CHECK(!kinds.empty() && kinds.back() == httpqq::event_kind::stopped);
  CHECK(texts(alice) == std::vector<std::string>{"thanks"});
}

// An event loop waits on the agent's descriptor, never in the library:
// events and the results of started sends are announced there.
static void a_loop_waits_on_the_descriptor(const httpqq::client &client) {
  httpqq::agent_options quick;
  quick.poll_interval = std::chrono::milliseconds(100);
  httpqq::agent carol = client.start_agent(10003, "demo", quick);
  httpqq::session alice = client.login(10001, "demo");
  std::vector<std::string> got;
  std::optional<httpqq::sent> result;
  uint64_t id = 0;
  bool online = false;
  for (int round = 0; round < 100 && !(result && !got.empty()); ++round) {
    pollfd wait{carol.fd(), POLLIN, 0};
    if (::poll(&wait, 1, 100) != 1) continue;
    carol.clear_ready();
    while (std::optional<httpqq::sent> done = carol.take_sent()) result = done;
    while (std::optional<httpqq::event> event = carol.next_event(std::chrono::milliseconds(0))) {
      if (event->kind == httpqq::event_kind::online && !online) {
        online = true;
        alice.send(10003, "ping");
        id = carol.start_send(10001, "pong");
      }
      if (event->message && event->message->kind == httpqq::message_kind::text) got.push_back(event->message->text);
    }
  }
  CHECK(online);
  CHECK(got == std::vector<std::string>{"ping"});
  CHECK(result && result->id == id && id == 1 && !result->error);
  CHECK(texts(alice) == std::vector<std::string>{"pong"});
  // Nothing waits: once what was announced is read and taken, the
  // descriptor stays quiet. (An announcement written between the last
  // clear_ready() and the take that emptied its queue is still there: it
  // is read here first, as a loop's next round would.)
  carol.clear_ready();
  while (carol.take_sent()) {
  }
  while (carol.next_event(std::chrono::milliseconds(0))) {
  }
  pollfd quiet{carol.fd(), POLLIN, 0};
  CHECK(::poll(&quiet, 1, 200) == 0);
}

// The test controls: a restart, an expired session, a throttle and a pause
// are ridden out; every option reaches the agent.
static void the_test_controls_rehearse_what_bots_meet(const httpqq::server &server, const httpqq::client &client) {
  httpqq::agent_options every;
  every.poll_interval = std::chrono::milliseconds(100);
  every.backoff_initial = std::chrono::milliseconds(100);
  every.backoff_max = std::chrono::milliseconds(500);
  every.backoff_factor = 2.0;
  every.backoff_jitter = 0.1;
  every.throttle_penalty = std::chrono::milliseconds(300);
  every.throttle_retries = 3u;
  every.send_pace = httpqq::send_pace{50, std::chrono::milliseconds(10000)};
  every.relogin = true;
  every.stop_timeout = std::chrono::milliseconds(200);
  httpqq::agent bob = client.start_agent(10002, "demo", every);
  // A send right after the start waits for the login.
  bob.send(10001, "early");
  // Alice logs in for each look: a restart ends plain sessions.
  auto delivered = [&](const std::string &body) {
    for (const std::string &t : texts(client.login(10001, "demo"))) {
      if (t == body) return true;
    }
    return false;
  };
  CHECK(delivered("early"));
  server.stop_listening();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server.restart();
  bob.send(10001, "after the restart");
  CHECK(delivered("after the restart"));
  CHECK(server.expire_session(10002));
  bob.send(10001, "after the expiry");
  CHECK(delivered("after the expiry"));
  server.throttle(10002, std::chrono::milliseconds(500));
  auto started = std::chrono::steady_clock::now();
  bob.send(10001, "after the throttle");  // refused, then sent after the 300 ms penalty
  CHECK(std::chrono::steady_clock::now() - started >= std::chrono::milliseconds(300));
  CHECK(delivered("after the throttle"));
  CHECK(server.request_count(10002, std::string("CLTMSG"), 3) >= 1);
  server.pause();
  std::thread resume([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server.resume();
  });
  bob.send(10001, "after the pause");
  resume.join();
  CHECK(delivered("after the pause"));
  server.set_latency(std::chrono::milliseconds(0));
  CHECK(server.password_checks() >= 1 && server.connections_accepted() >= 1);
  // Retries off: a throttled send fails at once, with what happened.
  httpqq::agent fast = client.start_agent(10004, "demo", [] {
    httpqq::agent_options options;
    options.throttle_retries = 0u;
    options.logout_on_stop = false;
    options.send_pace = httpqq::send_pace{0, std::chrono::milliseconds(0)};
    return options;
  }());
  fast.send(10001, "hello");
  server.throttle(10004, std::chrono::milliseconds(1000));
  try {
    fast.send(10001, "too soon");
    CHECK(!"the throttled send succeeded");
  } catch (const httpqq::error &e) {
    CHECK(e.code() == httpqq::status::throttled && e.outcome() == httpqq::outcome::refused);
  }
  fast.close();
  CHECK(server.request_count(10004, std::string("Logout")) == 0);
  // Settings that make no sense are refused when the agent starts.
  httpqq::agent_options bad;
  bad.backoff_factor = 0.5;
  CHECK(status_of([&] { client.start_agent(10005, "demo", bad); }) == httpqq::status::invalid_config);
  bad = {};
  bad.inbox = "/nonexistent/dir/bot.inbox";
  CHECK(status_of([&] { client.start_agent(10005, "demo", bad); }) == httpqq::status::invalid_config);
}

// An inbox: what a stopped agent fetched and nobody handled comes first
// from the next agent on the same file.
static void an_inbox_keeps_what_was_not_handled(const httpqq::client &client) {
  char folder[] = "/tmp/httpqq-cpp-XXXXXX";
  CHECK(::mkdtemp(folder) != nullptr);
  const std::string path = std::string(folder) + "/bot.inbox";
  httpqq::session alice = client.login(10001, "demo");
  for (const char *body : {"one", "two"}) alice.send(10005, body);
  httpqq::agent_options options;
  options.inbox = path;
  std::vector<std::string> first, second;
  {
    httpqq::agent eve = client.start_agent(10005, "demo", options);
    for (const httpqq::event &event : eve.events()) {
      if (event.message && event.message->kind == httpqq::message_kind::text) {
        first.push_back(event.message->text);
        break;  // "one" in hand, "two" not taken
      }
    }
  }
  {
    httpqq::agent eve = client.start_agent(10005, "demo", options);
    while (second.size() < 2) {
      std::optional<httpqq::event> event = eve.next_event(std::chrono::milliseconds(5000));
      if (!event) break;
      if (event->message && event->message->kind == httpqq::message_kind::text) second.push_back(event->message->text);
    }
    eve.ack();
    CHECK(eve.undelivered() == 0);
  }
  CHECK(first == std::vector<std::string>{"one"});
  CHECK(second == (std::vector<std::string>{"one", "two"}));
  CHECK(std::system(("rm -rf " + std::string(folder)).c_str()) == 0);
}

// Errors are each call's own, whatever the thread.
static void errors_are_the_calling_threads_own(const httpqq::client &client) {
  std::vector<std::thread> threads;
  int mismatches[8] = {};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&client, &mismatches, t] {
      for (int i = 0; i < 20; ++i) {
        httpqq::status want = t % 2 == 0 ? httpqq::status::invalid_uin : httpqq::status::invalid_config;
        httpqq::status got = t % 2 == 0 ? status_of([&] { client.login(99999, "x"); })
                                        : status_of([] { httpqq::client bad("no such:host:99"); });
        if (got != want) ++mismatches[t];
      }
    });
  }
  for (std::thread &thread : threads) thread.join();
  for (int count : mismatches) CHECK(count == 0);
}

// TLS: the test server's own certificate trusted; untrusted, a TLS error
// with nothing sent; settings that cannot work refused.
static void tls_with_the_test_servers_certificate_and_without() {
  httpqq::server secure = httpqq::server::start_tls();
  CHECK(secure.tls_endpoint() && secure.tls_endpoint()->rfind("https://127.0.0.1:", 0) == 0);
  CHECK(secure.ca_pem() && secure.ca_pem()->find("BEGIN CERTIFICATE") != std::string::npos);
  httpqq::client_options trusting{std::chrono::milliseconds(5000)};
  trusting.keep_alive = true;
  trusting.ca_pem = secure.ca_pem();
  httpqq::client client(*secure.tls_endpoint(), trusting);
  httpqq::session alice = client.login(10001, "demo");
  httpqq::session bob = client.login(10002, "demo");
  alice.send(10002, "over TLS");
  std::vector<httpqq::message> got = bob.messages();
  CHECK(got.size() == 1 && got[0].text == "over TLS");
  httpqq::client untrusted(*secure.tls_endpoint(), {std::chrono::milliseconds(5000)});
  try {
    untrusted.login(10001, "demo");
    CHECK(!"an untrusted certificate was accepted");
  } catch (const httpqq::error &e) {
    CHECK(e.code() == httpqq::status::transport && e.outcome() == httpqq::outcome::refused);
    CHECK(std::string(e.what()).find("unknown issuer") != std::string::npos);
  }
  httpqq::client_options ca_without_tls;
  ca_without_tls.ca_pem = secure.ca_pem();
  CHECK(status_of([&] { httpqq::client c(secure.endpoint(), ca_without_tls); }) == httpqq::status::invalid_config);
  httpqq::server plain = httpqq::server::start();
  CHECK(!plain.tls_endpoint() && !plain.ca_pem());
}

int main() {
  httpqq::server server = httpqq::server::start();
  {
    httpqq::client client(server.endpoint(), {std::chrono::milliseconds(5000)});
    a_chat_is_byte_exact_both_ways(client);
    a_wrong_password_fails_with_the_servers_reason(client);
    misuse_is_an_exception_never_a_crash(client);
    a_throwing_callback_loses_no_message(client);
    an_agents_events_until_it_stops(client);
    a_loop_waits_on_the_descriptor(client);
    the_test_controls_rehearse_what_bots_meet(server, client);
    an_inbox_keeps_what_was_not_handled(client);
    errors_are_the_calling_threads_own(client);
  }
  tls_with_the_test_servers_certificate_and_without();
  server.close();
  CHECK(status_of([&] { server.endpoint(); }) == httpqq::status::invalid_argument);
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::puts("c++: all checks passed");
  return 0;
}
