// httpqq.hpp: a header-only C++17 face of libhttpqq.
//
// Handles are RAII objects (move-only; the destructor frees, close() frees
// early); failures are httpqq::error exceptions carrying the status, the
// server's reason, the outcome and the penalty; texts are std::string
// (UTF-8, byte-exact, NULs refused). Callbacks may throw: the exception is
// caught at the C boundary and rethrown from the call that ran them, and
// the messages not yet delivered stay with the session.
//
//   #include <httpqq.hpp>
//   httpqq::client client("127.0.0.1:8000");
//   httpqq::session alice = client.login(10001, "demo");
//   alice.send(10002, "你好");
//   for (const httpqq::message &m : alice.messages())
//     std::cout << m.sender << ": " << m.text << '\n';
//
// Link with libhttpqq: `c++ -std=c++17 app.cpp $(pkg-config --cflags --libs httpqq)`.
// The reference server for tests (httpqq::server) is in httpqq_testing.hpp,
// over libhttpqq_testing.
#ifndef HTTPQQ_HPP
#define HTTPQQ_HPP

#include <httpqq.h>

#ifndef _WIN32
#include <fcntl.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpqq {

/// What a failure was (the C header's HTTPQQ_STATUS_ values).
enum class status : int32_t {
  ok = HTTPQQ_STATUS_OK,
  no_reply = HTTPQQ_STATUS_NO_REPLY,
  not_logged_in = HTTPQQ_STATUS_NOT_LOGGED_IN,
  throttled = HTTPQQ_STATUS_THROTTLED,
  invalid_uin = HTTPQQ_STATUS_INVALID_UIN,
  login_failed = HTTPQQ_STATUS_LOGIN_FAILED,
  protocol = HTTPQQ_STATUS_PROTOCOL,
  transport = HTTPQQ_STATUS_TRANSPORT,
  timeout = HTTPQQ_STATUS_TIMEOUT,
  invalid_config = HTTPQQ_STATUS_INVALID_CONFIG,
  invalid_argument = HTTPQQ_STATUS_INVALID_ARGUMENT,
  server = HTTPQQ_STATUS_SERVER,
  internal = HTTPQQ_STATUS_INTERNAL,
  stopped = HTTPQQ_STATUS_STOPPED,
  cancelled = HTTPQQ_STATUS_CANCELLED,
  not_online = HTTPQQ_STATUS_NOT_ONLINE,
  too_large = HTTPQQ_STATUS_TOO_LARGE,
};

/// Whether a failed command was carried out.
enum class outcome : uint32_t {
  accepted = HTTPQQ_OUTCOME_ACCEPTED,
  refused = HTTPQQ_OUTCOME_REFUSED,  ///< certainly not carried out
  unknown = HTTPQQ_OUTCOME_UNKNOWN,  ///< sent, no reply: it may have been
};

/// A failure of libhttpqq.
class error : public std::runtime_error {
 public:
  error(httpqq::status code, const std::string &what, std::optional<std::string> reason = std::nullopt,
        httpqq::outcome result = outcome::refused,
        std::chrono::milliseconds retry_after = std::chrono::milliseconds(0))
      : std::runtime_error(what), code_(code), reason_(std::move(reason)), outcome_(result),
        retry_after_(retry_after) {}

  httpqq::status code() const noexcept { return code_; }
  /// "login failed", "invalid uin", …
  const char *status_name() const noexcept { return httpqq_status_name(static_cast<int32_t>(code_)); }
  /// The server's words, when it gave some (a refused login's reason).
  const std::optional<std::string> &reason() const noexcept { return reason_; }
  httpqq::outcome outcome() const noexcept { return outcome_; }
  /// How long a RES=3 penalty lasts.
  std::chrono::milliseconds retry_after() const noexcept { return retry_after_; }

 private:
  httpqq::status code_;
  std::optional<std::string> reason_;
  httpqq::outcome outcome_;
  std::chrono::milliseconds retry_after_;
};

namespace detail {

inline std::optional<std::string> optional_string(const char *text) {
  if (text == nullptr) return std::nullopt;
  return std::string(text);
}

/// An error object of the call's own (so the error is this call's,
/// whatever thread ran it).
class error_object {
 public:
  error_object() : raw_(httpqq_error_new()) {
    if (raw_ == nullptr) throw std::bad_alloc();
  }
  ~error_object() { httpqq_error_free(raw_); }
  error_object(const error_object &) = delete;
  error_object &operator=(const error_object &) = delete;
  httpqq_error *get() const noexcept { return raw_; }

