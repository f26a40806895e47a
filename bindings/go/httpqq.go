// Package httpqq is HTTP QQ 1.1 for Go, over libhttpqq (cgo): a client and
// an agent for bots that stay up. The in-process reference server, for
// tests, is package httpqqtest (over libhttpqq_testing).
//
// Every call that can fail returns an *Error; each call passes libhttpqq an
// error object of its own, so errors never depend on which OS thread a
// goroutine ran on (no runtime.LockOSThread is needed). Handles are freed
// by Close, or by the garbage collector if nobody closes them.
//
// Linking: pkg-config finds libhttpqq (PKG_CONFIG_PATH=PREFIX/lib/pkgconfig);
// its httpqq.pc carries an rpath, so nothing more is needed to run. Build
// with -tags httpqq_static to link libhttpqq.a instead.
package httpqq

/*
#include <stdlib.h>
#include <httpqq.h>
*/
import "C"

import (
	"context"
	"errors"
	"github.com/httpqq/httpqq-go/internal/handle"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Status is an httpqq_status: what a call gave.
type Status int32

// The statuses.
const (
	StatusOK              Status = C.HTTPQQ_STATUS_OK
	StatusNoReply         Status = C.HTTPQQ_STATUS_NO_REPLY
	StatusNotLoggedIn     Status = C.HTTPQQ_STATUS_NOT_LOGGED_IN
	StatusThrottled       Status = C.HTTPQQ_STATUS_THROTTLED
	StatusInvalidUin      Status = C.HTTPQQ_STATUS_INVALID_UIN
	StatusLoginFailed     Status = C.HTTPQQ_STATUS_LOGIN_FAILED
	StatusProtocol        Status = C.HTTPQQ_STATUS_PROTOCOL
	StatusTransport       Status = C.HTTPQQ_STATUS_TRANSPORT
	StatusTimeout         Status = C.HTTPQQ_STATUS_TIMEOUT
	StatusInvalidConfig   Status = C.HTTPQQ_STATUS_INVALID_CONFIG
	StatusInvalidArgument Status = C.HTTPQQ_STATUS_INVALID_ARGUMENT
	StatusServer          Status = C.HTTPQQ_STATUS_SERVER
	StatusInternal        Status = C.HTTPQQ_STATUS_INTERNAL
	StatusStopped         Status = C.HTTPQQ_STATUS_STOPPED
	StatusCancelled       Status = C.HTTPQQ_STATUS_CANCELLED
	StatusNotOnline       Status = C.HTTPQQ_STATUS_NOT_ONLINE
	StatusTooLarge        Status = C.HTTPQQ_STATUS_TOO_LARGE
)

// String is the status's short English name ("login failed", …).
func (s Status) String() string { return C.GoString(C.httpqq_status_name(C.int32_t(s))) }

// Outcome says what became of a request that failed.
type Outcome uint32

// The outcomes.
const (
	Accepted Outcome = C.HTTPQQ_OUTCOME_ACCEPTED
	// Refused: certainly not carried out.
	Refused Outcome = C.HTTPQQ_OUTCOME_REFUSED
	// Unknown: sent, but no reply came; it may have been carried out
	// (nothing is ever resent by itself).
	Unknown Outcome = C.HTTPQQ_OUTCOME_UNKNOWN
)

// Error is a failure of libhttpqq.
type Error struct {
	Status  Status
	Message string
	// Reason is the server's own, when it gave one (a refused login's:
	// "密码错误").
	Reason     string
	Outcome    Outcome
	RetryAfter time.Duration
}

func (e *Error) Error() string { return "httpqq: " + e.Message }

// Is matches an error of the same status: errors.Is(err, httpqq.ErrLoginFailed).
func (e *Error) Is(target error) bool {
	var other *Error
	return errors.As(target, &other) && other.Status == e.Status
}

// Sentinels for errors.Is, one per status.
var (
	ErrNoReply         = &Error{Status: StatusNoReply}
	ErrNotLoggedIn     = &Error{Status: StatusNotLoggedIn}
	ErrThrottled       = &Error{Status: StatusThrottled}
	ErrInvalidUin      = &Error{Status: StatusInvalidUin}
	ErrLoginFailed     = &Error{Status: StatusLoginFailed}
	ErrTransport       = &Error{Status: StatusTransport}
	ErrTimeout         = &Error{Status: StatusTimeout}
	ErrInvalidArgument = &Error{Status: StatusInvalidArgument}
	ErrStopped         = &Error{Status: StatusStopped}
	ErrCancelled       = &Error{Status: StatusCancelled}
	ErrNotOnline       = &Error{Status: StatusNotOnline}
	ErrTooLarge        = &Error{Status: StatusTooLarge}
	ErrInvalidConfig   = &Error{Status: StatusInvalidConfig}
)

// ErrClosed is what a closed handle gives.
var ErrClosed = handle.ErrClosed

// CallWithError runs do with a libhttpqq error object of its own (an
// *httpqq_error, as an unsafe.Pointer) and gives the *Error for the
// status do returns (nil for HTTPQQ_STATUS_OK). It is how package
// httpqqtest, over libhttpqq_testing (which reports into libhttpqq's error
// objects), gives this package's errors; applications have no need of it.
func CallWithError(do func(errorObject unsafe.Pointer) int32) error {
	return call(func(e *C.httpqq_error) C.int32_t { return C.int32_t(do(unsafe.Pointer(e))) })
}

// call runs a fallible C call with an error object of its own.
func call(do func(err *C.httpqq_error) C.int32_t) error {
	e := C.httpqq_error_new()
	defer C.httpqq_error_free(e)
	if do(e) == C.HTTPQQ_STATUS_OK {
		return nil
	}
	failure := &Error{
		Status:     Status(C.httpqq_error_status(e)),
		Message:    C.GoString(C.httpqq_error_message(e)),
		Outcome:    Outcome(C.httpqq_error_outcome(e)),
		RetryAfter: time.Duration(C.httpqq_error_retry_after_ms(e)) * time.Millisecond,
	}
	if reason := C.httpqq_error_reason(e); reason != nil {
		failure.Reason = C.GoString(reason)
	}
	return failure
}

// cString is a C copy of s; text with a NUL cannot reach C whole.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Status: StatusInvalidArgument, Message: what + " holds a NUL byte", Outcome: Refused}
	}
	return C.CString(s), nil
}

