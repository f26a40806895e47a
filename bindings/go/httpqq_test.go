package httpqq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// The bindings' common scenario, against the in-process reference server.
const text = "你好 & 1+1=2 %26\nsecond line"

func setUp(t *testing.T) (*Server, *Client) {
	t.Helper()
	server, err := StartServer()
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(server.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

func texts(t *testing.T, s *Session) []string {
	t.Helper()
	messages, err := s.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range messages {
		if m.Kind == KindText {
			out = append(out, m.Text)
		}
	}
	return out
}

func TestAChatIsByteExactBothWays(t *testing.T) {
	_, client := setUp(t)
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	bob, err := client.Login(10002, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if err := alice.Send(10002, text); err != nil {
		t.Fatal(err)
	}
	got := texts(t, bob)
	if len(got) != 1 || got[0] != text {
		t.Fatalf("Bob got %q", got)
	}
	if err := bob.Send(10001, got[0]); err != nil {
		t.Fatal(err)
	}
	if back := texts(t, alice); len(back) != 1 || back[0] != text {
		t.Fatalf("Alice got %q", back)
	}
	if err := alice.Logout(); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Messages(); !errors.Is(err, ErrNotLoggedIn) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestAWrongPasswordFailsWithTheServersReason(t *testing.T) {
	_, client := setUp(t)
	_, err := client.Login(10001, "wrong")
	var failure *Error
	if !errors.As(err, &failure) || !errors.Is(err, ErrLoginFailed) {
		t.Fatalf("got %v", err)
	}
	if failure.Reason != "密码错误" || failure.Outcome != Refused || failure.Status.String() != "login failed" {
		t.Fatalf("got %+v", failure)
	}
	if _, err := client.Login(99999, "x"); !errors.Is(err, ErrInvalidUin) {
		t.Fatalf("got %v", err)
	}
}

// Errors are the call's own, whatever OS thread the goroutine ran on.
func TestErrorsDoNotDependOnTheThread(t *testing.T) {
	_, client := setUp(t)
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	var wg sync.WaitGroup
	mismatches := make(chan string, 1000)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				var err error
				var want error
				if g%2 == 0 {
					_, err = client.Login(99999, "x")
					want = ErrInvalidUin
				} else {
					// Refused before any request: the error is made
					// on this goroutine's thread, between the others'.
					err = alice.Send(10002, "a\x00b")
					want = ErrInvalidArgument
				}
				if !errors.Is(err, want) {
					mismatches <- err.Error()
				}
			}
		}(g)
	}
	wg.Wait()
	close(mismatches)
	for m := range mismatches {
		t.Errorf("a goroutine read another's error: %s", m)
	}
}

func TestMisuseIsAnErrorNotACrash(t *testing.T) {
	server, client := setUp(t)
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Send(10002, "a\x00b"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a NUL: %v", err)
	}
	if err := alice.Send(10002, "x\xff\xfe"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("not UTF-8: %v", err)
	}
	alice.Close()
	alice.Close()
	if err := alice.Send(10002, "hi"); err != ErrClosed {
		t.Fatalf("closed: %v", err)
	}
	if _, err := NewClient("no such:host:99", time.Second); !errors.Is(err, &Error{Status: StatusInvalidConfig}) {
		t.Fatalf("config: %v", err)
	}
	server.Close()
	if server.Endpoint() != "" {
		t.Fatal("a closed server has no endpoint")
	}
}

func TestAnAgentsEventsWithContextCancellation(t *testing.T) {
	_, client := setUp(t)
	agent, err := client.Agent(10002, "demo", 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var kinds []EventKind
	for {
		event, err := agent.Next(ctx)
		if errors.Is(err, ErrFinished) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, event.Kind)
		if event.Kind == EventOnline {
			if err := alice.Send(10002, text); err != nil {
				t.Fatal(err)
			}
		}
		if event.Kind == EventMessage && event.Message.Text == text {
			if err := agent.Send(10001, "thanks"); err != nil {
				t.Fatal(err)
			}
			agent.Stop()
		}
	}
	if kinds[0] != EventOnline || kinds[len(kinds)-1] != EventStopped {
		t.Fatalf("events %v", kinds)
	}
	// A blocking loop ends with its context.
	idle, err := client.Agent(10003, "demo", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	short, cancelShort := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelShort()
	started := time.Now()
	for {
		if _, err := idle.Next(short); err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			break
		}
	}
	if took := time.Since(started); took > time.Second {
		t.Fatalf("cancellation took %v", took)
	}
}
