//go:build !httpqq_static

package httpqq

// #cgo pkg-config: httpqq
import "C"