// Message is an incoming message.
type Message struct {
	// Kind is the MT code: 9 text, 99 a status change, 2/3/4 verification.
	Kind   uint32
	Sender uint64
	// Text is the text (or reason, or a status code as text), as sent.
	Text string
}

// KindText is the kind of a text message.
const KindText = uint32(C.HTTPQQ_MESSAGE_KIND_TEXT)

func messageOf(m *C.httpqq_message) Message {
	var length C.size_t
	text := C.httpqq_message_text(m, &length)
	return Message{
		Kind:   uint32(C.httpqq_message_get_kind(m)),
		Sender: uint64(C.httpqq_message_sender(m)),
		Text:   C.GoStringN(text, C.int(length)),
	}
}

func millis(d time.Duration) C.uint64_t {
	if d < 0 {
		return 0
	}
	return C.uint64_t(d.Milliseconds())
}

// Client is a client of one server.
type Client struct{ h handle.Handle }

// A ClientOption is one setting of a client (WithTLS, WithCAFile, …).
type ClientOption struct {
	text  string
	apply func(*C.httpqq_client_builder, *C.char, *C.httpqq_error) C.int32_t
}

// WithKeepAlive reuses connections between requests.
func WithKeepAlive(on bool) ClientOption {
	return ClientOption{apply: func(b *C.httpqq_client_builder, _ *C.char, e *C.httpqq_error) C.int32_t {
		return C.httpqq_client_builder_set_keep_alive(b, C.bool(on), e)
	}}
}

// WithTLS speaks TLS (default: only for an https:// endpoint), verified
// against Mozilla's roots unless WithCAFile or WithCAPEM name the authority.
func WithTLS(on bool) ClientOption {
	return ClientOption{apply: func(b *C.httpqq_client_builder, _ *C.char, e *C.httpqq_error) C.int32_t {
		return C.httpqq_client_builder_set_tls(b, C.bool(on), e)
	}}
}

