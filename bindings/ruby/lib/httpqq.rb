# frozen_string_literal: true

# httpqq for Ruby: libhttpqq through the ffi gem.
#
# The declarations are read from the flat header libhttpqq installs
# (httpqq_cdef.h), so this file holds no copy of them. Every call is
# attached with `blocking: true`: it releases the GVL, so other Ruby threads
# (and the main thread's signal handlers) run while one waits for the
# network. Strings come back as UTF-8; failures are exceptions under
# Httpqq::Error; handles are freed by #close (or a block form) and, as a
# safety net, by the garbage collector.
#
# Where the library is: HTTPQQ_LIB (a path), else the one a platform gem
# carries (lib/httpqq/native/), else the system's loader ("libhttpqq.so").
# Where the declarations are: HTTPQQ_CDEF, else the gem's
# (lib/httpqq/include/), else ../include/httpqq_cdef.h beside HTTPQQ_LIB,
# else /usr/local/include and /usr/include. The test Server's library,
# libhttpqq_testing, is loaded when the first one starts:
# HTTPQQ_TESTING_LIB, else beside libhttpqq; its declarations
# (httpqq_testing_cdef.h) are looked for as libhttpqq's are.
#
#   require "httpqq"
#   Httpqq::Client.open("127.0.0.1:8000") do |client|
#     client.login(10001, "demo") do |alice|
#       alice.send_message(10002, "你好")
#       alice.messages.each { |m| puts "#{m.sender}: #{m.text}" }
#     end
#   end

require "ffi"
require "rbconfig"
require "io/wait"

