// Package failqueue holds the failures a stand-in of a hosted service
// answers next, for tests of what a sender does with them.
package failqueue

import "sync"

// Queue is a queue of HTTP statuses. Its zero value is empty and ready;
// its methods are safe for concurrent use.
type Queue struct {
	mu       sync.Mutex
	statuses []int
}

// Push queues status to answer a request after those queued before.
func (q *Queue) Push(status int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.statuses = append(q.statuses, status)
}

// Pop takes the next status, 0 when none is queued.
func (q *Queue) Pop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.statuses) == 0 {
		return 0
	}
	s := q.statuses[0]
	q.statuses = q.statuses[1:]
	return s
}