// WithCAFile trusts the certificate authorities in this PEM file.
func WithCAFile(path string) ClientOption {
	return ClientOption{text: path, apply: func(b *C.httpqq_client_builder, t *C.char, e *C.httpqq_error) C.int32_t {
		return C.httpqq_client_builder_set_ca_file(b, t, e)
	}}
}

// WithCAPEM trusts the certificate authorities in this PEM text.
func WithCAPEM(pem string) ClientOption {
	return ClientOption{text: pem, apply: func(b *C.httpqq_client_builder, t *C.char, e *C.httpqq_error) C.int32_t {
		return C.httpqq_client_builder_set_ca_pem(b, t, e)
	}}
}

// NewClient makes a client of endpoint ("host:port", or
// "https://host:port" for TLS) whose requests give up after timeout.
func NewClient(endpoint string, timeout time.Duration, options ...ClientOption) (*Client, error) {
	cEndpoint, err := cString(endpoint, "endpoint")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cEndpoint))
	texts := make([]*C.char, len(options))
	for i, option := range options {
		if texts[i], err = cString(option.text, "option"); err != nil {
			for _, t := range texts[:i] {
				C.free(unsafe.Pointer(t))
			}
			return nil, err
		}
	}
	defer func() {
		for _, t := range texts {
			C.free(unsafe.Pointer(t))
		}
	}()
	builder := C.httpqq_client_builder_new()
	defer C.httpqq_client_builder_free(builder)
	var out *C.httpqq_client
	err = call(func(e *C.httpqq_error) C.int32_t {
		if status := C.httpqq_client_builder_set_endpoint(builder, cEndpoint, e); status != 0 {
			return status
		}
		if status := C.httpqq_client_builder_set_timeout_ms(builder, C.uint64_t(timeout.Milliseconds()), e); status != 0 {
			return status
		}
		for i, option := range options {
			if status := option.apply(builder, texts[i], e); status != 0 {
				return status
			}
		}
		return C.httpqq_client_builder_build(builder, &out, e)
	})
	if err != nil {
		return nil, err
	}
	c := &Client{h: handle.New(unsafe.Pointer(out))}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees it.
func (c *Client) Close() {
	c.h.Close(func(p unsafe.Pointer) { C.httpqq_client_free((*C.httpqq_client)(p)) })
}

// Session is a logged-in account.
type Session struct {
	h   handle.Handle
	Uin uint64
}

// Login logs in; a wrong password is an *Error with Status
// StatusLoginFailed and the server's Reason.
func (c *Client) Login(uin uint64, password string) (*Session, error) {
	cPassword, err := cString(password, "password")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cPassword))
	var out *C.httpqq_session
	err = c.h.Use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_client_login((*C.httpqq_client)(p), C.uint64_t(uin), cPassword, &out, e)
		})
	})
	if err != nil {
		return nil, err
	}
	s := &Session{h: handle.New(unsafe.Pointer(out)), Uin: uin}
	runtime.SetFinalizer(s, (*Session).Close)
	return s, nil
}

// Send sends a text message.
func (s *Session) Send(to uint64, text string) error {
	cText, err := cString(text, "text")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cText))
	return s.h.Use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_session_send_message((*C.httpqq_session)(p), C.uint64_t(to), cText, e)
		})
	})
}

// Messages fetches the pending messages, oldest first.
func (s *Session) Messages() ([]Message, error) {
	var messages []Message
	err := s.h.Use(func(p unsafe.Pointer) error {
		var list *C.httpqq_message_list
		err := call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_session_fetch_messages((*C.httpqq_session)(p), &list, e)
		})
		if err != nil {
			return err
		}
		defer C.httpqq_message_list_free(list)
		for n := C.size_t(0); n < C.httpqq_message_list_len(list); n++ {
			messages = append(messages, messageOf(C.httpqq_message_list_get(list, n)))
		}
		return nil
	})
	return messages, err
}

// Logout logs out (Close still frees the handle).
func (s *Session) Logout() error {
	return s.h.Use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t { return C.httpqq_session_logout((*C.httpqq_session)(p), e) })
	})
}

// Close frees it.
func (s *Session) Close() {
	s.h.Close(func(p unsafe.Pointer) { C.httpqq_session_free((*C.httpqq_session)(p)) })
}

