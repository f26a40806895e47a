# Two demo accounts chat through a server (`httpqq-server --demo`), then
# the same through a test Server in this process (libhttpqq_testing):
#
#   ruby examples/chat.rb 127.0.0.1:8000
require "httpqq"

def chat(endpoint)
  Httpqq::Client.open(endpoint, timeout: 5) do |client|
    client.login(10001, "demo") do |alice|
      client.login(10002, "demo") do |bob|
        alice.send_message(10002, "你好, Bob")
        bob.messages.each { |m| puts "Bob got from #{m.sender}: #{m.text}" }
      end
    end
  end
end

puts "libhttpqq #{Httpqq::VERSION}"
chat(ARGV.fetch(0, "127.0.0.1:8000"))
Httpqq::Server.start { |server| chat(server.endpoint) }
