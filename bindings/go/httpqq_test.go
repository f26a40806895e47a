package httpqq_test

import (
	"context"
	"errors"
	httpqq "github.com/httpqq/httpqq-go"
	"github.com/httpqq/httpqq-go/httpqqtest"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bindings' common scenario, against the in-process reference server.
const text = "你好 & 1+1=2 %26\nsecond line"

func setUp(t *testing.T) (*httpqqtest.Server, *httpqq.Client) {
	t.Helper()
	server, err := httpqqtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	client, err := httpqq.NewClient(server.Endpoint(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return server, client
}

func texts(t *testing.T, s *httpqq.Session) []string {
	t.Helper()
	messages, err := s.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range messages {
		if m.Kind == httpqq.KindText {
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
	if _, err := alice.Messages(); !errors.Is(err, httpqq.ErrNotLoggedIn) {
		t.Fatalf("after logout: %v", err)
	}
}

func TestAWrongPasswordFailsWithTheServersReason(t *testing.T) {
	_, client := setUp(t)
	_, err := client.Login(10001, "wrong")
	var failure *httpqq.Error
	if !errors.As(err, &failure) || !errors.Is(err, httpqq.ErrLoginFailed) {
		t.Fatalf("got %v", err)
	}
	if failure.Reason != "密码错误" || failure.Outcome != httpqq.Refused || failure.Status.String() != "login failed" {
		t.Fatalf("got %+v", failure)
	}
	if _, err := client.Login(99999, "x"); !errors.Is(err, httpqq.ErrInvalidUin) {
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
					want = httpqq.ErrInvalidUin
				} else {
					// httpqq.Refused before any request: the error is made
					// on this goroutine's thread, between the others'.
					err = alice.Send(10002, "a\x00b")
					want = httpqq.ErrInvalidArgument
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
	if err := alice.Send(10002, "a\x00b"); !errors.Is(err, httpqq.ErrInvalidArgument) {
		t.Fatalf("a NUL: %v", err)
	}
	if err := alice.Send(10002, "x\xff\xfe"); !errors.Is(err, httpqq.ErrInvalidArgument) {
		t.Fatalf("not UTF-8: %v", err)
	}
	alice.Close()
	alice.Close()
	if err := alice.Send(10002, "hi"); err != httpqq.ErrClosed {
		t.Fatalf("closed: %v", err)
	}
	if _, err := httpqq.NewClient("no such:host:99", time.Second); !errors.Is(err, &httpqq.Error{Status: httpqq.StatusInvalidConfig}) {
		t.Fatalf("config: %v", err)
	}
	server.Close()
	if server.Endpoint() != "" {
		t.Fatal("a closed server has no endpoint")
	}
}

func TestAnAgentsEventsWithContextCancellation(t *testing.T) {
	_, client := setUp(t)
	agent, err := client.Agent(10002, "demo", httpqq.WithPollInterval(100*time.Millisecond))
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
	var kinds []httpqq.EventKind
	for {
		event, err := agent.Next(ctx)
		if errors.Is(err, httpqq.ErrFinished) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, event.Kind)
		if event.Kind == httpqq.EventOnline {
			if err := alice.Send(10002, text); err != nil {
				t.Fatal(err)
			}
		}
		if event.Kind == httpqq.EventMessage && event.Message.Text == text {
			if err := agent.Send(ctx, 10001, "thanks"); err != nil {
				t.Fatal(err)
			}
			agent.Stop()
		}
	}
	if kinds[0] != httpqq.EventOnline || kinds[len(kinds)-1] != httpqq.EventStopped {
		t.Fatalf("events %v", kinds)
	}
	// A blocking loop ends with its context.
	idle, err := client.Agent(10003, "demo", httpqq.WithPollInterval(time.Second))
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

func TestEventKindsPrintTheirNames(t *testing.T) {
	if got := httpqq.EventSessionRenewed.String(); got != "session renewed" {
		t.Fatalf("got %q", got)
	}
	if got := httpqq.StatusNotOnline.String(); got != "not online" {
		t.Fatalf("got %q", got)
	}
}

// Idle agents wait in Go's poller, not in C: sixteen of them, each with a
// goroutine in Next, make no OS threads (a wait in C would hold one each).
func TestIdleAgentsHoldNoThreads(t *testing.T) {
	_, client := setUp(t)
	threads := pprof.Lookup("threadcreate")
	before := threads.Count()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for n := 0; n < 16; n++ {
		agent, err := client.Agent(10001+uint64(n%5), "demo", httpqq.WithPollInterval(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer agent.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, err := agent.Next(ctx); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	made := threads.Count() - before
	cancel()
	wg.Wait()
	if made > 6 {
		t.Fatalf("%d OS threads made for 16 idle agents", made)
	}
}

func delivered(t *testing.T, client *httpqq.Client, want string) bool {
	t.Helper()
	// Alice logs in for each look: a restart ends plain sessions.
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	for _, got := range texts(t, alice) {
		if got == want {
			return true
		}
	}
	return false
}

// The test controls rehearse what bots meet; every option reaches the agent.
func TestTheControlsAndEveryOption(t *testing.T) {
	server, client := setUp(t)
	bob, err := client.Agent(10002, "demo",
		httpqq.WithPollInterval(100*time.Millisecond),
		httpqq.WithBackoffInitial(100*time.Millisecond),
		httpqq.WithBackoffMax(500*time.Millisecond),
		httpqq.WithBackoffFactor(2),
		httpqq.WithBackoffJitter(0.1),
		httpqq.WithThrottlePenalty(300*time.Millisecond),
		httpqq.WithThrottleRetries(3),
		httpqq.WithSendPace(50, 10*time.Second),
		httpqq.WithRelogin(true),
		httpqq.WithStopTimeout(200*time.Millisecond),
		httpqq.WithInbox(filepath.Join(t.TempDir(), "bob.inbox")),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	send := func(text string) {
		t.Helper()
		if err := bob.Send(ctx, 10001, text); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if !delivered(t, client, text) {
			t.Fatalf("%q was not delivered", text)
		}
	}
	send("early") // right after the start: it waits for the login
	server.StopListening()
	time.Sleep(300 * time.Millisecond)
	if err := server.Restart(); err != nil {
		t.Fatal(err)
	}
	send("after the restart")
	if !server.ExpireSession(10002) {
		t.Fatal("no session to expire")
	}
	send("after the expiry")
	server.Throttle(10002, 500*time.Millisecond)
	started := time.Now()
	send("after the throttle")
	if took := time.Since(started); took < 300*time.Millisecond {
		t.Fatalf("sent during the penalty, after %v", took)
	}
	if server.RequestCount(10002, "CLTMSG", 3) == 0 {
		t.Fatal("the throttled send is not in the request log")
	}
	server.Pause()
	go func() {
		time.Sleep(300 * time.Millisecond)
		server.Resume()
	}()
	send("after the pause")
	server.SetLatency(0)
	server.DropSessions(false)
	if server.PasswordChecks() == 0 || server.ConnectionsAccepted() == 0 {
		t.Fatal("the counters count nothing")
	}
	if changed, err := server.ChangePassword(10005, "new"); err != nil || !changed {
		t.Fatalf("change password: %v %v", changed, err)
	}
	// Retries off: a throttled send fails at once, with what happened.
	fast, err := client.Agent(10004, "demo", httpqq.WithThrottleRetries(0), httpqq.WithoutSendPace(), httpqq.WithLogoutOnStop(false))
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if err := fast.Send(ctx, 10001, "hello"); err != nil {
		t.Fatal(err)
	}
	server.Throttle(10004, time.Second)
	var failure *httpqq.Error
	if err := fast.Send(ctx, 10001, "too soon"); !errors.As(err, &failure) || failure.Status != httpqq.StatusThrottled || failure.Outcome != httpqq.Refused {
		t.Fatalf("got %v", err)
	}
	fast.Close()
	if n := server.RequestCount(10004, "Logout", httpqqtest.AnyResult); n != 0 {
		t.Fatalf("an agent told not to log out on stop sent %d Logouts", n)
	}
	// Settings that make no sense are refused at the start.
	if _, err := client.Agent(10003, "demo", httpqq.WithBackoffFactor(0.5)); !errors.Is(err, httpqq.ErrInvalidConfig) {
		t.Fatalf("got %v", err)
	}
	// A send that finds no login in time: refused as not online.
	nowhere, err := httpqq.NewClient("127.0.0.1:9", 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer nowhere.Close()
	lost, err := nowhere.Agent(10002, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer lost.Close()
	if err := lost.Send(ctx, 10001, "nobody home"); !errors.Is(err, httpqq.ErrNotOnline) {
		t.Fatalf("got %v", err)
	}
}

// An inbox: what an agent fetched and nobody handled comes first from the
// next agent on the file.
func TestAnInboxLosesNothing(t *testing.T) {
	_, client := setUp(t)
	alice, err := client.Login(10001, "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	for _, text := range []string{"one", "two"} {
		if err := alice.Send(10003, text); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "carol.inbox")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nextText := func(agent *httpqq.Agent) string {
		for {
			event, err := agent.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if event.Kind == httpqq.EventMessage && event.Message.Kind == httpqq.KindText {
				return event.Message.Text
			}
		}
	}
	first, err := client.Agent(10003, "demo", httpqq.WithInbox(path))
	if err != nil {
		t.Fatal(err)
	}
	if got := nextText(first); got != "one" {
		t.Fatalf("got %q", got)
	}
	first.Close() // "one" in hand, "two" not taken
	second, err := client.Agent(10003, "demo", httpqq.WithInbox(path))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if a, b := nextText(second), nextText(second); a != "one" || b != "two" {
		t.Fatalf("got %q, %q", a, b)
	}
	second.Ack()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

// TLS: the test server's own certificate trusted; untrusted, a TLS error
// with nothing sent; settings that cannot work refused.
func TestTLS(t *testing.T) {
	server, err := httpqqtest.StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if !strings.HasPrefix(server.TLSEndpoint(), "https://127.0.0.1:") || !strings.Contains(server.CAPEM(), "BEGIN CERTIFICATE") {
		t.Fatalf("endpoint %q, pem %q", server.TLSEndpoint(), server.CAPEM())
	}
	client, err := httpqq.NewClient(server.TLSEndpoint(), 5*time.Second, httpqq.WithCAPEM(server.CAPEM()), httpqq.WithKeepAlive(true))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
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
	if err := alice.Send(10002, "over TLS"); err != nil {
		t.Fatal(err)
	}
	got, err := bob.Messages()
	if err != nil || len(got) != 1 || got[0].Text != "over TLS" {
		t.Fatalf("got %v %v", got, err)
	}
	untrusted, err := httpqq.NewClient(server.TLSEndpoint(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer untrusted.Close()
	var failure *httpqq.Error
	if _, err := untrusted.Login(10001, "demo"); !errors.As(err, &failure) || failure.Status != httpqq.StatusTransport ||
		failure.Outcome != httpqq.Refused || !strings.Contains(failure.Message, "unknown issuer") {
		t.Fatalf("got %v", err)
	}
	if _, err := httpqq.NewClient(server.Endpoint(), time.Second, httpqq.WithCAPEM(server.CAPEM())); !errors.Is(err, httpqq.ErrInvalidConfig) {
		t.Fatalf("a CA without TLS: got %v", err)
	}
	if _, err := httpqq.NewClient(server.Endpoint(), time.Second, httpqq.WithTLS(true), httpqq.WithCAFile("/nonexistent/ca.pem")); !errors.Is(err, httpqq.ErrInvalidConfig) {
		t.Fatalf("a missing CA file: got %v", err)
	}
	plain, err := httpqqtest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if plain.TLSEndpoint() != "" || plain.CAPEM() != "" {
		t.Fatal("a plain server has a TLS listener")
	}
}