// EventKind is what an agent's event reports.
type EventKind uint32

// The event kinds.
const (
	EventOnline         EventKind = C.HTTPQQ_EVENT_KIND_ONLINE
	EventReconnecting   EventKind = C.HTTPQQ_EVENT_KIND_RECONNECTING
	EventThrottled      EventKind = C.HTTPQQ_EVENT_KIND_THROTTLED
	EventSessionRenewed EventKind = C.HTTPQQ_EVENT_KIND_SESSION_RENEWED
	EventMessage        EventKind = C.HTTPQQ_EVENT_KIND_MESSAGE
	EventStopped        EventKind = C.HTTPQQ_EVENT_KIND_STOPPED
)

// String is the kind's name: "online", "reconnecting", "throttled",
// "session renewed", "message", "stopped".
func (k EventKind) String() string {
	switch k {
	case EventOnline:
		return "online"
	case EventReconnecting:
		return "reconnecting"
	case EventThrottled:
		return "throttled"
	case EventSessionRenewed:
		return "session renewed"
	case EventMessage:
		return "message"
	case EventStopped:
		return "stopped"
	}
	return "other"
}

// Event is one thing an agent reports.
type Event struct {
	Kind    EventKind
	Uin     uint64
	Message *Message
	// Attempt counts failures in a row (reconnecting).
	Attempt uint32
	// Delay is the backoff (reconnecting) or the penalty (throttled).
	Delay time.Duration
	// Err is what failed (reconnecting) or why it stopped (nil if asked to).
	Err *Error
}

// AgentOption is a setting of an agent (Client.Agent); what is left out is
// the library's default (see bindings/README.md).
type AgentOption struct {
	set func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t
}

// WithPollInterval: how often to poll while no messages come (at least
// 100 ms).
func WithPollInterval(d time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_poll_interval_ms(o, millis(d), e)
	}}
}

// WithBackoffInitial: how long the first retry after a failure waits.
func WithBackoffInitial(d time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_backoff_initial_ms(o, millis(d), e)
	}}
}

// WithBackoffMax: the longest a retry waits.
func WithBackoffMax(d time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_backoff_max_ms(o, millis(d), e)
	}}
}

// WithBackoffFactor: how much longer each retry in a row waits (at least 1).
func WithBackoffFactor(factor float64) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_backoff_factor(o, C.double(factor), e)
	}}
}

// WithBackoffJitter: the fraction (0 to 1) a retry's delay moves at random.
func WithBackoffJitter(jitter float64) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_backoff_jitter(o, C.double(jitter), e)
	}}
}

// WithThrottlePenalty: how long to send nothing after RES=3 (default: the
// server's penalty).
func WithThrottlePenalty(d time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_throttle_penalty_ms(o, millis(d), e)
	}}
}

// WithThrottleRetries: how often a send refused for a penalty is sent again
// after it (0: it fails at once with ErrThrottled).
func WithThrottleRetries(n uint32) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_throttle_retries(o, C.uint32_t(n), e)
	}}
}

// WithSendPace: at most count sends in any window (a send waits its turn).
func WithSendPace(count uint32, window time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_send_pace(o, C.uint32_t(count), millis(window), e)
	}}
}

// WithoutSendPace: sends go as fast as the program sends.
func WithoutSendPace() AgentOption { return WithSendPace(0, 0) }

// WithRelogin: log in again after RES=20 (on by default).
func WithRelogin(on bool) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_relogin(o, C.bool(on), e)
	}}
}

// WithLogoutOnStop: log out when the agent stops (on by default).
func WithLogoutOnStop(on bool) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_logout_on_stop(o, C.bool(on), e)
	}}
}

// WithStopTimeout: how long a stop takes at most.
func WithStopTimeout(d time.Duration) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		return C.httpqq_agent_options_set_stop_timeout_ms(o, millis(d), e)
	}}
}

// WithInbox keeps every fetched message in the SQLite file at path until it
// was handled (the next Next, or Ack): a crash or a kill loses none, and
// the next agent on the file hands out what was left first.
func WithInbox(path string) AgentOption {
	return AgentOption{func(o *C.httpqq_agent_options, e *C.httpqq_error) C.int32_t {
		cPath := C.CString(path)
		defer C.free(unsafe.Pointer(cPath))
		return C.httpqq_agent_options_set_inbox(o, cPath, e)
	}}
}