module Httpqq
  # The C library, its functions attached from httpqq_cdef.h.
  module C
    extend FFI::Library

    # The file name of library `name` on this platform (the ABI in it).
    ABI = "0.3"
    def self.file_name(name)
      case RbConfig::CONFIG["host_os"]
      when /mswin|mingw/ then "#{name}.dll"
      when /darwin/ then "lib#{name}.#{ABI}.dylib"
      else "lib#{name}.so.#{ABI}"
      end
    end

    # What a platform gem carries: lib/httpqq/native/.
    NATIVE = File.join(__dir__, "httpqq", "native")
    BUNDLED = File.exist?(File.join(NATIVE, file_name("httpqq")))

    LIB = ENV["HTTPQQ_LIB"] || (BUNDLED ? File.join(NATIVE, file_name("httpqq")) : "libhttpqq.so")
    TESTING_LIB = ENV["HTTPQQ_TESTING_LIB"] ||
                  if ENV["HTTPQQ_LIB"] then File.join(File.dirname(ENV["HTTPQQ_LIB"]), "libhttpqq_testing.so")
                  elsif BUNDLED then File.join(NATIVE, file_name("httpqq_testing"))
                  else "libhttpqq_testing.so"
                  end

    # The flat declarations `file`: `override`, else beside the library,
    # else the system's include folders.
    def self.declarations(file, override)
      path = [
        override,
        File.join(__dir__, "httpqq", "include", file),
        ENV["HTTPQQ_LIB"] && File.join(File.dirname(ENV["HTTPQQ_LIB"]), "..", "include", file),
        "/usr/local/include/#{file}",
        "/usr/include/#{file}",
      ].compact.find { |candidate| File.exist?(candidate) } or
        raise LoadError, "httpqq: cannot find #{file} (set HTTPQQ_CDEF)"
      File.read(path, encoding: "UTF-8")
    end

    DECLARATIONS = declarations("httpqq_cdef.h", ENV["HTTPQQ_CDEF"])

    ffi_lib LIB

    # Every HTTPQQ_ constant of the header, by name.
    CONSTANTS = DECLARATIONS.scan(/^\s*(HTTPQQ_\w+) = (-?\d+),/).to_h { |name, value| [name, Integer(value)] }.freeze

    SCALARS = {
      "void" => :void, "bool" => :bool, "size_t" => :size_t,
      "int32_t" => :int32, "uint32_t" => :uint32, "int64_t" => :int64,
      "uint64_t" => :uint64, "uint16_t" => :uint16, "double" => :double,
    }.freeze

    # A C type as the ffi gem names it: pointers (strings included) stay
    # pointers, except a `const char *` parameter, which takes a Ruby
    # String (refused if it holds a NUL).
    def self.ffi_type(type, parameter)
      type = type.strip
      return :string if parameter && type == "const char *"
      return :pointer if type.include?("*") || type.end_with?("_callback")
      SCALARS.fetch(type) { raise LoadError, "httpqq: unknown C type #{type}" }
    end

    # Attaches every function of `declarations` from the library last given
    # to ffi_lib.
    def self.attach_all(declarations)
      declarations.split(";").each do |raw|
        declaration = raw.gsub(/\s+/, " ").strip
        next if declaration.start_with?("typedef", "enum")
        match = /\A(?<result>[\w\s*]+?)\s*\b(?<name>httpqq_\w+)\((?<params>.*)\)\z/.match(declaration) or next
        params = match[:params] == "void" ? [] : match[:params].split(",").map { |p| p.sub(/\w+\s*\z/, "") }
        attach_function match[:name].to_sym, params.map { |p| ffi_type(p, true) }, ffi_type(match[:result], false),
                        blocking: true
      end
    end

    attach_all(DECLARATIONS)

    TESTING = Mutex.new

    # Attaches libhttpqq_testing's functions (the test Server) here, once.
    def self.load_testing
      TESTING.synchronize do
        next if @testing_loaded
        ffi_lib TESTING_LIB
        attach_all(declarations("httpqq_testing_cdef.h", ENV["HTTPQQ_TESTING_CDEF"]))
        @testing_loaded = true
      end
    end
  end

  # Every constant of the header without its prefix: Httpqq::STATUS_OK, …
  C::CONSTANTS.each { |name, value| const_set(name.delete_prefix("HTTPQQ_"), value) }

  VERSION = C.httpqq_version.read_string.force_encoding(Encoding::UTF_8)

  # A failure of libhttpqq. #status is the httpqq_status, #status_name its
  # name, #reason the server's words when it gave some, #retry_after the
  # seconds a RES=3 penalty lasts, and #outcome :refused (certainly not
  # carried out) or :unknown (sent, no reply: it may have been).
  class Error < StandardError
    attr_reader :status, :reason, :retry_after, :outcome

    def initialize(message = nil, status: STATUS_INTERNAL, reason: nil, retry_after: 0.0, outcome: :refused)
      super(message)
      @status = status
      @reason = reason
      @retry_after = retry_after
      @outcome = outcome
    end

    def status_name = Httpqq.string(C.httpqq_status_name(status))
  end

  class NoReply < Error; end
  class NotLoggedIn < Error; end
  class Throttled < Error; end
  class InvalidUin < Error; end
  class LoginFailed < Error; end
  class ProtocolError < Error; end
  class TransportError < Error; end
  class TimeoutError < Error; end
  class InvalidConfig < Error; end
  class InvalidArgument < Error; end
  class ServerError < Error; end
  class InternalError < Error; end
  class Stopped < Error; end
  class Cancelled < Error; end
  class NotOnline < Error; end
  # The request would pass the 64 KiB a server reads: nothing was sent.
  class TooLarge < Error; end

  ERRORS = {
    STATUS_NO_REPLY => NoReply, STATUS_NOT_LOGGED_IN => NotLoggedIn, STATUS_THROTTLED => Throttled,
    STATUS_INVALID_UIN => InvalidUin, STATUS_LOGIN_FAILED => LoginFailed, STATUS_PROTOCOL => ProtocolError,
    STATUS_TRANSPORT => TransportError, STATUS_TIMEOUT => TimeoutError, STATUS_INVALID_CONFIG => InvalidConfig,
    STATUS_INVALID_ARGUMENT => InvalidArgument, STATUS_SERVER => ServerError, STATUS_INTERNAL => InternalError,
    STATUS_STOPPED => Stopped, STATUS_CANCELLED => Cancelled, STATUS_NOT_ONLINE => NotOnline,
    STATUS_TOO_LARGE => TooLarge,
  }.freeze

  OUTCOMES = { OUTCOME_ACCEPTED => :accepted, OUTCOME_REFUSED => :refused, OUTCOME_UNKNOWN => :unknown }.freeze

  # A C string the library owns, copied as UTF-8; nil for NULL.
  def self.string(pointer)
    pointer.null? ? nil : pointer.read_string.force_encoding(Encoding::UTF_8)
  end

  # Calls a fallible function with an error object of its own (so the
  # error is this call's, whatever thread ran it); raises what it holds.
  def self.call(name, *args)
    error = C.httpqq_error_new
    begin
      status = C.public_send(name, *args, error)
      raise failure(error) unless status.zero?
    ensure
      C.httpqq_error_free(error)
    end
  end

  def self.failure(error)
    status = C.httpqq_error_status(error)
    ERRORS.fetch(status, Error).new(
      string(C.httpqq_error_message(error)),
      status: status,
      reason: string(C.httpqq_error_reason(error)),
      retry_after: C.httpqq_error_retry_after_ms(error) / 1000.0,
      outcome: OUTCOMES.fetch(C.httpqq_error_outcome(error), :unknown),
    )
  end

  def self.uin(value, what = "uin")
    unless value.is_a?(Integer)
      raise TypeError, "httpqq: #{what} must be a QQ number (an Integer), not #{value.inspect}"
    end
    raise RangeError, "httpqq: #{what} must be from 0 to 2**64-1, not #{value}" unless value.between?(0, 2**64 - 1)

    value
  end

  def self.text(value, what)
    raise TypeError, "httpqq: #{what} must be a String, not #{value.class}" unless value.is_a?(String)
    unless value.encoding == Encoding::UTF_8 || value.ascii_only?
      value = value.encode(Encoding::UTF_8)
    end
    raise ArgumentError, "httpqq: #{what} is not valid UTF-8" unless value.valid_encoding?
    raise ArgumentError, "httpqq: #{what} holds a NUL byte" if value.include?("\0")

    value
  end

  # The arguments of httpqq_agent_options_set_send_pace: nil (the default),
  # false (no pace), or [count, seconds].
  def self.pace(value)
    return nil if value.nil?
    return [0, 0] if value == false
    unless value.is_a?(Array) && value.size == 2
      raise TypeError, "httpqq: send_pace must be [count, seconds] or false, not #{value.inspect}"
    end

    [Integer(value[0]), milliseconds(value[1], "send_pace's seconds")]
  end

  def self.milliseconds(seconds, what)
    raise TypeError, "httpqq: #{what} must be a number of seconds" unless seconds.is_a?(Numeric)
    raise ArgumentError, "httpqq: #{what} must not be negative" if seconds.negative?

    (seconds * 1000).round
  end

  # A libhttpqq handle: freed once, never while another thread's call uses
  # it (close waits for those calls), and freed by the garbage collector if
  # nobody closed it.
  class Handle
    # The clients and sessions not closed yet (weakly held), shut down at
    # exit: Ruby's exit waits for its threads, and one inside a call (which
    # no signal interrupts) would hold it up to the call's timeout; shut
    # down, the call ends at once (it fails with Cancelled).
    AT_EXIT = ObjectSpace::WeakMap.new
    at_exit { AT_EXIT.each_key(&:shutdown) }

    # shutdown: the function that ends its calls in flight (clients and
    # sessions), called at exit.
    def initialize(pointer, free, what, shutdown = nil)
      @pointer = FFI::AutoPointer.new(pointer, C.method(free))
      @what = what
      @lock = Mutex.new
      @idle = ConditionVariable.new
      @busy = 0
      @shutdown = shutdown
      AT_EXIT[self] = true if shutdown
    end

    # Ends its calls in flight and refuses later ones (at exit): without
    # waiting for them, as they are what it ends.
    def shutdown
      pointer = @lock.synchronize { @pointer }
      C.send(@shutdown, pointer) if pointer
      nil
    end

    # Runs the block with the pointer, held open meanwhile.
    def use
      @lock.synchronize do
        raise IOError, "httpqq: the #{@what} is closed" if @pointer.nil?

        @busy += 1
      end
      begin
        yield @pointer
      ensure
        @lock.synchronize do
          @busy -= 1
          @idle.broadcast if @busy.zero?
        end
      end
    end

    def closed? = @lock.synchronize { @pointer.nil? }

    # Frees it once the calls using it have returned; later calls raise
    # IOError; closing twice does nothing.
    def close
      pointer = @lock.synchronize do
        @idle.wait(@lock) until @busy.zero?
        taken = @pointer
        @pointer = nil
        taken
      end
      pointer&.free
      nil
    end
  end

  # Opens a resource, yields it and closes it (the block forms).
  module Closing
    def self.around(resource)
      return resource unless block_given?

      begin
        yield resource
      ensure
        resource.close
      end
    end
  end

  # A message: #kind is a Symbol (:text, :status_change, …), #status the
  # new online status of a :status_change.
  Message = Struct.new(:kind, :sender, :text, :status, keyword_init: true)

  MESSAGE_KINDS = {
    MESSAGE_KIND_VERIFICATION_REQUEST => :verification_request, MESSAGE_KIND_APPROVED => :approved,
    MESSAGE_KIND_REJECTED => :rejected, MESSAGE_KIND_TEXT => :text, MESSAGE_KIND_STATUS_CHANGE => :status_change,
  }.freeze

  def self.message_of(pointer)
    length = FFI::MemoryPointer.new(:size_t)
    bytes = C.httpqq_message_text(pointer, length)
    status = C.httpqq_message_status(pointer)
    Message.new(
      kind: MESSAGE_KINDS.fetch(C.httpqq_message_get_kind(pointer), :other),
      sender: C.httpqq_message_sender(pointer),
      text: bytes.read_bytes(length.read(:size_t)).force_encoding(Encoding::UTF_8),
      status: status.zero? ? nil : status,
    )
  end

  # The reference server, in this process (for tests).
  class Server
    # Starts it on listen ("127.0.0.1:0", a free port, by default) with an
    # accounts file (TOML; by default the demo accounts 10001-10005, password
    # "demo"). tls: true adds a listener that speaks TLS with a certificate
    # made at start (#tls_endpoint, #ca_pem). With a block: yields it and
    # stops it after.
    def self.start(listen: nil, accounts: nil, tls: false, &block)
      C.load_testing
      out = FFI::MemoryPointer.new(:pointer)
      Httpqq.call(tls ? :httpqq_server_start_tls : :httpqq_server_start, listen && Httpqq.text(listen, "listen"),
                  accounts && Httpqq.text(accounts, "accounts"), out)
      Closing.around(new(out.read_pointer), &block)
    end

    def initialize(pointer)
      @handle = Handle.new(pointer, :httpqq_server_free, "server")
    end

    # "host:port".
    def endpoint = @handle.use { |server| Httpqq.string(C.httpqq_server_endpoint(server)) }

    # "https://127.0.0.1:port" of the TLS listener, or nil.
    def tls_endpoint
      @handle.use do |server|
        pointer = C.httpqq_server_tls_endpoint(server)
        pointer.null? ? nil : Httpqq.string(pointer)
      end
    end

    # The TLS listener's certificate (PEM), for a client's ca_pem, or nil.
    def ca_pem
      @handle.use do |server|
        pointer = C.httpqq_server_tls_ca_pem(server)
        pointer.null? ? nil : Httpqq.string(pointer)
      end
    end

    # A client of it; with tls: true, of its TLS listener, trusting it.
    def client(tls: false, **options, &block)
      return Client.open(endpoint, **options, &block) unless tls
      raise ArgumentError, "httpqq: this server has no TLS listener: start it with tls: true" unless tls_endpoint

      Client.open(tls_endpoint, **options, ca_pem: ca_pem, &block)
    end

    # The test controls: rehearse what a bot meets in the field. Durations
    # in seconds.

    # Ends uin's session as its idle timeout would; whether it had one.
    def expire_session(uin) = @handle.use { |server| C.httpqq_server_expire_session(server, Httpqq.uin(uin)) }

    # Answers every request of uin with RES=3 for the given seconds.
    def throttle(uin, seconds)
      @handle.use { |server| C.httpqq_server_throttle(server, Httpqq.uin(uin), Httpqq.milliseconds(seconds, "seconds")) }
      nil
    end

    # Delays every reply by the given seconds (0: none).
    def latency=(seconds)
      @handle.use { |server| C.httpqq_server_set_latency_ms(server, Httpqq.milliseconds(seconds, "latency")) }
    end

    # Accepts connections but answers nothing until #resume.
    def pause = @handle.use { |server| C.httpqq_server_pause(server) } && nil
    def resume = @handle.use { |server| C.httpqq_server_resume(server) } && nil

    # Closes the listening socket (connections are refused), keeping the
    # accounts and their state, until #restart listens again on the same
    # address.
    def stop_listening = @handle.use { |server| C.httpqq_server_stop_listening(server) } && nil

    def restart
      @handle.use { |server| Httpqq.call(:httpqq_server_restart, server) }
      nil
    end

    # Changes uin's password (its session ends); whether the account exists.
    def change_password(uin, password)
      @handle.use do |server|
        C.httpqq_server_change_password(server, Httpqq.uin(uin), Httpqq.text(password, "password"))
      end
    end

    # While on, ends every session right after its login (a NAT that
    # changes the client's address).
    def drop_sessions(on) = @handle.use { |server| C.httpqq_server_drop_sessions(server, on ? true : false) } && nil

    # Passwords checked, and connections accepted, since the start.
    def password_checks = @handle.use { |server| C.httpqq_server_password_checks(server) }
    def connections_accepted = @handle.use { |server| C.httpqq_server_connections_accepted(server) }

    # Requests of uin answered: of command only (its wire name, e.g.
    # "CLTMSG") and with result only (:null for the NULL), when given.
    def request_count(uin, command: nil, result: nil)
      res = { nil => -1, :null => -2 }.fetch(result) { Integer(result) }
      @handle.use do |server|
        C.httpqq_server_request_count(server, Httpqq.uin(uin), command && Httpqq.text(command, "command"), res)
      end
    end

    def close = @handle.close
    def closed? = @handle.closed?
  end

  # A client of one server: its settings and its connections.
  class Client
    # With a block: yields the client and closes it after.
    def self.open(endpoint, **options, &block) = Closing.around(new(endpoint, **options), &block)

    # timeout and connect_timeout in seconds. tls: speak TLS (default: only
    # for an https:// endpoint), verified against Mozilla's roots unless
    # ca_file or ca_pem name the authority to trust.
    def initialize(endpoint, timeout: 30, connect_timeout: 10, keep_alive: false, tls: nil, ca_file: nil,
                   ca_pem: nil)
      builder = C.httpqq_client_builder_new
      begin
        Httpqq.call(:httpqq_client_builder_set_endpoint, builder, Httpqq.text(endpoint, "endpoint"))
        Httpqq.call(:httpqq_client_builder_set_timeout_ms, builder, Httpqq.milliseconds(timeout, "timeout"))
        Httpqq.call(:httpqq_client_builder_set_connect_timeout_ms, builder,
                    Httpqq.milliseconds(connect_timeout, "connect_timeout"))
        Httpqq.call(:httpqq_client_builder_set_keep_alive, builder, keep_alive ? true : false)
        Httpqq.call(:httpqq_client_builder_set_tls, builder, tls ? true : false) unless tls.nil?
        Httpqq.call(:httpqq_client_builder_set_ca_file, builder, Httpqq.text(ca_file.to_s, "ca_file")) if ca_file
        Httpqq.call(:httpqq_client_builder_set_ca_pem, builder, Httpqq.text(ca_pem, "ca_pem")) if ca_pem
        out = FFI::MemoryPointer.new(:pointer)
        Httpqq.call(:httpqq_client_builder_build, builder, out)
        @handle = Handle.new(out.read_pointer, :httpqq_client_free, "client", :httpqq_client_shutdown)
      ensure
        C.httpqq_client_builder_free(builder)
      end
    end

    # Logs in; the Session (with a block: yields it and closes it after).
    # Raises LoginFailed, whose #reason is the server's, for a wrong
    # password.
    def login(who, password, &block)
      number = Httpqq.uin(who)
      password = Httpqq.text(password, "password")
      session = @handle.use do |client|
        out = FFI::MemoryPointer.new(:pointer)
        Httpqq.call(:httpqq_client_login, client, number, password, out)
        Session.new(out.read_pointer, number)
      end
      Closing.around(session, &block)
    end

    # An Agent: a logged-in account that stays up (with a block: yields it
    # and closes it after). Durations in seconds; what is left out is the
    # library's default (see bindings/README.md); an unknown option is an
    # ArgumentError. send_pace: [count, seconds], or false for none.
    def agent(who, password, poll_interval: nil, backoff_initial: nil, backoff_max: nil, backoff_factor: nil,
              backoff_jitter: nil, throttle_penalty: nil, throttle_retries: nil, send_pace: nil, relogin: nil,
              logout_on_stop: nil, stop_timeout: nil, inbox: nil, &block)
      number = Httpqq.uin(who)
      password = Httpqq.text(password, "password")
      ms = Httpqq.method(:milliseconds)
      settings = {
        httpqq_agent_options_set_poll_interval_ms: poll_interval && [ms.(poll_interval, "poll_interval")],
        httpqq_agent_options_set_backoff_initial_ms: backoff_initial && [ms.(backoff_initial, "backoff_initial")],
        httpqq_agent_options_set_backoff_max_ms: backoff_max && [ms.(backoff_max, "backoff_max")],
        httpqq_agent_options_set_backoff_factor: backoff_factor && [Float(backoff_factor)],
        httpqq_agent_options_set_backoff_jitter: backoff_jitter && [Float(backoff_jitter)],
        httpqq_agent_options_set_throttle_penalty_ms: throttle_penalty && [ms.(throttle_penalty, "throttle_penalty")],
        httpqq_agent_options_set_throttle_retries: throttle_retries && [Integer(throttle_retries)],
        httpqq_agent_options_set_send_pace: Httpqq.pace(send_pace),
        httpqq_agent_options_set_relogin: relogin.nil? ? nil : [relogin ? true : false],
        httpqq_agent_options_set_logout_on_stop: logout_on_stop.nil? ? nil : [logout_on_stop ? true : false],
        httpqq_agent_options_set_stop_timeout_ms: stop_timeout && [ms.(stop_timeout, "stop_timeout")],
        httpqq_agent_options_set_inbox: inbox && [Httpqq.text(inbox.to_s, "inbox")],
      }
      # The agent announces what waits on a pipe: threads wait on its read
      # end (in IO#wait_readable, the fiber scheduler's if there is one),
      # never in C.
      reader, writer = IO.pipe
      options = C.httpqq_agent_options_new
      agent = begin
        settings.each { |setter, args| Httpqq.call(setter, options, *args) if args }
        Httpqq.call(:httpqq_agent_options_set_event_fd, options, writer.fileno)
        @handle.use do |client|
          out = FFI::MemoryPointer.new(:pointer)
          Httpqq.call(:httpqq_agent_start, client, number, password, options, out)
          Agent.new(out.read_pointer, number, reader, writer)
        end
      rescue StandardError
        reader.close
        writer.close
        raise
      ensure
        C.httpqq_agent_options_free(options)
      end
      Closing.around(agent, &block)
    end

    def close = @handle.close
    def closed? = @handle.closed?
  end

  # A logged-in account and its commands.
  class Session
    attr_reader :uin

    def initialize(pointer, number)
      @handle = Handle.new(pointer, :httpqq_session_free, "session", :httpqq_session_shutdown)
      @uin = number
    end

    # Sends a text message (named so, since Object#send is Ruby's).
    def send_message(to, message)
      target = Httpqq.uin(to, "to")
      message = Httpqq.text(message, "message")
      @handle.use { |session| Httpqq.call(:httpqq_session_send_message, session, target, message) }
      nil
    end

    # The pending messages, oldest first: an Array of Message.
    def messages
      @handle.use do |session|
        out = FFI::MemoryPointer.new(:pointer)
        Httpqq.call(:httpqq_session_fetch_messages, session, out)
        list = FFI::AutoPointer.new(out.read_pointer, C.method(:httpqq_message_list_free))
        Array.new(C.httpqq_message_list_len(list)) { |n| Httpqq.message_of(C.httpqq_message_list_get(list, n)) }
      ensure
        list&.free
      end
    end

    # The friends' UINs.
    def friends
      @handle.use do |session|
        out = FFI::MemoryPointer.new(:pointer)
        Httpqq.call(:httpqq_session_friends, session, 0, out)
        list = FFI::AutoPointer.new(out.read_pointer, C.method(:httpqq_friend_list_free))
        Array.new(C.httpqq_friend_list_len(list)) { |n| C.httpqq_friend_list_get(list, n) }
      ensure
        list&.free
      end
    end

    # Logs out (the handle still needs #close).
    def logout
      @handle.use { |session| Httpqq.call(:httpqq_session_logout, session) }
      nil
    end

    def close = @handle.close
    def closed? = @handle.closed?
  end

  # What an agent reports. #kind is :online, :reconnecting, :throttled,
  # :session_renewed, :message or :stopped; #error an Httpqq::Error (or nil).
  Event = Struct.new(:kind, :uin, :message, :attempt, :delay, :error, keyword_init: true)

  EVENT_KINDS = {
    EVENT_KIND_ONLINE => :online, EVENT_KIND_RECONNECTING => :reconnecting, EVENT_KIND_THROTTLED => :throttled,
    EVENT_KIND_SESSION_RENEWED => :session_renewed, EVENT_KIND_MESSAGE => :message, EVENT_KIND_STOPPED => :stopped,
  }.freeze

  def self.event_of(pointer)
    message = C.httpqq_event_message(pointer)
    status = C.httpqq_event_error_status(pointer)
    error = unless status.zero?
              ERRORS.fetch(status, Error).new(string(C.httpqq_event_error_message(pointer)),
                                              status: status, reason: string(C.httpqq_event_reason(pointer)),
                                              outcome: OUTCOMES.fetch(C.httpqq_event_outcome(pointer), :unknown))
            end
    Event.new(
      kind: EVENT_KINDS.fetch(C.httpqq_event_get_kind(pointer), :other),
      uin: C.httpqq_event_uin(pointer),
      message: message.null? ? nil : message_of(message),
      attempt: C.httpqq_event_attempt(pointer),
      delay: C.httpqq_event_delay_ms(pointer) / 1000.0,
      error: error,
    )
  end

  # A logged-in account that stays up: it polls, rides out failures with
  # backoff, waits out penalties, logs in again, and reports it all as
  # events:
  #
  #   client.agent(10002, "demo") do |bot|
  #     bot.each_event do |event|
  #       bot.send_message(event.message.sender, "got it") if event.kind == :message
  #     end
  #   end
  #
  # Waiting holds no thread in C: the agent announces waiting events and
  # send results on a pipe, and the waiting threads wait on it (one reads
  # it, the others wait for its news). #io is that pipe, for a loop of your
  # own (IO.select, or a fiber scheduler).
  class Agent
    include Enumerable

    attr_reader :uin

    def initialize(pointer, number, reader, writer)
      @handle = Handle.new(pointer, :httpqq_agent_free, "agent")
      @uin = number
      @reader = reader
      @writer = writer
      @lock = Mutex.new
      @news = ConditionVariable.new
      @reading = false
      @results = {}
    end

    # The IO that becomes readable when events or send results are waiting
    # (for IO.select, or a loop of your own): then take events with
    # next_event(timeout: 0) until it gives nil, which also reads the IO.
    def io = @reader

    # The next Event; nil if none came within timeout seconds (nil: wait as
    # long as it takes; 0: only look); false once the last one (:stopped)
    # was taken. Taking an event says the message taken before was handled
    # (see the inbox option). IOError once the agent is closed (also in a
    # thread waiting here when another closes it).
    def next_event(timeout: nil)
      deadline = timeout && (Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout)
      loop do
        event = take_event
        return event unless event.nil?
        if deadline && Process.clock_gettime(Process::CLOCK_MONOTONIC) >= deadline
          # Nothing waits: what the pipe holds is news taken already.
          wait_for_news(deadline)
          return nil
        end

        wait_for_news(deadline)
      end
    end

    # Yields every event until the agent stops (the last is :stopped);
    # without a block, an Enumerator.
    def each_event
      return enum_for(:each_event) unless block_given?

      loop do
        event = next_event
        break if event == false

        yield event
        break if event.kind == :stopped
      end
      self
    end
    alias each each_event

    # Says the message taken last was handled (with an inbox it is
    # forgotten; taking the next event does this too).
    def ack
      @handle.use { |agent| C.httpqq_agent_ack(agent) }
      nil
    end

    # Sends a text message, paced, waiting out a penalty or the login; on
    # failure the error's #outcome says :refused or :unknown (sent, no
    # reply). Never resent by itself.
    def send_message(to, message)
      id = start_send(to, message)
      loop do
        done, error = @lock.synchronize { [@results.key?(id), @results.delete(id)] }
        if done
          raise error if error

          return nil
        end
        wait_for_news(nil)
      end
    end

    # Starts a send and returns its id at once; #send_message waits for it.
    def start_send(to, message)
      target = Httpqq.uin(to, "to")
      message = Httpqq.text(message, "message")
      id = FFI::MemoryPointer.new(:uint64)
      @handle.use { |agent| Httpqq.call(:httpqq_agent_start_send, agent, target, message, id) }
      id.read(:uint64)
    end

    # Asks it to stop; returns at once. Its events end with :stopped.
    def stop
      @handle.use { |agent| C.httpqq_agent_stop(agent) }
      nil
    end

    # Stops it, waits until it has finished (it logs out), and frees it.
    def close
      begin
        stop
      rescue IOError
        # closed already
      end
      @handle.close
      @lock.synchronize do
        [@reader, @writer].each { |io| io.close unless io.closed? }
        @news.broadcast
      end
      nil
    end

    def closed? = @handle.closed?

    private

    # The next event without waiting: an Event, nil, or false after the last.
    def take_event
      @handle.use do |agent|
        out = FFI::MemoryPointer.new(:pointer)
        begin
          Httpqq.call(:httpqq_agent_next_event, agent, 0, out)
        rescue Stopped
          return false
        end
        return nil if out.read_pointer.null?

        event = FFI::AutoPointer.new(out.read_pointer, C.method(:httpqq_event_free))
        begin
          Httpqq.event_of(event)
        ensure
          event.free
        end
      end
    end

    # Waits for the pipe to say something changed, until deadline (nil: no
    # limit): one thread reads it and takes the send results; the others
    # wait for its news.
    def wait_for_news(deadline)
      @lock.synchronize do
        raise IOError, "httpqq: the agent is closed" if @reader.closed?

        if @reading
          @news.wait(@lock, deadline && [deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0].max)
          return
        end
        @reading = true
      end
      begin
        left = deadline && [deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0].max
        begin
          readable = @reader.wait_readable(left) && @reader.read_nonblock(4096, exception: false)
        rescue IOError
          raise IOError, "httpqq: the agent is closed"
        end
        take_results if readable
      ensure
        @lock.synchronize do
          @reading = false
          @news.broadcast
        end
      end
    end

    def take_results
      @handle.use do |agent|
        loop do
          out = FFI::MemoryPointer.new(:pointer)
          Httpqq.call(:httpqq_agent_take_sent, agent, out)
          break if out.read_pointer.null?

          sent = FFI::AutoPointer.new(out.read_pointer, C.method(:httpqq_sent_free))
          status = C.httpqq_sent_status(sent)
          error = unless status.zero?
                    ERRORS.fetch(status, Error).new(
                      Httpqq.string(C.httpqq_sent_error_message(sent)), status: status,
                      retry_after: C.httpqq_sent_retry_after_ms(sent) / 1000.0,
                      outcome: OUTCOMES.fetch(C.httpqq_sent_outcome(sent), :unknown)
                    )
                  end
          @lock.synchronize { @results[C.httpqq_sent_id(sent)] = error }
          sent.free
        end
      end
    end
  end
end
