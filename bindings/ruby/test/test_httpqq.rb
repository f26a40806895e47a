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
end
