// SPDX-License-Identifier: MIT

package wintun

/*
#include <wintun.h>
void wintun_go_logger(WINTUN_LOGGER_LEVEL level, uint64_t timestamp, const char *message);
*/
import "C"

import (
	"sync/atomic"
	"time"
)

// LogLevel is a message's level.
type LogLevel int

const (
	LogInfo LogLevel = C.WINTUN_LOG_INFO
	LogWarn LogLevel = C.WINTUN_LOG_WARN
	LogErr  LogLevel = C.WINTUN_LOG_ERR
)

// Logger receives the library's messages; it may be called from the
// library's engine threads, several at once.
type Logger func(level LogLevel, when time.Time, message string)

var logger atomic.Value // holds a Logger

// SetLogger installs the library's logger (WintunSetLogger); nil turns
// logging off.
func SetLogger(l Logger) {
	logger.Store(l)
	if l == nil {
		C.WintunSetLogger(nil)
		return
	}
	C.WintunSetLogger(C.WINTUN_LOGGER_CALLBACK(C.wintun_go_logger))
}

//export wintunGoLog
func wintunGoLog(level C.WINTUN_LOGGER_LEVEL, timestamp C.uint64_t, message *C.char) {
	if l, _ := logger.Load().(Logger); l != nil {
		l(LogLevel(level), time.Unix(0, int64(timestamp)), C.GoString(message))
	}
}
