# frozen_string_literal: true

# The bindings' common scenario against the in-process reference server:
# two demo accounts; a text with '&', '%26', Chinese and a newline,
# byte-exact both ways; a wrong password failing with the server's reason;
# misuse turned into Ruby's own exceptions, never a crash; everything
# closed. Then what matters to Ruby in particular: calls that release the
# GVL (other threads and Ctrl-C run meanwhile) and errors that are the
# calling thread's own.

require "minitest/autorun"
require "httpqq"
require "tmpdir"

class HttpqqTest < Minitest::Test
  TEXT = "你好 & 1+1=2 %26\nsecond line"

  def setup
    @server = Httpqq::Server.start
    @client = Httpqq::Client.new(@server.endpoint, timeout: 5)
  end

  def teardown
    @client.close
    @server.close
  end

  def texts(session) = session.messages.select { |m| m.kind == :text }

  def test_the_gem_is_the_version_of_the_library_it_binds
    gemspec = Gem::Specification.load(File.expand_path("../httpqq.gemspec", __dir__))
    assert_equal Httpqq::VERSION, gemspec.version.to_s
    assert_equal gemspec.version.segments.first(2).join("."), Httpqq::C::ABI, "the ABI in the library's file name"
  end

  def test_a_chat_is_byte_exact_both_ways
    alice = @client.login(10001, "demo")
    @client.login(10002, "demo") do |bob|
      alice.send_message(10002, TEXT)
      got = texts(bob)
      assert_equal [[10001, TEXT]], got.map { |m| [m.sender, m.text] }
      assert_equal Encoding::UTF_8, got[0].text.encoding
      bob.send_message(10001, got[0].text)
    end
    assert_equal [TEXT], texts(alice).map(&:text)
    assert_equal [10002], alice.friends
    alice.logout
    assert_raises(Httpqq::NotLoggedIn) { alice.messages }
    alice.close
    assert alice.closed?
  end

  def test_a_wrong_password_fails_with_the_servers_reason
    error = assert_raises(Httpqq::LoginFailed) { @client.login(10001, "wrong") }
    assert_kind_of Httpqq::Error, error
    assert_equal "密码错误", error.reason
    assert_equal Encoding::UTF_8, error.message.encoding
    assert_match(/密码错误/, error.message)
    assert_equal Httpqq::STATUS_LOGIN_FAILED, error.status
    assert_equal "login failed", error.status_name
    assert_equal :refused, error.outcome
    assert_raises(Httpqq::InvalidUin) { @client.login(99999, "x") }
  end

  def test_misuse_is_an_exception_never_a_crash
    assert_raises(TypeError) { @client.login("10001", "demo") }
    assert_raises(RangeError) { @client.login(-1, "demo") }
    assert_raises(RangeError) { @client.login(2**64, "demo") }
    assert_raises(TypeError) { @client.login(10001, 42) }
    assert_raises(TypeError) { @client.login(10001, nil) }
    assert_raises(Httpqq::InvalidConfig) { Httpqq::Client.new("no such:host:99") }
    assert_raises(ArgumentError) { Httpqq::Client.new(@server.endpoint, timeout: -1) }
    alice = @client.login(10001, "demo")
    assert_raises(ArgumentError) { alice.send_message(10002, "a\0b") }
    assert_raises(ArgumentError) { alice.send_message(10002, "x\xff\xfe".b.force_encoding("UTF-8")) }
    # Another encoding is converted, not sent as its bytes.
    alice.send_message(10002, "你好".encode("GB18030"))
    @client.login(10002, "demo") { |bob| assert_equal ["你好"], texts(bob).map(&:text) }
    alice.close
    alice.close # twice: nothing
    assert_raises(IOError) { alice.send_message(10002, "hi") }
    @server.close
    assert_raises(IOError) { @server.endpoint }
    # A dead server: the client's own error, bounded by its timeout.
    assert_raises(Httpqq::TransportError) { @client.login(10001, "demo") }
  end

  # What the collector frees (FFI::AutoPointer) cannot be observed from
  # here; what can: collecting unclosed handles harms neither the process
  # nor the client.
  def test_collecting_handles_nobody_closed_is_harmless
    10.times { @client.login(10001, "demo") }
    GC.start
    assert_equal 10001, @client.login(10001, "demo") { |s| s.uin }
  end

  # Without `blocking: true` the waiting call would hold the GVL: the
  # sender thread could not run, and the wait would time out empty.
  def test_a_blocking_call_lets_other_threads_run
    @client.agent(10002, "demo", poll_interval: 0.1) do |bob|
      assert_equal :online, bob.next_event(timeout: 5).kind
      alice = @client.login(10001, "demo")
      sender = Thread.new { sleep 0.2; alice.send_message(10002, TEXT) }
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      # The first wait may end with Alice's status change; the text follows.
      event = nil
      2.times do
        event = bob.next_event(timeout: 5)
        break if event.nil? || event.message&.kind == :text
      end
      waited = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
      sender.join
      refute_nil event, "no event within 5 s: the sender thread never ran"
      assert_equal :text, event.message.kind
      assert_equal TEXT, event.message.text
      assert_operator waited, :<, 4
      alice.close
    end
  end

  def test_ctrl_c_stops_a_loop_waiting_for_events
    agent = @client.agent(10003, "demo", poll_interval: 1)
    Thread.new { sleep 0.3; Process.kill("INT", Process.pid) }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(Interrupt) { agent.each_event { nil } }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 2
    agent.close
    assert agent.closed?
  end

  # A child that exits while a thread's login and a closed client's
  # session's fetch wait on a paused server (60 s timeouts; the server
  # drops a silent connection after 10 s): Ruby's exit waits for its
  # threads, so without the gem's at_exit shutting them down the exit
  # takes 10 s; with it, well under a second.
  def test_exit_does_not_wait_for_calls_in_flight
    script = <<~RUBY
      require "httpqq"
      $stdout.sync = true
      server = Httpqq::Server.start
      closed = Httpqq::Client.new(server.endpoint, timeout: 60)
      alice = closed.login(10001, "demo")
      closed.close
      client = Httpqq::Client.new(server.endpoint, timeout: 60)
      server.pause
      [-> { alice.messages }, -> { client.login(10002, "demo") }].each do |call|
        Thread.new do
          call.call
          puts "answered"
        end
      end
      sleep 0.3
      puts "exiting"
      exit 0
    RUBY
    lib = File.expand_path("../lib", __dir__)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    out = IO.popen([RbConfig.ruby, "-I", lib, "-e", script], err: %i[child out], &:read)
    took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert $?.success?, out
    assert_includes out, "exiting"
    refute_includes out, "answered"
    assert took < 8, "the exit took #{took.round(1)} s"
  end

  def test_errors_are_the_calling_threads_own
    mismatches = Queue.new
    threads = Array.new(8) do |t|
      Thread.new do
        20.times do
          if t.even?
            begin
              @client.login(99999, "x")
              mismatches << "no error"
            rescue Httpqq::Error => e
              mismatches << e.inspect unless e.is_a?(Httpqq::InvalidUin)
            end
          else
            begin
              Httpqq::Client.new("no such:host:99")
              mismatches << "no error"
            rescue Httpqq::Error => e
              mismatches << e.inspect unless e.is_a?(Httpqq::InvalidConfig)
            end
          end
        end
      end
    end
    threads.each(&:join)
    assert_equal [], Array.new(mismatches.size) { mismatches.pop }, "another thread's error"
  end

  def test_an_agents_events_until_it_stops
    kinds = []
    @client.agent(10002, "demo", poll_interval: 0.1) do |bob|
      @client.login(10001, "demo") do |alice|
        bob.each_event do |event|
          kinds << event.kind
          alice.send_message(10002, TEXT) if event.kind == :online
          if event.kind == :message && event.message.text == TEXT
            bob.send_message(10001, "thanks")
            bob.stop
          end
        end
        assert_equal ["thanks"], texts(alice).map(&:text)
      end
      assert_equal false, bob.next_event
    end
    assert_equal :online, kinds.first
    assert_equal :stopped, kinds.last
    assert_includes kinds, :message
  end

  def delivered?(text)
    # Alice logs in for each look: a restart ends plain sessions.
    @client.login(10001, "demo") { |alice| texts(alice).map(&:text).include?(text) }
  end

  # Waiting threads wait on the agent's pipe, not in C: sixteen idle agents
  # with a thread each in #next_event leave other threads' C calls alone,
  # and the pipe itself works in IO.select.
  def test_waiting_happens_on_the_pipe
    agents = Array.new(16) { |n| @client.agent(10001 + n % 5, "demo", poll_interval: 1) }
    waiters = agents.map do |agent|
      Thread.new do
        Thread.current.report_on_exception = false
        loop { break if agent.next_event(timeout: 0.5) == false }
      rescue IOError => e
        e.message # closed while waiting: the thread ends
      end
    end
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    20.times { @client.login(10001, "demo") { |s| s.friends } }
    assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :<, 5
    agents.each(&:close)
    waiters.each { |t| t.join(5) }
    assert waiters.none?(&:alive?)
    assert(waiters.all? { |t| t.value.nil? || t.value == "httpqq: the agent is closed" }, waiters.map(&:value).inspect)
  end

  # A loop of one's own: IO.select on the agent's io, then next_event with
  # no wait until nil.
  def test_the_agents_io_says_when_to_look
    @client.agent(10003, "demo", poll_interval: 0.1) do |carol|
      assert IO.select([carol.io], nil, nil, 5), "the online event is announced"
      assert_equal :online, carol.next_event(timeout: 0).kind
      assert_nil carol.next_event(timeout: 0)
      assert_nil IO.select([carol.io], nil, nil, 0.3), "nothing waits: the io is quiet"
      @client.login(10001, "demo") { |alice| alice.send_message(10003, "look") }
      assert IO.select([carol.io], nil, nil, 5), "the message is announced"
      events = []
      while (event = carol.next_event(timeout: 0))
        events << event
      end
      assert_includes events.map { |e| e.message&.text }, "look"
    end
  end

  def test_the_test_controls_and_every_option
    Dir.mktmpdir do |dir|
      @client.agent(10002, "demo", poll_interval: 0.1, backoff_initial: 0.1, backoff_max: 0.5, backoff_factor: 2,
                                   backoff_jitter: 0.1, throttle_penalty: 0.3, throttle_retries: 3,
                                   send_pace: [50, 10], relogin: true, stop_timeout: 0.2,
                                   inbox: File.join(dir, "bob.inbox")) do |bob|
        bob.send_message(10001, "early") # right after the start: it waits for the login
        assert delivered?("early")
        @server.stop_listening
        sleep 0.3
        @server.restart
        bob.send_message(10001, "after the restart")
        assert delivered?("after the restart")
        assert @server.expire_session(10002)
        bob.send_message(10001, "after the expiry")
        assert delivered?("after the expiry")
        @server.throttle(10002, 0.5)
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        bob.send_message(10001, "after the throttle")
        assert_operator Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, :>=, 0.3
        assert delivered?("after the throttle")
        assert_operator @server.request_count(10002, command: "CLTMSG", result: 3), :>=, 1
        @server.pause
        resumer = Thread.new { sleep 0.3; @server.resume }
        bob.send_message(10001, "after the pause")
        resumer.join
        assert delivered?("after the pause")
      end
    end
    @server.latency = 0
    @server.drop_sessions(false)
    assert_operator @server.password_checks, :>=, 1
    assert_operator @server.connections_accepted, :>=, 1
    assert @server.change_password(10005, "new")
    # Retries off: a throttled send fails at once, with what happened.
    @client.agent(10004, "demo", throttle_retries: 0, send_pace: false, logout_on_stop: false) do |fast|
      fast.send_message(10001, "hello")
      @server.throttle(10004, 1)
      error = assert_raises(Httpqq::Throttled) { fast.send_message(10001, "too soon") }
      assert_equal :refused, error.outcome
    end
    assert_equal 0, @server.request_count(10004, command: "Logout"), "no logout on stop"
    # Unknown options and settings that make no sense are refused.
    assert_raises(ArgumentError) { @client.agent(10003, "demo", pol_interval: 1) }
    assert_raises(Httpqq::InvalidConfig) { @client.agent(10003, "demo", backoff_factor: 0.5) }
    assert_raises(TypeError) { @client.agent(10003, "demo", send_pace: 5) }
    # A send that finds no login in time: refused as not online.
    Httpqq::Client.open("127.0.0.1:9", timeout: 0.3) do |nowhere|
      nowhere.agent(10002, "demo") do |lost|
        error = assert_raises(Httpqq::NotOnline) { lost.send_message(10001, "nobody home") }
        assert_equal :refused, error.outcome
      end
    end
  end

  def test_an_inbox_loses_nothing_a_stopped_agent_had_not_handled
    Dir.mktmpdir do |dir|
      path = File.join(dir, "carol.inbox")
      @client.login(10001, "demo") { |alice| %w[one two].each { |t| alice.send_message(10003, t) } }
      next_text = lambda do |agent|
        agent.each_event { |e| return e.message.text if e.kind == :message && e.message.kind == :text }
      end
      first = @client.agent(10003, "demo", inbox: path) { |carol| next_text.(carol) }
      second = @client.agent(10003, "demo", inbox: path) { |carol| [next_text.(carol), next_text.(carol)].tap { carol.ack } }
      assert_equal "one", first
      assert_equal %w[one two], second
    end
  end

  def test_tls_with_the_test_servers_certificate_and_without
    Httpqq::Server.start(tls: true) do |server|
      assert_match(%r{\Ahttps://127\.0\.0\.1:\d+\z}, server.tls_endpoint)
      assert_includes server.ca_pem, "BEGIN CERTIFICATE"
      server.client(tls: true, keep_alive: true) do |client|
        client.login(10001, "demo") do |alice|
          client.login(10002, "demo") do |bob|
            alice.send_message(10002, "over TLS")
            assert_equal ["over TLS"], bob.messages.map(&:text)
          end
        end
      end
      Httpqq::Client.open(server.tls_endpoint, timeout: 5) do |untrusted|
        error = assert_raises(Httpqq::TransportError) { untrusted.login(10001, "demo") }
        assert_equal :refused, error.outcome
        assert_match(/unknown issuer/, error.message)
      end
      assert_raises(Httpqq::InvalidConfig) { Httpqq::Client.new(server.endpoint, ca_pem: server.ca_pem) }
    end
    assert_nil @server.tls_endpoint
    assert_raises(ArgumentError) { @server.client(tls: true) }
  end
end
