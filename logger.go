package ttrpc

// Logger receives the library's connection and handler events
// (WithServerLogger, WithClientLogger). A *slog.Logger satisfies it, and is
// what most programs pass. The package logs only through this interface,
// so a program that passes no logger links none of log/slog's handlers (nor
// encoding/json, which they use): about 280 KB of a minimal server.
type Logger interface {
	Debug(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// quietLogger is the default Logger: the library is quiet unless asked.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

var discardLogger Logger = quietLogger{}
