package failqueue

import "testing"

func TestQueue(t *testing.T) {
	var q Queue
	if got := q.Pop(); got != 0 {
		t.Fatalf("an empty queue popped %d", got)
	}
	q.Push(429)
	q.Push(503)
	for _, want := range []int{429, 503, 0} {
		if got := q.Pop(); got != want {
			t.Errorf("Pop = %d, want %d", got, want)
		}
	}
}