  [[noreturn]] void raise() const {
    throw httpqq::error(static_cast<httpqq::status>(httpqq_error_status(raw_)), httpqq_error_message(raw_),
                        optional_string(httpqq_error_reason(raw_)),
                        static_cast<httpqq::outcome>(httpqq_error_outcome(raw_)),
                        std::chrono::milliseconds(httpqq_error_retry_after_ms(raw_)));
  }

 private:
  httpqq_error *raw_;
};

/// Calls a fallible function with an error object as its last argument;
/// throws what it reports.
template <typename Function, typename... Args>
void call(Function function, Args... args) {
  error_object failure;
  if (function(args..., failure.get()) != HTTPQQ_STATUS_OK) failure.raise();
}

/// A C string for the library: refused if it holds a NUL (C would cut it).
inline std::string c_string(std::string_view text, const char *what) {
  if (text.find('\0') != std::string_view::npos) {
    throw httpqq::error(status::invalid_argument, std::string(what) + " holds a NUL byte");
  }
  return std::string(text);
}

inline uint64_t milliseconds(std::chrono::milliseconds duration, const char *what) {
  if (duration.count() < 0) throw httpqq::error(status::invalid_argument, std::string(what) + " is negative");
  return static_cast<uint64_t>(duration.count());
}

/// An owned handle: freed by its _free function.
template <typename T, void (*Free)(T *)>
struct deleter {
  void operator()(T *pointer) const noexcept { Free(pointer); }
};
template <typename T, void (*Free)(T *)>
using handle = std::unique_ptr<T, deleter<T, Free>>;

/// The exception a callback threw, kept while C unwinds normally.
struct callback_state {
  void *function;
  std::exception_ptr thrown;
};

}  // namespace detail

/// What a message is (the C header's HTTPQQ_MESSAGE_KIND_ values).
enum class message_kind : uint32_t {
  verification_request = HTTPQQ_MESSAGE_KIND_VERIFICATION_REQUEST,
  approved = HTTPQQ_MESSAGE_KIND_APPROVED,
  rejected = HTTPQQ_MESSAGE_KIND_REJECTED,
  text = HTTPQQ_MESSAGE_KIND_TEXT,
  status_change = HTTPQQ_MESSAGE_KIND_STATUS_CHANGE,
};

/// A message, copied out of the library.
struct message {
  message_kind kind;
  uint64_t sender;
  std::string text;  ///< UTF-8, byte-exact
  uint32_t status;   ///< a status_change's new online status, else 0

  static message from(const httpqq_message *raw) {
    size_t length = 0;
    const char *bytes = httpqq_message_text(raw, &length);
    return message{static_cast<message_kind>(httpqq_message_get_kind(raw)), httpqq_message_sender(raw),
                   std::string(bytes, length), httpqq_message_status(raw)};
  }
};

/// The settings of a client.
struct client_options {
  std::chrono::milliseconds timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  bool keep_alive = false;
  /// TLS (unset: only for an https:// endpoint), verified against
  /// Mozilla's roots unless ca_file or ca_pem name the authority to trust.
  std::optional<bool> tls = std::nullopt;
  std::optional<std::string> ca_file = std::nullopt;
  std::optional<std::string> ca_pem = std::nullopt;
};

class session;
class agent;

/// How fast an agent sends: at most `count` messages in any `window`
/// (`{0, …}`: as fast as the program sends).
struct send_pace {
  uint32_t count;
  std::chrono::milliseconds window;
};

/// The settings of an agent. What is left unset is the library's default
/// (see bindings/README.md; each C setter documents its own). Set fields
/// by name: `httpqq::agent_options o; o.poll_interval = 1s;` (C++20:
/// `{.poll_interval = 1s}`).
struct agent_options {
  std::optional<std::chrono::milliseconds> poll_interval = std::nullopt;
  std::optional<std::chrono::milliseconds> backoff_initial = std::nullopt;
  std::optional<std::chrono::milliseconds> backoff_max = std::nullopt;
  std::optional<double> backoff_factor = std::nullopt;
  std::optional<double> backoff_jitter = std::nullopt;
  std::optional<std::chrono::milliseconds> throttle_penalty = std::nullopt;
  std::optional<uint32_t> throttle_retries = std::nullopt;
  std::optional<httpqq::send_pace> send_pace = std::nullopt;
  std::optional<bool> relogin = std::nullopt;
  std::optional<bool> logout_on_stop = std::nullopt;  ///< log out when the agent stops (default on)
  std::optional<std::chrono::milliseconds> stop_timeout = std::nullopt;
  std::optional<std::string> inbox = std::nullopt;  ///< a file keeping fetched messages until handled
};

