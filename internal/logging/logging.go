// Package logging builds the process logger (zerolog) and adapts it to the Temporal SDK's
// logger interface, so the SDK's own lines land in the same stream with the same format.
package logging

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/log"
)

// New returns a logger writing to w. format is json, console or auto (console when w is a
// terminal); level is debug, info, warn or error. Bad values fall back to json/info: config
// validation has already rejected them.
func New(w io.Writer, level, format string) zerolog.Logger {
	out := w
	switch strings.ToLower(format) {
	case "console":
		out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	case "auto":
		if isTerminal(w) {
			out = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
		}
	}
	lvl, err := zerolog.ParseLevel(strings.ToLower(level))
	if err != nil || lvl == zerolog.NoLevel {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(out).Level(lvl).With().Timestamp().Logger()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(f.Fd())) // not just a character device: /dev/null is one
}

// Temporal adapts a zerolog logger to the SDK's log.Logger and log.WithLogger.
type Temporal struct {
	zl zerolog.Logger
}

var (
	_ log.Logger     = Temporal{}
	_ log.WithLogger = Temporal{}
)

// NewTemporal wraps zl for client.Options.Logger.
func NewTemporal(zl zerolog.Logger) Temporal {
	return Temporal{zl: zl.With().Str("source", "temporal-sdk").Logger()}
}

// Debug logs at debug level.
func (t Temporal) Debug(msg string, keyvals ...any) { t.emit(t.zl.Debug(), msg, keyvals) }

// Info logs at info level.
func (t Temporal) Info(msg string, keyvals ...any) { t.emit(t.zl.Info(), msg, keyvals) }

// Warn logs at warn level.
func (t Temporal) Warn(msg string, keyvals ...any) { t.emit(t.zl.Warn(), msg, keyvals) }

// Error logs at error level.
func (t Temporal) Error(msg string, keyvals ...any) { t.emit(t.zl.Error(), msg, keyvals) }

// With returns a logger that adds keyvals to every line.
func (t Temporal) With(keyvals ...any) log.Logger {
	ctx := t.zl.With()
	for i := 0; i < len(keyvals); i += 2 {
		key, val := pair(keyvals, i)
		ctx = ctx.Interface(key, val)
	}
	return Temporal{zl: ctx.Logger()}
}

func (t Temporal) emit(ev *zerolog.Event, msg string, keyvals []any) {
	if ev == nil { // level disabled
		return
	}
	for i := 0; i < len(keyvals); i += 2 {
		key, val := pair(keyvals, i)
		if err, ok := val.(error); ok {
			ev = ev.AnErr(key, err)
			continue
		}
		ev = ev.Interface(key, val)
	}
	ev.Msg(msg)
}

// pair reads the key/value at i; an odd trailing value is kept under "EXTRA_VALUE".
func pair(keyvals []any, i int) (string, any) {
	if i+1 >= len(keyvals) {
		return "EXTRA_VALUE", keyvals[i]
	}
	key, ok := keyvals[i].(string)
	if !ok {
		key = fmt.Sprint(keyvals[i])
	}
	return key, keyvals[i+1]
}
