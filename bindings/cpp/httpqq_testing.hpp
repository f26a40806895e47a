// httpqq_testing.hpp: the reference server in this process, for tests
// (httpqq::server), over libhttpqq_testing; header-only, like httpqq.hpp.
//
//   #include <httpqq_testing.hpp>
//   httpqq::server server = httpqq::server::start();
//   httpqq::client client(server.endpoint());
//   server.stop_listening();   // rehearse an outage
//   server.restart();
//
// Link with both libraries: `c++ -std=c++17 test.cpp $(pkg-config --cflags
// --libs httpqq-testing)` (httpqq-testing requires httpqq), or CMake's
// httpqq::testing.
#ifndef HTTPQQ_TESTING_HPP
#define HTTPQQ_TESTING_HPP

#include <httpqq.hpp>
#include <httpqq_testing.h>

namespace httpqq {

/// The reference server, in this process (for tests).
class server {
 public:
  /// Starts it on `listen` ("127.0.0.1:0", a free port, by default) with
  /// an accounts file (TOML; by default the demo accounts 10001-10005,
  /// password "demo").
  static server start(std::optional<std::string> listen = std::nullopt,
                      std::optional<std::string> accounts = std::nullopt) {
    httpqq_server *raw = nullptr;
    detail::call(httpqq_server_start, listen ? listen->c_str() : nullptr, accounts ? accounts->c_str() : nullptr,
                 &raw);
    return server(raw);
  }

  /// Starts it as start() does, with a second listener that speaks TLS
  /// with a certificate made now (tls_endpoint(), ca_pem()).
  static server start_tls(std::optional<std::string> listen = std::nullopt,
                          std::optional<std::string> accounts = std::nullopt) {
    httpqq_server *raw = nullptr;
    detail::call(httpqq_server_start_tls, listen ? listen->c_str() : nullptr,
                 accounts ? accounts->c_str() : nullptr, &raw);
    return server(raw);
  }

  /// "https://127.0.0.1:port" of the TLS listener, if there is one.
  std::optional<std::string> tls_endpoint() const {
    const char *text = httpqq_server_tls_endpoint(live());
    return text ? std::optional<std::string>(text) : std::nullopt;
  }

  /// The TLS listener's certificate (PEM), for client_options::ca_pem.
  std::optional<std::string> ca_pem() const {
    const char *text = httpqq_server_tls_ca_pem(live());
    return text ? std::optional<std::string>(text) : std::nullopt;
  }

  /// "host:port".
  std::string endpoint() const {
    const char *text = httpqq_server_endpoint(live());
    return text;
  }

  // The test controls: rehearse what a bot meets in the field.

  /// Ends `uin`'s session as its idle timeout would; whether it had one.
  bool expire_session(uint64_t uin) const { return httpqq_server_expire_session(live(), uin); }
  /// Answers every request of `uin` with RES=3 for `duration`.
  void throttle(uint64_t uin, std::chrono::milliseconds duration) const {
    httpqq_server_throttle(live(), uin, detail::milliseconds(duration, "duration"));
  }
  /// Delays every reply by `latency` (0: none).
  void set_latency(std::chrono::milliseconds latency) const {
    httpqq_server_set_latency_ms(live(), detail::milliseconds(latency, "latency"));
  }
  /// Accepts connections but answers nothing until resume().
  void pause() const { httpqq_server_pause(live()); }
  void resume() const { httpqq_server_resume(live()); }
  /// Closes the listening socket (connections are refused), keeping the
  /// accounts and their state, until restart() listens again on the same
  /// address.
  void stop_listening() const { httpqq_server_stop_listening(live()); }
  void restart() const { detail::call(httpqq_server_restart, live()); }
  /// Changes `uin`'s password (its session ends); whether the account exists.
  bool change_password(uint64_t uin, std::string_view password) const {
    return httpqq_server_change_password(live(), uin, detail::c_string(password, "the password").c_str());
  }
  /// While on, ends every session right after its login (a NAT that
  /// changes the client's address).
  void drop_sessions(bool on) const { httpqq_server_drop_sessions(live(), on); }
  /// Passwords checked since the start.
  uint64_t password_checks() const { return httpqq_server_password_checks(live()); }
  /// Connections accepted since the start.
  uint64_t connections_accepted() const { return httpqq_server_connections_accepted(live()); }
  /// Requests of `uin` answered, of `command` only (its wire name, e.g.
  /// "CLTMSG") when given, with result `result` only when given (-2: the
  /// NULL).
  uint64_t request_count(uint64_t uin, std::optional<std::string> command = std::nullopt,
                         std::optional<int64_t> result = std::nullopt) const {
    std::string name = command ? detail::c_string(*command, "the command") : std::string();
    return httpqq_server_request_count(live(), uin, command ? name.c_str() : nullptr, result.value_or(-1));
  }

  /// Stops it now (the destructor does too).
  void close() noexcept { raw_.reset(); }

 private:
  explicit server(httpqq_server *raw) : raw_(raw) {}
  httpqq_server *live() const {
    if (!raw_) throw httpqq::error(status::invalid_argument, "the server is closed");
    return raw_.get();
  }
  detail::handle<httpqq_server, httpqq_server_free> raw_;
};

}  // namespace httpqq

#endif  // HTTPQQ_TESTING_HPP