/// A client of one server.
class client {
 public:
  explicit client(std::string_view endpoint, const client_options &options = client_options()) {
    detail::handle<httpqq_client_builder, httpqq_client_builder_free> builder(httpqq_client_builder_new());
    detail::call(httpqq_client_builder_set_endpoint, builder.get(), detail::c_string(endpoint, "endpoint").c_str());
    detail::call(httpqq_client_builder_set_timeout_ms, builder.get(), detail::milliseconds(options.timeout, "timeout"));
    detail::call(httpqq_client_builder_set_connect_timeout_ms, builder.get(),
                 detail::milliseconds(options.connect_timeout, "connect_timeout"));
    detail::call(httpqq_client_builder_set_keep_alive, builder.get(), options.keep_alive);
    if (options.tls) detail::call(httpqq_client_builder_set_tls, builder.get(), *options.tls);
    if (options.ca_file)
      detail::call(httpqq_client_builder_set_ca_file, builder.get(), detail::c_string(*options.ca_file, "ca_file").c_str());
    if (options.ca_pem)
      detail::call(httpqq_client_builder_set_ca_pem, builder.get(), detail::c_string(*options.ca_pem, "ca_pem").c_str());
    httpqq_client *raw = nullptr;
    detail::call(httpqq_client_builder_build, builder.get(), &raw);
    raw_.reset(raw);
  }

  /// Logs in. Throws an error with status::login_failed (its reason() is
  /// the server's) for a wrong password.
  session login(uint64_t uin, std::string_view password) const;

  /// An agent: a logged-in account that stays up.
  httpqq::agent start_agent(uint64_t uin, std::string_view password,
                            const agent_options &options = agent_options()) const;

  void close() noexcept { raw_.reset(); }

 private:
  detail::handle<httpqq_client, httpqq_client_free> raw_;
};

/// A logged-in account and its commands.
class session {
 public:
  uint64_t uin() const noexcept { return httpqq_session_uin(raw_.get()); }

  /// Sends a text message.
  void send(uint64_t to, std::string_view text) const {
    detail::call(httpqq_session_send_message, raw_.get(), to, detail::c_string(text, "the message").c_str());
  }

  /// The pending messages, oldest first.
  std::vector<message> messages() const {
    httpqq_message_list *raw = nullptr;
    detail::call(httpqq_session_fetch_messages, raw_.get(), &raw);
    return copy(raw);
  }

  /// The friends' UINs.
  std::vector<uint64_t> friends() const {
    httpqq_friend_list *raw = nullptr;
    detail::call(httpqq_session_friends, raw_.get(), uint32_t{0}, &raw);
    detail::handle<httpqq_friend_list, httpqq_friend_list_free> list(raw);
    std::vector<uint64_t> uins;
    for (size_t n = 0; n < httpqq_friend_list_len(list.get()); ++n) uins.push_back(httpqq_friend_list_get(list.get(), n));
    return uins;
  }

  /// Calls `on_message(const message &) -> bool` for each message as it
  /// arrives, polling every `interval`; returns when it returns false. If it throws,
  /// the exception leaves listen() and the messages not yet delivered come
  /// first from the next listen() or messages().
  template <typename Callback>
  void listen(Callback &&on_message, std::chrono::milliseconds interval = std::chrono::milliseconds(1000)) const {
    detail::callback_state state{&on_message, nullptr};
    error_and_rethrow(state, [&](httpqq_error *failure) {
      return httpqq_session_listen(raw_.get(), detail::milliseconds(interval, "interval"),
                                   &trampoline<std::remove_reference_t<Callback>>, &state, failure);
    });
  }

  /// Logs out (the object still frees itself).
  void logout() const { detail::call(httpqq_session_logout, raw_.get()); }

  void close() noexcept { raw_.reset(); }

 private:
  friend class client;
  explicit session(httpqq_session *raw) : raw_(raw) {}

  static std::vector<message> copy(httpqq_message_list *raw) {
    detail::handle<httpqq_message_list, httpqq_message_list_free> list(raw);
    std::vector<message> out;
    for (size_t n = 0; n < httpqq_message_list_len(list.get()); ++n) {
      out.push_back(message::from(httpqq_message_list_get(list.get(), n)));
    }
    return out;
  }

