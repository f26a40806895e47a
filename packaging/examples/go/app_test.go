package main

// A user's test with the module's test server (httpqqtest): built by
// packaging/check.sh in a fresh module that took httpqq-go from the proxy
// folder of make dist.

import (
	"testing"
	"time"

	httpqq "github.com/httpqq/httpqq-go"
	"github.com/httpqq/httpqq-go/httpqqtest"
)

func TestAChatThroughTheTestServer(t *testing.T) {
	server, err := httpqqtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	client, err := httpqq.NewClient(server.Endpoint(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := client.Login(10002, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Send(10002, "你好, Bob"); err != nil {
		t.Fatal(err)
	}
	messages, err := bob.Messages()
	if err != nil || len(messages) == 0 || messages[len(messages)-1].Text != "你好, Bob" {
		t.Fatalf("Bob got %v (%v)", messages, err)
	}
}
