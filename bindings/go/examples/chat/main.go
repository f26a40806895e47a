// Command chat: two demo accounts chat through a server, with nothing but
// libhttpqq (the client).
//
//	httpqq-server --demo --listen 127.0.0.1:8000 &
//	go run ./examples/chat 127.0.0.1:8000
package main

import (
	"fmt"
	"log"
	"os"
	"time"

	httpqq "github.com/httpqq/httpqq-go"
)

func main() {
	endpoint := "127.0.0.1:8000"
	if len(os.Args) > 1 {
		endpoint = os.Args[1]
	}
	fmt.Printf("libhttpqq %s, talking to %s\n", httpqq.Version(), endpoint)
	client, err := httpqq.NewClient(endpoint, 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	alice, err := client.Login(10001, "demo")
	if err != nil {
		log.Fatal(err)
	}
	defer alice.Close()
	bob, err := client.Login(10002, "demo")
	if err != nil {
		log.Fatal(err)
	}
	defer bob.Close()
	if err := alice.Send(10002, "你好, Bob"); err != nil {
		log.Fatal(err)
	}
	messages, err := bob.Messages()
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range messages {
		if m.Kind == httpqq.KindText {
			fmt.Printf("Bob got from %d: %s\n", m.Sender, m.Text)
		}
	}
	for _, session := range []*httpqq.Session{alice, bob} {
		if err := session.Logout(); err != nil {
			log.Fatal(err)
		}
	}
}
