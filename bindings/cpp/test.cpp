// The bindings' common scenario against the in-process reference server:
// two demo accounts; a text with '&', '%26', Chinese and a newline,
// byte-exact both ways; a wrong password failing with the server's reason;
// misuse as exceptions, never a crash; everything freed (run under
// valgrind). Then a callback that throws: the exception leaves listen()
// and no message is lost.
#include <httpqq.hpp>

#include <cstdio>
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
  httpqq::agent bob = client.start_agent(10002, "demo", {std::chrono::milliseconds(100)});
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

int main() {
  httpqq::server server = httpqq::server::start();
  {
    httpqq::client client(server.endpoint(), {std::chrono::milliseconds(5000)});
    a_chat_is_byte_exact_both_ways(client);
    a_wrong_password_fails_with_the_servers_reason(client);
    misuse_is_an_exception_never_a_crash(client);
    a_throwing_callback_loses_no_message(client);
    an_agents_events_until_it_stops(client);
    errors_are_the_calling_threads_own(client);
  }
  server.close();
  CHECK(status_of([&] { server.endpoint(); }) == httpqq::status::invalid_argument);
  if (failures != 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::puts("c++: all checks passed");
  return 0;
}
