package controller

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"

	"github.com/klaxon-dev/klaxon/internal/bounded"
)

// recordEvent records an Event whose note is note, taken literally (it is
// no format string: a "%" in a title must stay a "%") and cut to the events
// API's limits, which would otherwise refuse the Event.
func recordEvent(recorder events.EventRecorder, obj runtime.Object, eventType, reason, action, note string) {
	recorder.Eventf(obj, nil, eventType, bounded.Bytes(reason, bounded.EventReason), bounded.Bytes(action, bounded.EventAction),
		"%s", bounded.Bytes(note, bounded.EventNote))
}
