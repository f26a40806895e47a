//go:build httpqq_static

// Built with -tags httpqq_static: libhttpqq.a (GNU ld's -l:), so that the
// archive is linked even where the shared library sits beside it, with the
// system libraries the Rust standard library needs (Linux).

package httpqq

// #cgo LDFLAGS: -l:libhttpqq.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"