// Agent is a logged-in account that stays up: it polls, rides out failures
// with backoff, waits out penalties, logs in again, and reports it all as
// events (Next). Waiting holds no goroutine in C: the agent announces its
// events on a pipe that Go's poller watches.
type Agent struct{ *agentState }

// agentState is what the pump shares with the Agent: the Agent itself can
// be collected (its finalizer closes the state, which ends the pump).
type agentState struct {
	h handle.Handle
	// The pipe the library announces events and send results on.
	readEnd, writeEnd *os.File
	ready             chan struct{}
	mu                sync.Mutex
	waiting           map[uint64]chan error
	early             map[uint64]error
	abandoned         map[uint64]bool
	pumped            chan struct{}
	closing           sync.Once
}

// Agent starts an agent for uin. A Send right after it waits for the login.
func (c *Client) Agent(uin uint64, password string, options ...AgentOption) (*Agent, error) {
	cPassword, err := cString(password, "password")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cPassword))
	readEnd, writeEnd, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	settings := C.httpqq_agent_options_new()
	defer C.httpqq_agent_options_free(settings)
	var out *C.httpqq_agent
	err = c.h.Use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			for _, option := range options {
				if status := option.set(settings, e); status != 0 {
					return status
				}
			}
			if status := C.httpqq_agent_options_set_event_fd(settings, C.int32_t(writeEnd.Fd()), e); status != 0 {
				return status
			}
			return C.httpqq_agent_start((*C.httpqq_client)(p), C.uint64_t(uin), cPassword, settings, &out, e)
		})
	})
	if err != nil {
		readEnd.Close()
		writeEnd.Close()
		return nil, err
	}
	a := &Agent{&agentState{
		h:         handle.New(unsafe.Pointer(out)),
		readEnd:   readEnd,
		writeEnd:  writeEnd,
		ready:     make(chan struct{}, 1),
		waiting:   map[uint64]chan error{},
		early:     map[uint64]error{},
		abandoned: map[uint64]bool{},
		pumped:    make(chan struct{}),
	}}
	go a.agentState.pump()
	runtime.SetFinalizer(a, (*Agent).Close)
	return a, nil
}

// pump waits on the pipe (parked in Go's poller, not in C), hands the
// results of started sends to their Send calls, and wakes Next.
func (a *agentState) pump() {
	defer close(a.pumped)
	buf := make([]byte, 512)
	for {
		if _, err := a.readEnd.Read(buf); err != nil {
			return
		}
		a.takeResults()
		select {
		case a.ready <- struct{}{}:
		default:
		}
	}
}

func (a *agentState) takeResults() {
	_ = a.h.Use(func(p unsafe.Pointer) error {
		for {
			var sent *C.httpqq_sent
			if call(func(e *C.httpqq_error) C.int32_t {
				return C.httpqq_agent_take_sent((*C.httpqq_agent)(p), &sent, e)
			}) != nil || sent == nil {
				return nil
			}
			id := uint64(C.httpqq_sent_id(sent))
			var result error
			if status := Status(C.httpqq_sent_status(sent)); status != StatusOK {
				result = &Error{
					Status:     status,
					Message:    C.GoString(C.httpqq_sent_error_message(sent)),
					Outcome:    Outcome(C.httpqq_sent_outcome(sent)),
					RetryAfter: time.Duration(C.httpqq_sent_retry_after_ms(sent)) * time.Millisecond,
				}
			}
			C.httpqq_sent_free(sent)
			a.mu.Lock()
			if waiter, ok := a.waiting[id]; ok {
				delete(a.waiting, id)
				waiter <- result
			} else if a.abandoned[id] {
				delete(a.abandoned, id)
			} else {
				a.early[id] = result
			}
			a.mu.Unlock()
		}
	})
}

// ErrFinished is what Next gives once the last event (EventStopped) was
// taken.
var ErrFinished = errors.New("httpqq: the agent has stopped and its last event was taken")

