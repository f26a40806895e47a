// Package httpqq is HTTP QQ 1.1 for Go, over libhttpqq (cgo): a client, an
// agent for bots that stay up, and the in-process reference server.
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
	"fmt"
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
)

// ErrClosed is what a closed handle gives.
var ErrClosed = errors.New("httpqq: the handle is closed")

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

// handle guards a C pointer: Close frees it once, never while a call uses
// it; the finalizer frees what nobody closed.
type handle struct {
	mu  sync.RWMutex
	ptr unsafe.Pointer
}

func (h *handle) use(do func(ptr unsafe.Pointer) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return ErrClosed
	}
	return do(h.ptr)
}

func (h *handle) close(free func(unsafe.Pointer)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ptr != nil {
		free(h.ptr)
		h.ptr = nil
	}
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

// Server is the reference server, in this process (for tests).
type Server struct{ h handle }

// StartServer starts it on a free loopback port with the demo accounts
// (10001-10005, password "demo").
func StartServer() (*Server, error) {
	var out *C.httpqq_server
	if err := call(func(e *C.httpqq_error) C.int32_t { return C.httpqq_server_start(nil, nil, &out, e) }); err != nil {
		return nil, err
	}
	s := &Server{h: handle{ptr: unsafe.Pointer(out)}}
	runtime.SetFinalizer(s, (*Server).Close)
	return s, nil
}

// Endpoint is "host:port".
func (s *Server) Endpoint() string {
	var endpoint string
	_ = s.h.use(func(p unsafe.Pointer) error {
		endpoint = C.GoString(C.httpqq_server_endpoint((*C.httpqq_server)(p)))
		return nil
	})
	return endpoint
}

// Close stops it.
func (s *Server) Close() {
	s.h.close(func(p unsafe.Pointer) { C.httpqq_server_free((*C.httpqq_server)(p)) })
}

// Client is a client of one server.
type Client struct{ h handle }

// NewClient makes a client of endpoint ("host:port") whose requests give
// up after timeout.
func NewClient(endpoint string, timeout time.Duration) (*Client, error) {
	cEndpoint, err := cString(endpoint, "endpoint")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cEndpoint))
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
		return C.httpqq_client_builder_build(builder, &out, e)
	})
	if err != nil {
		return nil, err
	}
	c := &Client{h: handle{ptr: unsafe.Pointer(out)}}
	runtime.SetFinalizer(c, (*Client).Close)
	return c, nil
}

// Close frees it.
func (c *Client) Close() {
	c.h.close(func(p unsafe.Pointer) { C.httpqq_client_free((*C.httpqq_client)(p)) })
}

// Session is a logged-in account.
type Session struct {
	h   handle
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
	err = c.h.use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_client_login((*C.httpqq_client)(p), C.uint64_t(uin), cPassword, &out, e)
		})
	})
	if err != nil {
		return nil, err
	}
	s := &Session{h: handle{ptr: unsafe.Pointer(out)}, Uin: uin}
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
	return s.h.use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_session_send_message((*C.httpqq_session)(p), C.uint64_t(to), cText, e)
		})
	})
}

// Messages fetches the pending messages, oldest first.
func (s *Session) Messages() ([]Message, error) {
	var messages []Message
	err := s.h.use(func(p unsafe.Pointer) error {
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
	return s.h.use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t { return C.httpqq_session_logout((*C.httpqq_session)(p), e) })
	})
}

// Close frees it.
func (s *Session) Close() {
	s.h.close(func(p unsafe.Pointer) { C.httpqq_session_free((*C.httpqq_session)(p)) })
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

// Agent is a logged-in account that stays up: it polls, rides out failures
// with backoff, waits out penalties, logs in again, and reports it all as
// events (Next).
type Agent struct{ h handle }

// Agent starts an agent for uin that polls every pollInterval.
func (c *Client) Agent(uin uint64, password string, pollInterval time.Duration) (*Agent, error) {
	cPassword, err := cString(password, "password")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cPassword))
	options := C.httpqq_agent_options_new()
	defer C.httpqq_agent_options_free(options)
	var out *C.httpqq_agent
	err = c.h.use(func(p unsafe.Pointer) error {
		return call(func(e *C.httpqq_error) C.int32_t {
			if status := C.httpqq_agent_options_set_poll_interval_ms(options, C.uint64_t(pollInterval.Milliseconds()), e); status != 0 {
				return status
			}
			return C.httpqq_agent_start((*C.httpqq_client)(p), C.uint64_t(uin), cPassword, options, &out, e)
		})
	})
	if err != nil {
		return nil, err
	}
	a := &Agent{h: handle{ptr: unsafe.Pointer(out)}}
	runtime.SetFinalizer(a, (*Agent).Close)
	return a, nil
}

// ErrFinished is what Next gives once the last event (EventStopped) was
// taken.
var ErrFinished = errors.New("httpqq: the agent has stopped and its last event was taken")

// Next waits for the agent's next event until ctx is done (it looks at ctx
// every tenth of a second): ctx.Err() then, ErrFinished after the last.
func (a *Agent) Next(ctx context.Context) (Event, error) {
	for {
		if err := ctx.Err(); err != nil {
			return Event{}, err
		}
		var event Event
		var got bool
		err := a.h.use(func(p unsafe.Pointer) error {
			var out *C.httpqq_event
			err := call(func(e *C.httpqq_error) C.int32_t {
				return C.httpqq_agent_next_event((*C.httpqq_agent)(p), 100, &out, e)
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
				event.Err = &Error{Status: status, Message: C.GoString(C.httpqq_event_error_message(out))}
				if reason := C.httpqq_event_reason(out); reason != nil {
					event.Err.Reason = C.GoString(reason)
				}
			}
			return nil
		})
		if errors.Is(err, ErrStopped) {
			return Event{}, ErrFinished
		}
		if err != nil {
			return Event{}, err
		}
		if got {
			return event, nil
		}
	}
}

// Send sends a text message; a failure's Outcome says Refused or Unknown
// (sent, no reply). Never resent by itself.
func (a *Agent) Send(to uint64, text string) error {
	cText, err := cString(text, "text")
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cText))
	return a.h.use(func(p unsafe.Pointer) error {
		var outcome C.uint32_t
		return call(func(e *C.httpqq_error) C.int32_t {
			return C.httpqq_agent_send((*C.httpqq_agent)(p), C.uint64_t(to), cText, &outcome, e)
		})
	})
}

// Stop stops it; returns at once (its events end with EventStopped).
func (a *Agent) Stop() {
	_ = a.h.use(func(p unsafe.Pointer) error {
		C.httpqq_agent_stop((*C.httpqq_agent)(p))
		return nil
	})
}

// Close stops it, waits until it finished (it logs out), and frees it.
func (a *Agent) Close() {
	a.h.close(func(p unsafe.Pointer) { C.httpqq_agent_free((*C.httpqq_agent)(p)) })
}

// Version is libhttpqq's version.
func Version() string { return C.GoString(C.httpqq_version()) }

var _ = fmt.Sprint
