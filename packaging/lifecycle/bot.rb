# A bot on the installed httpqq gem, run by check.py to one of three ends:
# `stop`, `sigint` (Ctrl-C while waiting for an event) or `exit` (with a
# thread inside a login to ENDPOINT, check.py's listener that never answers).
#
#   ruby bot.rb stop|sigint|exit [ENDPOINT]
require "httpqq"

def online(agent)
  loop do
    event = agent.next_event(timeout: 10) or abort("no event within 10 s")
    return if event.kind == :online
  end
end

$stdout.sync = true
case ARGV.fetch(0)
when "exit"
  client = Httpqq::Client.new(ARGV.fetch(1), timeout: 60)
  Thread.new do
    client.login(10001, "demo")
    puts "returned" # (an ensure would run as exit ends the thread)
  end
  sleep 0.3
  puts "ready #{Process.pid}"
  exit 0
when "stop"
  Httpqq::Server.start do |server|
    Httpqq::Client.open(server.endpoint) do |client|
      client.agent(10001, "demo") do |agent|
        online(agent)
        agent.stop
        last = agent.each_event.to_a.last
        puts last&.kind == :stopped ? "stopped" : "last: #{last.inspect}"
      end
    end
  end
when "sigint"
  Httpqq::Server.start do |server|
    Httpqq::Client.open(server.endpoint) do |client|
      client.agent(10001, "demo") do |agent|
        online(agent)
        puts "ready #{Process.pid}"
        begin
          agent.each_event { nil }
        rescue Interrupt
          puts "interrupted"
          exit 130
        end
      end
    end
  end
end
