//go:build !httpqq_static

// libhttpqq, found where CGO_CFLAGS and CGO_LDFLAGS say: the unpacked
// release archive's include/ and lib/ (see the README), or an install.

package httpqq

// #cgo LDFLAGS: -lhttpqq
import "C"