// Next waits for the agent's next event until ctx is done: ctx.Err() then,
// ErrFinished after the last. Taking an event says the message taken
// before was handled (see WithInbox).
func (a *Agent) Next(ctx context.Context) (Event, error) {
	for {
		event, got, err := a.take()
		if got || err != nil {
			if got {
				// Another Next may be waiting for what is left.
				select {
				case a.ready <- struct{}{}:
				default:
				}
			}
			return event, err
		}
		select {
		case <-a.ready:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// take takes the next event without waiting.
func (a *Agent) take() (event Event, got bool, err error) {
	err = a.h.Use(func(p unsafe.Pointer) error {
		var out *C.httpqq_event
		err := call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_agent_next_event((*C.httpqq_agent)(p), 0, &out, e)
		})
		if err != nil || out == nil {
			return err
		}
		defer C.httpqq_event_free(out)
		got = true
		event = Event{
			Kind:    EventKind(C.httpqq_event_get_kind(out)),
			Uin:     uint64(C.httpqq_event_uin(out)),
			Attempt: uint32(C.httpqq_event_attempt(out)),
			Delay:   time.Duration(C.httpqq_event_delay_ms(out)) * time.Millisecond,
		}
		if m := C.httpqq_event_message(out); m != nil {
			message := messageOf(m)
			event.Message = &message
		}
		if status := Status(C.httpqq_event_error_status(out)); status != StatusOK {
			event.Err = &Error{
				Status:  status,
				Message: C.GoString(C.httpqq_event_error_message(out)),
				Outcome: Outcome(C.httpqq_event_outcome(out)),
			}
			if reason := C.httpqq_event_reason(out); reason != nil {
				event.Err.Reason = C.GoString(reason)
			}
		}
		return nil
	})
	if errors.Is(err, ErrStopped) {
		return Event{}, false, ErrFinished
	}
	return event, got, err
}

// Ack says the message taken last was handled (with an inbox it is
// forgotten; the next Next does this too).
func (a *Agent) Ack() {
	_ = a.h.Use(func(p unsafe.Pointer) error {
		C.httpqq_agent_ack((*C.httpqq_agent)(p))
		return nil
	})
}

// Send sends a text message and waits for the server's answer until ctx is
// done: paced, waiting out a penalty or the login. A failure's Outcome says
// Refused or Unknown (sent, no reply); never resent by itself. If ctx ends
// first, Send returns ctx.Err() and the send goes on (its result is
// dropped). No goroutine waits in C meanwhile.
func (a *Agent) Send(ctx context.Context, to uint64, text string) error {
	cText, err := cString(text, "text")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cText))
	var id uint64
	err = a.h.Use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			var out C.uint64_t
			status := C.httpqq_agent_start_send((*C.httpqq_agent)(p), C.uint64_t(to), cText, &out, e)
			id = uint64(out)
			return status
		})
	})
	if err != nil {
		return err
	}
	result := make(chan error, 1)
	a.mu.Lock()
	if early, ok := a.early[id]; ok {
		delete(a.early, id)
		result <- early
	} else {
		a.waiting[id] = result
	}
	a.mu.Unlock()
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		a.mu.Lock()
		if _, still := a.waiting[id]; still {
			delete(a.waiting, id)
			a.abandoned[id] = true
		}
		a.mu.Unlock()
		return ctx.Err()
	}
}

// Stop stops it; returns at once (its events end with EventStopped).
func (a *Agent) Stop() {
	_ = a.h.Use(func(p unsafe.Pointer) error {
		C.httpqq_agent_stop((*C.httpqq_agent)(p))
		return nil
	})
}

// Close stops it, waits until it finished (it logs out), and frees it.
func (a *Agent) Close() { a.agentState.close() }

func (a *agentState) close() {
	a.h.Close(func(p unsafe.Pointer) { C.httpqq_agent_free((*C.httpqq_agent)(p)) })
	// The library writes no more: the pipe can go, and the pump with it
	// (outside the handle's lock, which the pump may be waiting for).
	a.closing.Do(func() {
		a.writeEnd.Close()
		a.readEnd.Close()
		<-a.pumped
	})
}

// Version is libhttpqq's version.
func Version() string { return C.GoString(C.httpqq_version()) }
