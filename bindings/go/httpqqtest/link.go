// libhttpqq_testing and libhttpqq: httpqq-testing.pc requires httpqq.

package httpqqtest

// #cgo pkg-config: httpqq-testing
import "C"
