// Package handle holds a C object's pointer for packages httpqq and
// httpqqtest: used by many goroutines at once, freed once, never while in
// use.
package handle

import (
	"errors"
	"sync"
	"unsafe"
)

// ErrClosed is what a closed handle gives (httpqq.ErrClosed).
var ErrClosed = errors.New("httpqq: the handle is closed")

// Handle is a C pointer, nil once freed.
type Handle struct {
	mu  sync.RWMutex
	ptr unsafe.Pointer
}

// New holds ptr.
func New(ptr unsafe.Pointer) Handle { return Handle{ptr: ptr} }

// Use runs do with the pointer, which is not freed meanwhile; ErrClosed
// once it was.
func (h *Handle) Use(do func(ptr unsafe.Pointer) error) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.ptr == nil {
		return ErrClosed
	}
	return do(h.ptr)
}

// Close frees the pointer with free, once, after the uses in progress.
func (h *Handle) Close(free func(unsafe.Pointer)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ptr != nil {
		free(h.ptr)
		h.ptr = nil
	}
}
