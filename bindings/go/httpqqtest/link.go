// libhttpqq_testing and libhttpqq, found as package httpqq finds libhttpqq.

package httpqqtest

// #cgo LDFLAGS: -lhttpqq_testing -lhttpqq
import "C"
