// Package httpqqtest runs the HTTP QQ reference server in the test's own
// process, over libhttpqq_testing, as net/http/httptest does for HTTP:
// start one, give its Endpoint to httpqq.NewClient, rehearse an outage
// with its controls, and Close it.
//
//	server, err := httpqqtest.Start()
//	if err != nil { t.Fatal(err) }
//	defer server.Close()
//	client, err := httpqq.NewClient(server.Endpoint(), 2*time.Second)
//
// Only the test binaries that import it link libhttpqq_testing; the
// program itself needs libhttpqq alone.
package httpqqtest

/*
#include <stdlib.h>
#include <httpqq_testing.h>
*/
import "C"

import (
	"runtime"
	"strings"
	"time"
	"unsafe"

	httpqq "github.com/httpqq/httpqq-go"
	"github.com/httpqq/httpqq-go/internal/handle"
)

// millis is d in whole milliseconds, 0 for a negative d.
func millis(d time.Duration) C.uint64_t {
	if d < 0 {
		return 0
	}
	return C.uint64_t(d / time.Millisecond)
}

// cString is a C copy of s; text with a NUL cannot reach C whole.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &httpqq.Error{Status: httpqq.StatusInvalidArgument, Message: what + " holds a NUL byte", Outcome: httpqq.Refused}
	}
	return C.CString(s), nil
}

// Server is the reference server, in this process (for tests).
type Server struct{ h handle.Handle }

// Start starts it on a free loopback port with the demo accounts
// (10001-10005, password "demo").
func Start() (*Server, error) { return start(false) }

// StartTLS starts it as Start does, with a second listener
// that speaks TLS with a certificate made at start (TLSEndpoint, CAPEM).
func StartTLS() (*Server, error) { return start(true) }

func start(tls bool) (*Server, error) {
	var out *C.httpqq_server
	if err := httpqq.CallWithError(func(e unsafe.Pointer) int32 {
		if tls {
			return int32(C.httpqq_server_start_tls(nil, nil, &out, (*C.httpqq_error)(e)))
		}
		return int32(C.httpqq_server_start(nil, nil, &out, (*C.httpqq_error)(e)))
	}); err != nil {
		return nil, err
	}
	s := &Server{h: handle.New(unsafe.Pointer(out))}
	runtime.SetFinalizer(s, (*Server).Close)
	return s, nil
}

// Endpoint is "host:port".
func (s *Server) Endpoint() string {
	var endpoint string
	_ = s.h.Use(func(p unsafe.Pointer) error {
		endpoint = C.GoString(C.httpqq_server_endpoint((*C.httpqq_server)(p)))
		return nil
	})
	return endpoint
}

// TLSEndpoint is "https://127.0.0.1:port" of the TLS listener; "" without.
func (s *Server) TLSEndpoint() string {
	var endpoint string
	s.with(func(p *C.httpqq_server) {
		if text := C.httpqq_server_tls_endpoint(p); text != nil {
			endpoint = C.GoString(text)
		}
	})
	return endpoint
}

// CAPEM is the TLS listener's certificate (PEM), for WithCAPEM; "" without.
func (s *Server) CAPEM() string {
	var pem string
	s.with(func(p *C.httpqq_server) {
		if text := C.httpqq_server_tls_ca_pem(p); text != nil {
			pem = C.GoString(text)
		}
	})
	return pem
}

// Close stops it.
func (s *Server) Close() {
	s.h.Close(func(p unsafe.Pointer) { C.httpqq_server_free((*C.httpqq_server)(p)) })
}

// The test controls: rehearse what a bot meets in the field. On a closed
// server they do nothing (and report false or 0).

func (s *Server) with(do func(*C.httpqq_server)) {
	_ = s.h.Use(func(p unsafe.Pointer) error {
		do((*C.httpqq_server)(p))
		return nil
	})
}

// ExpireSession ends uin's session as its idle timeout would; whether it
// had one.
func (s *Server) ExpireSession(uin uint64) (ended bool) {
	s.with(func(p *C.httpqq_server) { ended = bool(C.httpqq_server_expire_session(p, C.uint64_t(uin))) })
	return ended
}

// Throttle answers every request of uin with RES=3 for d.
func (s *Server) Throttle(uin uint64, d time.Duration) {
	s.with(func(p *C.httpqq_server) { C.httpqq_server_throttle(p, C.uint64_t(uin), millis(d)) })
}

// SetLatency delays every reply by d (0: none).
func (s *Server) SetLatency(d time.Duration) {
	s.with(func(p *C.httpqq_server) { C.httpqq_server_set_latency_ms(p, millis(d)) })
}

// Pause accepts connections but answers nothing until Resume.
func (s *Server) Pause() { s.with(func(p *C.httpqq_server) { C.httpqq_server_pause(p) }) }

// Resume answers again.
func (s *Server) Resume() { s.with(func(p *C.httpqq_server) { C.httpqq_server_resume(p) }) }

// StopListening closes the listening socket (connections are refused),
// keeping accounts and state, until Restart listens again on the same
// address.
func (s *Server) StopListening() {
	s.with(func(p *C.httpqq_server) { C.httpqq_server_stop_listening(p) })
}

// Restart listens again after StopListening.
func (s *Server) Restart() error {
	return s.h.Use(func(p unsafe.Pointer) error {
		return httpqq.CallWithError(func(e unsafe.Pointer) int32 {
			return int32(C.httpqq_server_restart((*C.httpqq_server)(p), (*C.httpqq_error)(e)))
		})
	})
}

// ChangePassword changes uin's password (its session ends); whether the
// account exists.
func (s *Server) ChangePassword(uin uint64, password string) (bool, error) {
	cPassword, err := cString(password, "password")
	if err != nil {
		return false, err
	}
	defer C.free(unsafe.Pointer(cPassword))
	var changed bool
	s.with(func(p *C.httpqq_server) {
		changed = bool(C.httpqq_server_change_password(p, C.uint64_t(uin), cPassword))
	})
	return changed, nil
}

// DropSessions, while on, ends every session right after its login (a NAT
// that changes the client's address).
func (s *Server) DropSessions(on bool) {
	s.with(func(p *C.httpqq_server) { C.httpqq_server_drop_sessions(p, C.bool(on)) })
}

// PasswordChecks counts the passwords checked since the start.
func (s *Server) PasswordChecks() (n uint64) {
	s.with(func(p *C.httpqq_server) { n = uint64(C.httpqq_server_password_checks(p)) })
	return n
}

// ConnectionsAccepted counts the connections accepted since the start.
func (s *Server) ConnectionsAccepted() (n uint64) {
	s.with(func(p *C.httpqq_server) { n = uint64(C.httpqq_server_connections_accepted(p)) })
	return n
}

// AnyResult, as RequestCount's result, counts every reply.
const AnyResult = -1

// RequestCount counts the requests of uin the server answered: of command
// only (its wire name, e.g. "CLTMSG"), unless it is ""; with result only
// (-2: the NULL), unless it is AnyResult.
func (s *Server) RequestCount(uin uint64, command string, result int64) (n uint64) {
	var cCommand *C.char
	if command != "" {
		var err error
		if cCommand, err = cString(command, "command"); err != nil {
			return 0
		}
		defer C.free(unsafe.Pointer(cCommand))
	}
	s.with(func(p *C.httpqq_server) {
		n = uint64(C.httpqq_server_request_count(p, C.uint64_t(uin), cCommand, C.int64_t(result)))
	})
	return n
}