  template <typename Callback>
  static int32_t trampoline(const httpqq_message *raw, void *user_data) {
    auto *state = static_cast<detail::callback_state *>(user_data);
    try {
      return (*static_cast<Callback *>(state->function))(message::from(raw)) ? 0 : 1;
    } catch (...) {
      state->thrown = std::current_exception();
      return 1;
    }
  }

  template <typename Run>
  static void error_and_rethrow(detail::callback_state &state, Run run) {
    detail::error_object failure;
    int32_t result = run(failure.get());
    if (state.thrown) std::rethrow_exception(state.thrown);
    if (result != HTTPQQ_STATUS_OK) failure.raise();
  }

  detail::handle<httpqq_session, httpqq_session_free> raw_;
};

/// What an agent reports (the C header's HTTPQQ_EVENT_KIND_ values).
enum class event_kind : uint32_t {
  online = HTTPQQ_EVENT_KIND_ONLINE,
  reconnecting = HTTPQQ_EVENT_KIND_RECONNECTING,
  throttled = HTTPQQ_EVENT_KIND_THROTTLED,
  session_renewed = HTTPQQ_EVENT_KIND_SESSION_RENEWED,
  message = HTTPQQ_EVENT_KIND_MESSAGE,
  stopped = HTTPQQ_EVENT_KIND_STOPPED,
};

/// An agent's event, copied out of the library.
struct event {
  event_kind kind;
  uint64_t uin;
  std::optional<httpqq::message> message;  ///< for event_kind::message
  uint32_t attempt;                        ///< reconnecting: the attempt's number
  std::chrono::milliseconds delay;         ///< reconnecting, throttled: the wait
  std::optional<httpqq::error> error;      ///< why it reconnects, waits or stopped

  static event from(const httpqq_event *raw) {
    const httpqq_message *carried = httpqq_event_message(raw);
    int32_t code = httpqq_event_error_status(raw);
    std::optional<httpqq::error> failure;
    if (code != HTTPQQ_STATUS_OK) {
      const char *text = httpqq_event_error_message(raw);
      failure.emplace(static_cast<httpqq::status>(code), text == nullptr ? "" : text,
                      detail::optional_string(httpqq_event_reason(raw)),
                      static_cast<httpqq::outcome>(httpqq_event_outcome(raw)));
    }
    return event{static_cast<event_kind>(httpqq_event_get_kind(raw)), httpqq_event_uin(raw),
                 carried == nullptr ? std::nullopt : std::optional<httpqq::message>(httpqq::message::from(carried)),
                 httpqq_event_attempt(raw), std::chrono::milliseconds(httpqq_event_delay_ms(raw)),
                 std::move(failure)};
  }
};

/// What became of a send started with agent::start_send().
struct sent {
  uint64_t id;
  std::optional<httpqq::error> error;  ///< none: the server accepted it

  static sent from(const httpqq_sent *raw) {
    std::optional<httpqq::error> failure;
    int32_t code = httpqq_sent_status(raw);
    if (code != HTTPQQ_STATUS_OK) {
      const char *text = httpqq_sent_error_message(raw);
      failure.emplace(static_cast<httpqq::status>(code), text == nullptr ? "" : text, std::nullopt,
                      static_cast<httpqq::outcome>(httpqq_sent_outcome(raw)),
                      std::chrono::milliseconds(httpqq_sent_retry_after_ms(raw)));
    }
    return sent{httpqq_sent_id(raw), std::move(failure)};
  }
};

/// A logged-in account that stays up: it polls, rides out failures with
/// backoff, waits out penalties, logs in again, and reports it all as
/// events. The destructor stops it and waits for it to finish.
///
/// Simple programs block: `for (const httpqq::event &e : agent.events())`,
/// send(). Programs with an event loop wait on fd() instead (readable when
/// events or the results of started sends are waiting): then
/// clear_ready(), take events with next_event(0ms) and results with
/// take_sent() until none is left, and start sends with start_send().
class agent {
 public:
  agent(agent &&other) noexcept
      : raw_(std::move(other.raw_)), finished_(other.finished_), read_(std::exchange(other.read_, -1)),
        write_(std::exchange(other.write_, -1)) {}
  agent &operator=(agent &&other) noexcept {
    if (this != &other) {
      close();
      raw_ = std::move(other.raw_);
      finished_ = other.finished_;
      read_ = std::exchange(other.read_, -1);
      write_ = std::exchange(other.write_, -1);
    }
    return *this;
  }
  agent(const agent &) = delete;
  agent &operator=(const agent &) = delete;
  ~agent() { close(); }

