package receiver

import (
	"testing"
	"time"
)

// The tests of what a command answers wait for it as long as it may run,
// so that a loaded machine does not turn their answers into "Working on
// it…"; the tests of that answer shorten the wait.
func init() {
	commandSettings.wait.Store(int64(commandRunTimeout + time.Second))
}

// TuneSlackCommands makes /klaxon wait for a command's outcome wait before
// answering "Working on it…", run at most slots commands at once, and
// answer later at http response_urls (a local stand-in), until the test
// ends.
func TuneSlackCommands(t testing.TB, wait time.Duration, slots int) {
	t.Helper()
	oldWait, oldSlots, oldHTTP := commandSettings.wait.Load(), commandSettings.slots.Load(), commandSettings.plainHTTP.Load()
	commandSettings.wait.Store(int64(wait))
	commandSettings.slots.Store(int32(slots))
	commandSettings.plainHTTP.Store(true)
	t.Cleanup(func() {
		commandSettings.wait.Store(oldWait)
		commandSettings.slots.Store(oldSlots)
		commandSettings.plainHTTP.Store(oldHTTP)
	})
}
