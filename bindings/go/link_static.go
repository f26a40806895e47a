//go:build httpqq_static

// Built with -tags httpqq_static: libhttpqq.a, named by its path, so that
// the archive is linked even where the .so sits beside it.

package httpqq

// #cgo pkg-config: httpqq-static
import "C"