  /// The next event; std::nullopt if none came within `timeout` (0: only
  /// look), or once the last one (event_kind::stopped) was taken (then
  /// finished() is true). Taking an event says the message taken before
  /// was handled (see agent_options::inbox).
  std::optional<event> next_event(std::chrono::milliseconds timeout) {
    httpqq_event *raw = nullptr;
    detail::error_object failure;
    int32_t result = httpqq_agent_next_event(raw_.get(), detail::milliseconds(timeout, "timeout"), &raw,
                                             failure.get());
    if (result == HTTPQQ_STATUS_STOPPED) {
      finished_ = true;
      return std::nullopt;
    }
    if (result != HTTPQQ_STATUS_OK) failure.raise();
    if (raw == nullptr) return std::nullopt;
    detail::handle<httpqq_event, httpqq_event_free> owned(raw);
    return event::from(owned.get());
  }

  /// The events until the agent stops, blocking: `for (const event &e :
  /// agent.events())`.
  class event_range {
   public:
    class iterator {
     public:
      using value_type = httpqq::event;
      using difference_type = std::ptrdiff_t;
      const httpqq::event &operator*() const { return *current_; }
      const httpqq::event *operator->() const { return &*current_; }
      iterator &operator++() {
        advance();
        return *this;
      }
      bool operator==(const iterator &other) const { return !current_ && !other.current_; }
      bool operator!=(const iterator &other) const { return !(*this == other); }

     private:
      friend class event_range;
      explicit iterator(httpqq::agent *owner) : owner_(owner) {
        if (owner_ != nullptr) advance();
      }
      void advance() {
        current_.reset();
        while (!owner_->finished()) {
          current_ = owner_->next_event(std::chrono::hours(1));
          if (current_) return;
        }
      }
      httpqq::agent *owner_;
      std::optional<httpqq::event> current_;
    };
    iterator begin() { return iterator(owner_); }
    iterator end() { return iterator(nullptr); }

   private:
    friend class agent;
    explicit event_range(httpqq::agent *owner) : owner_(owner) {}
    httpqq::agent *owner_;
  };
  event_range events() { return event_range(this); }

  /// Whether its last event was taken.
  bool finished() const noexcept { return finished_; }

  /// Says the message taken last was handled (with an inbox, it is
  /// forgotten; taking the next event does this too).
  void ack() const noexcept { httpqq_agent_ack(raw_.get()); }

  /// Messages fetched and not taken yet.
  uint64_t undelivered() const noexcept { return httpqq_agent_undelivered(raw_.get()); }

  /// Sends a text message, blocking until the server answers (paced,
  /// waiting out a penalty or the login); never resent after an unknown
  /// outcome (see error::outcome()).
  void send(uint64_t to, std::string_view text) const {
    uint32_t result = 0;
    detail::call(httpqq_agent_send, raw_.get(), to, detail::c_string(text, "the message").c_str(), &result);
  }

  /// Starts a send and returns its id at once; its result comes from
  /// take_sent(), announced on fd().
  uint64_t start_send(uint64_t to, std::string_view text) const {
    uint64_t id = 0;
    detail::call(httpqq_agent_start_send, raw_.get(), to, detail::c_string(text, "the message").c_str(), &id);
    return id;
  }

  /// The result of a started send, if one is waiting; never waits.
  std::optional<sent> take_sent() const {
    httpqq_sent *raw = nullptr;
    detail::call(httpqq_agent_take_sent, raw_.get(), &raw);
    if (raw == nullptr) return std::nullopt;
    detail::handle<httpqq_sent, httpqq_sent_free> owned(raw);
    return sent::from(owned.get());
  }

  /// A descriptor that becomes readable when events or results become
  /// waiting: give it to poll(2), epoll, libuv, asio… Owned by the agent.
  /// On Windows, which has no such descriptor for the library to write
  /// to, -1: wait in next_event() there.
  int fd() const noexcept { return read_; }

  /// Reads what announced readiness from fd(), before taking what waits.
  void clear_ready() const noexcept {
#ifndef _WIN32
    char drained[256];
    while (read_ >= 0 && ::read(read_, drained, sizeof drained) > 0) {
    }
#endif
  }

