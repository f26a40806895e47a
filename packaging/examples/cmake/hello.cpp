// The C++ binding through CMake's httpqq::testing: a test server in the
// process, a chat through it.
#include <httpqq_testing.hpp>

#include <iostream>

int main() {
  httpqq::server server = httpqq::server::start();
  httpqq::client client(server.endpoint());
  httpqq::session alice = client.login(10001, "demo");
  httpqq::session bob = client.login(10002, "demo");
  alice.send(10002, "你好, Bob");
  for (const httpqq::message &m : bob.messages()) {
    if (m.kind == httpqq::message_kind::text && m.text == "你好, Bob") {
      std::cout << "hello_cpp: ok\n";
      return 0;
    }
  }
  std::cerr << "hello_cpp: Bob did not get the message\n";
  return 1;
}