  /// Asks it to stop; returns at once. Its events end with stopped.
  void stop() const noexcept { httpqq_agent_stop(raw_.get()); }

  /// Stops it, waits until it has finished (it logs out), and frees it.
  void close() noexcept {
    raw_.reset();
#ifndef _WIN32
    for (int *fd : {&read_, &write_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
#endif
  }

 private:
  friend class client;
  agent(httpqq_agent *raw, int read, int write) : raw_(raw), read_(read), write_(write) {}
  detail::handle<httpqq_agent, httpqq_agent_free> raw_;
  bool finished_ = false;
  int read_ = -1;   ///< the pipe's ends: the library writes to write_
  int write_ = -1;
};

inline session client::login(uint64_t uin, std::string_view password) const {
  httpqq_session *raw = nullptr;
  detail::call(httpqq_client_login, raw_.get(), uin, detail::c_string(password, "the password").c_str(), &raw);
  return session(raw);
}

inline httpqq::agent client::start_agent(uint64_t uin, std::string_view password, const agent_options &options) const {
  using detail::milliseconds;
  detail::handle<httpqq_agent_options, httpqq_agent_options_free> settings(httpqq_agent_options_new());
  httpqq_agent_options *raw_options = settings.get();
  if (options.poll_interval)
    detail::call(httpqq_agent_options_set_poll_interval_ms, raw_options,
                 milliseconds(*options.poll_interval, "poll_interval"));
  if (options.backoff_initial)
    detail::call(httpqq_agent_options_set_backoff_initial_ms, raw_options,
                 milliseconds(*options.backoff_initial, "backoff_initial"));
  if (options.backoff_max)
    detail::call(httpqq_agent_options_set_backoff_max_ms, raw_options, milliseconds(*options.backoff_max, "backoff_max"));
  if (options.backoff_factor) detail::call(httpqq_agent_options_set_backoff_factor, raw_options, *options.backoff_factor);
  if (options.backoff_jitter) detail::call(httpqq_agent_options_set_backoff_jitter, raw_options, *options.backoff_jitter);
  if (options.throttle_penalty)
    detail::call(httpqq_agent_options_set_throttle_penalty_ms, raw_options,
                 milliseconds(*options.throttle_penalty, "throttle_penalty"));
  if (options.throttle_retries)
    detail::call(httpqq_agent_options_set_throttle_retries, raw_options, *options.throttle_retries);
  if (options.send_pace)
    detail::call(httpqq_agent_options_set_send_pace, raw_options, options.send_pace->count,
                 milliseconds(options.send_pace->window, "send_pace.window"));
  if (options.relogin) detail::call(httpqq_agent_options_set_relogin, raw_options, *options.relogin);
  if (options.logout_on_stop)
    detail::call(httpqq_agent_options_set_logout_on_stop, raw_options, *options.logout_on_stop);
  if (options.stop_timeout)
    detail::call(httpqq_agent_options_set_stop_timeout_ms, raw_options, milliseconds(*options.stop_timeout, "stop_timeout"));
  std::string inbox = options.inbox ? detail::c_string(*options.inbox, "the inbox") : std::string();
  if (options.inbox) detail::call(httpqq_agent_options_set_inbox, raw_options, inbox.c_str());
#ifdef _WIN32
  httpqq_agent *raw = nullptr;
  detail::call(httpqq_agent_start, raw_.get(), uin, detail::c_string(password, "the password").c_str(), raw_options,
               &raw);
  return httpqq::agent(raw, -1, -1);
#else
  // The agent announces waiting events on a pipe: the program waits on its
  // read end (fd()) in its own loop, or in next_event().
  int ends[2];
  if (::pipe(ends) != 0) throw httpqq::error(status::internal, "cannot make the agent's pipe");
  for (int end : ends) ::fcntl(end, F_SETFD, FD_CLOEXEC);
  ::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) | O_NONBLOCK);
  httpqq_agent *raw = nullptr;
  try {
    detail::call(httpqq_agent_options_set_event_fd, raw_options, ends[1]);
    detail::call(httpqq_agent_start, raw_.get(), uin, detail::c_string(password, "the password").c_str(), raw_options,
                 &raw);
  } catch (...) {
    ::close(ends[0]);
    ::close(ends[1]);
    throw;
  }
  return httpqq::agent(raw, ends[0], ends[1]);
#endif
}

}  // namespace httpqq

#endif  // HTTPQQ_HPP
